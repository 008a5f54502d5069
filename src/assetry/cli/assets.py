"""``assets list|ingest|download`` and ``fsck``: files in the catalog and its object store."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from assetry.cli.commands import open_catalog
from assetry.cli.output import Output
from assetry.errors import IntegrityError, ValidationError

SHA_PREFIX = 12
"""How many hex digits of a SHA-256 the text output shows."""

ASSET_HEADER = ["RID", "FILENAME", "LENGTH", "SHA256", "ASSET_TYPE", "DESCRIPTION"]


def short_sha(sha256: Any) -> str:
    """The first ``SHA_PREFIX`` hex digits of a SHA-256, for people to read."""
    text = str(sha256 or "")
    return text[:SHA_PREFIX] + "…" if len(text) > SHA_PREFIX else text


def asset_cells(asset: Mapping[str, Any]) -> list[Any]:
    """One asset dict as the cells of ``ASSET_HEADER``."""
    return [
        asset.get("RID"),
        asset.get("Filename"),
        asset.get("Length"),
        short_sha(asset.get("SHA256")),
        asset.get("Asset_Type"),
        asset.get("Description"),
    ]


def asset_table(out: Output, assets: Iterable[Mapping[str, Any]], empty: str) -> None:
    """Write asset dicts as an aligned text table."""
    out.table(ASSET_HEADER, (asset_cells(a) for a in assets), empty=empty, full_last=True)


# --- assets ----------------------------------------------------------------------------------


def cmd_assets_list(args: argparse.Namespace, out: Output) -> None:
    """List the assets of one asset table, optionally of one asset type."""
    with open_catalog(args) as cat:
        assets = cat.list_assets(args.table, asset_type=args.type)
    if out.json_mode:
        out.json_list(assets)
        return
    kind = f" of type {args.type!r}" if args.type else ""
    empty = f"(no assets in {args.table}{kind})"
    asset_table(out, assets, empty=empty)


def cmd_assets_ingest(args: argparse.Namespace, out: Output) -> None:
    """Store files as assets of a table, recorded by an ``Ingest`` execution."""
    with open_catalog(args) as cat:
        assets = cat.upload_assets(
            args.table, args.files, asset_types=args.types, description=args.description
        )
    rids = [a["RID"] for a in assets]
    if out.json_mode:
        out.json({"table": args.table, "rids": rids, "assets": assets})
        return
    out.line(f"Ingested {len(assets)} file(s) into {args.table}:")
    header = ["RID", "FILENAME", "LENGTH", "SHA256"]
    rows = [
        [a["RID"], a.get("Filename"), a.get("Length"), short_sha(a.get("SHA256"))] for a in assets
    ]
    out.table(header, rows, empty="(nothing ingested)")


def cmd_assets_download(args: argparse.Namespace, out: Output) -> None:
    """Write one asset's verified bytes into a directory."""
    if Path(args.dest).exists() and not Path(args.dest).is_dir():
        raise ValidationError(f"{args.dest} exists and is not a directory")
    with open_catalog(args) as cat:
        path = cat.download_asset(args.rid, args.dest)
    if out.json_mode:
        out.json({"rid": args.rid.upper(), "path": str(path)})
    else:
        out.line(str(path))


# --- fsck ------------------------------------------------------------------------------------


def _problem_lines(report: Any) -> Iterator[str]:
    if report.missing:
        yield f"Missing objects ({len(report.missing)}): asset rows whose bytes are not stored"
        for m in report.missing:
            yield f"  {m['table']}/{m['rid']}  sha256 {m['sha256']}"
    if report.corrupt:
        yield f"Corrupt objects ({len(report.corrupt)}): stored bytes that fail their checksums"
        for c in report.corrupt:
            yield f"  {c['table']}/{c['rid']}  sha256 {c['sha256']}  found {c['found']}"


def _fsck_lines(report: Any, repair: bool, verify: bool) -> Iterator[str]:
    checked = "checked" if verify else "looked up (not verified: --no-verify)"
    verdict = "OK" if report.ok else "PROBLEMS FOUND"
    yield (
        f"fsck: {report.assets} asset row(s) {checked} against "
        f"{report.objects} stored object(s): {verdict}"
    )
    yield from _problem_lines(report)
    unreferenced = list(report.unreferenced)
    removed = set(report.removed)
    if unreferenced:
        yield f"Unreferenced objects ({len(unreferenced)}): no asset row or upload refers to them"
        for key in unreferenced:
            yield f"  {key}" + ("  (removed)" if key in removed else "")
        kept = len([k for k in unreferenced if k not in removed])
        if not repair:
            yield "Dry run: nothing was removed. `assetry fsck --repair` removes unreferenced"
            yield "objects older than the grace period (--grace SECONDS)."
        elif kept:
            yield f"Kept {kept} unreferenced object(s) younger than the grace period."
    if removed:
        yield f"Removed {len(removed)} unreferenced object(s)."


def _failure(report: Any) -> str:
    named = [f"{p['table']}/{p['rid']}" for p in [*report.missing, *report.corrupt]]
    shown = ", ".join(named[:3]) + (f" and {len(named) - 3} more" if len(named) > 3 else "")
    return (
        f"fsck found {len(report.missing)} missing and {len(report.corrupt)} corrupt "
        f"object(s): {shown}"
    )


def cmd_fsck(args: argparse.Namespace, out: Output) -> None:
    """Check every asset's object (exists, checksums match) and find stray objects."""
    with open_catalog(args) as cat:
        report = cat.fsck(repair=args.repair, grace_seconds=args.grace, verify=args.verify)
    if out.json_mode:
        out.json({**report.to_dict(), "ok": report.ok, "repair": args.repair})
    else:
        out.lines(_fsck_lines(report, args.repair, args.verify))
    if not report.ok:
        # The report is on stdout; the one-line error on stderr sets exit code 1.
        raise IntegrityError(_failure(report))
