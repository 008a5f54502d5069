"""``assets list|ingest|download`` and ``fsck``: files in the catalog and its object store."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetry.catalog import Catalog
from assetry.cli.commands import find_table, open_catalog
from assetry.cli.output import Output, summarized
from assetry.cli.tables import csv_value
from assetry.errors import IntegrityError, ValidationError

if TYPE_CHECKING:
    from assetry.cli.main import AddCommand, Group

SHA_PREFIX = 12
"""How many hex digits of a SHA-256 the text output shows."""

ASSET_HEADER = ["RID", "FILENAME", "LENGTH", "SHA256", "ASSET_TYPE", "DESCRIPTION"]
PRESENT_BATCH = 500  # RIDs looked up at once as of the snapshot before an ingest
FILE_COLUMNS = ("URL", "Filename", "Length", "MD5", "SHA256", "Description")
"""The columns every asset table has, set by ingest itself (not by ``--set``)."""


def register(command: AddCommand, sub: Group) -> None:
    """Add ``assets list|ingest|download`` and ``fsck`` to the parser."""
    from assetry.cli.main import _column_value, _non_negative_seconds

    group = command(sub, "assets", None, "files stored as assets of asset tables")
    asub = group.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    p = command(asub, "list", cmd_assets_list, "list the assets of an asset table")
    p.add_argument("table", metavar="TABLE")
    p.add_argument("--type", metavar="ASSET_TYPE", help="only assets of this Asset_Type term")
    p = command(asub, "ingest", cmd_assets_ingest, "store files as assets of a table")
    p.add_argument("table", metavar="TABLE")
    p.add_argument(
        "files", metavar="PATH", nargs="+", help="files, or folders to ingest recursively"
    )
    p.add_argument(
        "--glob",
        metavar="PATTERN",
        help="only files in the folders whose name matches PATTERN, e.g. '*.png' "
        "(files named on the command line are always ingested)",
    )
    p.add_argument(
        "--set",
        dest="values",
        type=_column_value,
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help="a value of the table's own column for every new asset (repeatable)",
    )
    p.add_argument(
        "--type",
        dest="types",
        metavar="T",
        action="extend",
        nargs="+",
        help="Asset_Type term of the new assets (repeatable; default: the table's own)",
    )
    p.add_argument(
        "--description", metavar="D", help="what this ingest is (recorded on its execution)"
    )
    p.add_argument("--all", action="store_true", help="list every file (default: first 20)")
    p = command(asub, "download", cmd_assets_download, "write an asset's verified file")
    p.add_argument("rid", metavar="RID")
    p.add_argument("dest", metavar="DEST_DIR", help="directory to write into (created if needed)")

    p = command(sub, "fsck", cmd_fsck, "check stored objects against the asset rows")
    p.add_argument(
        "--repair",
        action="store_true",
        help="remove unreferenced objects older than the grace period (default: dry run)",
    )
    p.add_argument(
        "--grace",
        type=_non_negative_seconds,
        default=3600.0,
        metavar="SECONDS",
        help="keep unreferenced objects younger than this (default: 3600)",
    )
    p.add_argument(
        "--no-verify",
        dest="verify",
        action="store_false",
        help="only check that objects exist; do not re-read their checksums",
    )
    p.add_argument("--all", action="store_true", help="list every object (default: first 20)")


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


def collect_files(paths: Sequence[str], pattern: str | None) -> list[Path]:
    """The files to ingest: each named file, and the files inside each named folder
    (recursively, sorted, only names matching ``pattern`` when given)."""
    found: list[Path] = []
    problems: list[str] = []
    for name in paths:
        path = Path(name)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            inside = sorted(p for p in path.rglob(pattern or "*") if p.is_file())
            if not inside:
                matching = f" matching {pattern!r}" if pattern else ""
                problems.append(f"folder {name} has no files{matching}")
            found.extend(inside)
        elif path.exists():
            problems.append(f"{name} is neither a file nor a folder")
        else:
            problems.append(f"{name} does not exist")
    if problems:
        raise ValidationError(problems)
    return found


def _column_values(
    cat: Catalog, table: str, pairs: list[tuple[str, str]]
) -> tuple[str, dict[str, Any]]:
    """The asset table's canonical name and the ``--set`` values converted to its
    columns' types; an unknown table, a non-asset table or an unknown column is an
    error."""
    model = find_table(cat.model, table)
    if model["kind"] != "asset":
        raise ValidationError(f"{model['name']!r} is a {model['kind']} table, not an asset table")
    columns = {
        c["name"]: c["type"]
        for c in model["columns"]
        if not c.get("system") and c["name"] not in FILE_COLUMNS
    }
    values: dict[str, Any] = {}
    for column, text in pairs:
        if column not in columns:
            own = ", ".join(sorted(columns)) or "none"
            raise ValidationError(
                f"--set {column}: {model['name']} has no such column of its own (its own: {own})"
            )
        values[column] = csv_value(columns[column], text)
    return model["name"], values


def ingest(
    cat: Catalog,
    table: str,
    files: Sequence[Path],
    asset_types: list[str] | None,
    values: Mapping[str, Any],
    description: str | None,
) -> tuple[list[dict[str, Any]], set[str]]:
    """Ingest ``files`` into ``table`` with ``Catalog.upload_assets`` (which checks the
    table, the types and the values before it creates anything); return one asset dict
    per file and the RIDs that were already present (same bytes, same file name, same
    table): the rows that existed at the snapshot before the ingest."""
    before = cat.snapshot()
    assets = cat.upload_assets(
        table, list(files), asset_types=asset_types, description=description, columns=values
    )
    rids = list(dict.fromkeys(a["RID"] for a in assets))
    present: set[str] = set()
    for start in range(0, len(rids), PRESENT_BATCH):
        chunk = rids[start : start + PRESENT_BATCH]
        old = cat.get_table_as_dict(table, filters={"RID": chunk}, as_of=before)
        present.update(row["RID"] for row in old)
    return assets, present


def _ingest_rows(assets: Iterable[Mapping[str, Any]]) -> Iterator[list[Any]]:
    for a in assets:
        yield [a["RID"], a.get("Filename"), a.get("Length"), short_sha(a.get("SHA256"))]


def cmd_assets_ingest(args: argparse.Namespace, out: Output) -> None:
    """Store files (and the files in folders) as assets of a table, recorded by an
    ``Ingest`` execution; files already there (same bytes and name) are reported as
    already present."""
    files = collect_files(args.files, args.glob)
    with open_catalog(args) as cat:
        table, values = _column_values(cat, args.table, args.values)
        assets, present = ingest(cat, table, files, args.types, values, args.description)
    rids = [a["RID"] for a in assets]
    new = [a for a in assets if a["RID"] not in present]
    old = [a for a in assets if a["RID"] in present]
    if out.json_mode:
        out.json(
            {
                "table": table,
                "rids": rids,
                "ingested": [a["RID"] for a in new],
                "already_present": [a["RID"] for a in old],
                "assets": assets,
            }
        )
        return
    header = ["RID", "FILENAME", "LENGTH", "SHA256"]
    if new or not old:
        out.line(f"Ingested {len(new)} file(s) into {table}:")
        out.summary_table(header, _ingest_rows(new), empty="(nothing new)", show_all=args.all)
    if old:
        if new:
            out.line()
        out.line(
            f"Already present in {table} ({len(old)} file(s), same bytes and name): "
            "nothing added for them"
        )
        out.summary_table(header, _ingest_rows(old), empty="(none)", show_all=args.all)


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


def _listing(rows: Iterable[tuple[str, str]], show_all: bool) -> Iterator[str]:
    """Indented lines of (name, details), names padded to the longest shown (so RIDs of
    any length line up): the first 20 (all with ``show_all``), then how many more."""
    summary = summarized(rows, show_all)
    width = max((len(name) for name, _ in summary.shown), default=0)
    for name, details in summary.shown:
        yield f"  {name.ljust(width)}  {details}".rstrip()
    more = summary.more()
    if more:
        yield "  " + more


def _problem_lines(report: Any, show_all: bool) -> Iterator[str]:
    if report.missing:
        yield f"Missing objects ({len(report.missing)}): asset rows whose bytes are not stored"
        rows = ((f"{m['table']}/{m['rid']}", f"sha256 {m['sha256']}") for m in report.missing)
        yield from _listing(rows, show_all)
    if report.corrupt:
        yield f"Corrupt objects ({len(report.corrupt)}): stored bytes that fail their checksums"
        rows = (
            (
                f"{c['table']}/{c['rid']}",
                f"sha256 {c['sha256']}  found {c['found']}"
                + (f"  in store {c['store']}" if c.get("store") else ""),
            )
            for c in report.corrupt
        )
        yield from _listing(rows, show_all)


def _fsck_lines(report: Any, repair: bool, verify: bool, show_all: bool = False) -> Iterator[str]:
    checked = "checked" if verify else "looked up (not verified: --no-verify)"
    verdict = "OK" if report.ok else "PROBLEMS FOUND"
    yield (
        f"fsck: {report.assets} asset row(s) {checked} against "
        f"{report.objects} stored object(s): {verdict}"
    )
    yield from _problem_lines(report, show_all)
    unreferenced = list(report.unreferenced)
    removed = set(report.removed)
    if unreferenced:
        yield f"Unreferenced objects ({len(unreferenced)}): no asset row or upload refers to them"
        rows = ((key, "(removed)" if key in removed else "") for key in unreferenced)
        yield from _listing(rows, show_all)
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
        out.lines(_fsck_lines(report, args.repair, args.verify, args.all))
    if not report.ok:
        # The report is on stdout; the one-line error on stderr sets exit code 1.
        raise IntegrityError(_failure(report))
