"""``bag export|download|validate|materialize|import``: BagIt bags (RFC 8493) of dataset
versions."""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetry.api.bags import ARCHIVES
from assetry.bags.validate import load_structure
from assetry.cli.commands import open_catalog
from assetry.cli.output import Output
from assetry.errors import BagError, NotFoundError, ValidationError
from assetry.records.datasets import DatasetSpec

if TYPE_CHECKING:
    from assetry.bags.reader import DatasetBag
    from assetry.cli.main import AddCommand, Group


def register(command: AddCommand, sub: Group) -> None:
    """Add the ``bag`` command and its subcommands to the parser."""
    group = command(sub, "bag", None, "BagIt bags of dataset versions")
    bsub = group.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    p = command(bsub, "export", cmd_bag_export, "write the bag of a dataset version")
    p.add_argument("dataset", metavar="DATASET", help="RID of the dataset")
    p.add_argument("--version", metavar="V", help="version to export (default: the latest)")
    p.add_argument("--dest", default=".", metavar="DIR", help="directory to write into (.)")
    p.add_argument("--archive", choices=ARCHIVES, help="write one archive instead of a folder")
    p.add_argument(
        "--no-materialize",
        dest="materialize",
        action="store_false",
        help="list asset files in fetch.txt instead of copying them",
    )
    p.add_argument(
        "--link", action="store_true", help="hard-link payload files (read-only) instead of copying"
    )
    p = command(bsub, "download", cmd_bag_download, "get a dataset version's bag; print its folder")
    p.add_argument("dataset", metavar="DATASET", help="RID of the dataset")
    p.add_argument("--version", metavar="V", help="version to download (default: the latest)")
    p.add_argument(
        "--dest", metavar="DIR", help="directory to keep it in (default: the catalog's own)"
    )
    p.add_argument(
        "--no-materialize",
        dest="materialize",
        action="store_false",
        help="do not fetch the asset files fetch.txt lists",
    )
    p = command(bsub, "validate", cmd_bag_validate, "check a bag (folder or archive)")
    p.add_argument("path", metavar="PATH", help="bag folder or archive")
    p.add_argument("--fast", action="store_true", help="check structure and sizes, not checksums")
    p = command(bsub, "materialize", cmd_bag_materialize, "fetch the files fetch.txt lists")
    p.add_argument("path", metavar="PATH", help="bag folder")
    p.add_argument("--all", action="store_true", help="list every file (default: first 20)")
    p.add_argument(
        "--references",
        action="store_true",
        help="also fetch the bytes of artifact versions' external references",
    )
    p = command(bsub, "import", cmd_bag_import, "load a bag into the catalog")
    p.add_argument("path", metavar="PATH", help="bag folder or archive")


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def _open_bag(path_text: str, work_dir: str | None = None) -> DatasetBag:
    """The bag at ``path_text``: a folder, or an archive extracted into ``work_dir``
    (default: next to the archive)."""
    from assetry.bags.reader import DatasetBag

    if not Path(path_text).exists():
        raise NotFoundError(f"no bag at {path_text}: it does not exist")
    return DatasetBag(path_text, work_dir=work_dir)


@contextlib.contextmanager
def _scratch(path_text: str) -> Iterator[str | None]:
    """A temporary folder to extract an archive into (removed after), None for a folder."""
    if Path(path_text).is_dir():
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="assetry-bag-") as work_dir:
        yield work_dir


def _bag_summary(bag: DatasetBag, path: str | Path) -> dict[str, Any]:
    return {
        "path": str(path),
        "dataset": bag.dataset_rid,
        "version": bag.version,
        "complete": bag.is_complete,
    }


def _describe(bag: DatasetBag) -> str:
    if bag.dataset_rid is None:
        return "bag"
    return f"bag of dataset {bag.dataset_rid} version {bag.version}"


# --- bag export, download --------------------------------------------------------------------


def _check_dest(dest: str | None) -> None:
    if dest is not None and Path(dest).exists() and not Path(dest).is_dir():
        raise ValidationError(f"{dest} exists and is not a directory")


def cmd_bag_export(args: argparse.Namespace, out: Output) -> None:
    """Write the bag of a dataset version (a folder, or a zip or tgz archive)."""
    _check_dest(args.dest)
    with open_catalog(args) as cat:
        latest = cat.dataset_history(args.dataset)[-1]
        version = args.version or latest.version
        spec = DatasetSpec(latest.dataset, version, materialize=args.materialize)
        path = cat.export_dataset_bag(spec, dest=args.dest, archive=args.archive, link=args.link)
    if out.json_mode:
        out.json(
            {
                "dataset": latest.dataset,
                "version": version,
                "path": str(path),
                "archive": args.archive,
                "materialized": args.materialize,
                "linked": args.link,
            }
        )
    else:
        out.line(str(path))


def cmd_bag_download(args: argparse.Namespace, out: Output) -> None:
    """Download (or reuse) the bag of a dataset version; print its folder."""
    _check_dest(args.dest)
    spec = DatasetSpec(args.dataset, args.version, materialize=args.materialize)
    with open_catalog(args) as cat:
        bag = cat.download_dataset_bag(spec, dest=args.dest)
    if out.json_mode:
        out.json(_bag_summary(bag, bag.path))
    else:
        out.line(str(bag.path))


# --- bag validate ----------------------------------------------------------------------------


def cmd_bag_validate(args: argparse.Namespace, out: Output) -> None:
    """Validate a bag: exit 0 when valid, 1 with the reason on one line when not."""
    with _scratch(args.path) as work_dir:
        try:
            bag = _open_bag(args.path, work_dir)
            report = bag.validate(fast=args.fast)
            summary = _bag_summary(bag, args.path)
        except BagError as err:
            if out.json_mode:  # the verdict on stdout; the one-line error on stderr (exit 1)
                out.json(
                    {"path": args.path, "valid": False, "fast": args.fast, "error": _one_line(err)}
                )
            raise
    warnings = [" ".join(str(w).split()) for w in report.warnings]
    if out.json_mode:
        out.json({**summary, "valid": True, "fast": args.fast, "warnings": warnings})
        return
    how = " (fast: checksums not verified)" if args.fast else ""
    out.line(f"{args.path}: valid {_describe(bag)}{how}")
    for warning in warnings:
        out.line(f"  warning: {warning}")


# --- bag materialize -------------------------------------------------------------------------


def cmd_bag_materialize(args: argparse.Namespace, out: Output) -> None:
    """Fetch every file ``fetch.txt`` lists that is not in the bag yet, and verify it."""
    bag = _open_bag(args.path)
    pending = [e for e in load_structure(bag.path).fetch if not (bag.path / e.path).is_file()]
    bag.materialize(references=args.references)
    fetched = [e for e in pending if (bag.path / e.path).is_file()]
    if out.json_mode:
        out.json(
            {
                **_bag_summary(bag, bag.path),
                "fetched": [{"path": e.path, "url": e.url, "length": e.length} for e in fetched],
            }
        )
        return
    if not fetched:
        state = "is complete" if bag.is_complete else "lacks no file that fetch.txt lists"
        out.line(f"Nothing to fetch: {bag.path} {state}")
        return
    out.line(f"Fetched {len(fetched)} file(s) into {bag.path}:")
    rows = ([e.path, e.length, e.url] for e in fetched)
    out.summary_table(
        ["PATH", "LENGTH", "URL"],
        rows,
        empty="(none)",
        show_all=args.all,
        full_last=True,
        indent="  ",
    )


# --- bag import ------------------------------------------------------------------------------


def cmd_bag_import(args: argparse.Namespace, out: Output) -> None:
    """Load a bag into the catalog: rows, terms, assets and model, with their RIDs."""
    with _scratch(args.path) as work_dir, open_catalog(args) as cat:
        bag = _open_bag(args.path, work_dir)
        added = cat.import_bag(bag)
        summary = _bag_summary(bag, args.path)
    total = sum(added.values())
    if out.json_mode:
        out.json({**summary, "added": added, "total": total})
        return
    source = _describe(bag)
    if not total:
        out.line(f"Nothing new: every row of the {source} is in the catalog already")
        return
    out.line(f"Imported {total} new row(s) from the {source}:")
    rows = ([table, count] for table, count in added.items() if count)
    out.table(["TABLE", "ROWS"], rows, empty="(none)", indent="  ")
