"""``dataset create|add|remove|element-type|members|version|history|list``: versioned
collections of catalog rows."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from assetry.catalog import Catalog
from assetry.cli.commands import open_catalog
from assetry.cli.output import Output, summarized, text_value
from assetry.errors import AssetryError, ValidationError

if TYPE_CHECKING:
    from assetry.cli.main import AddCommand, Group

COMPONENTS = ("major", "minor", "patch")


def register(command: AddCommand, sub: Group) -> None:
    """Add the ``dataset`` command and its subcommands to the parser."""
    group = command(sub, "dataset", None, "datasets: versioned collections of rows")
    dsub = group.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    p = command(dsub, "create", cmd_dataset_create, "create a dataset; print its RID")
    p.add_argument(
        "--type",
        dest="types",
        metavar="T",
        action="extend",
        nargs="+",
        help="Dataset_Type term (repeatable)",
    )
    p.add_argument("--description", metavar="D", help="what the dataset is")
    p.add_argument("--version", default="0.1.0", metavar="V", help="first version (0.1.0)")
    p = command(
        dsub, "element-type", cmd_dataset_element_type, "let a table's rows be dataset members"
    )
    p.add_argument("table", metavar="TABLE")
    for name, handler, help_text in (
        ("add", cmd_dataset_add, "add members (mints the next minor version)"),
        ("remove", cmd_dataset_remove, "remove members (mints the next minor version)"),
    ):
        p = command(dsub, name, handler, help_text)
        p.add_argument("dataset", metavar="DATASET", help="RID of the dataset")
        p.add_argument("rids", metavar="RID", nargs="+", help="member RIDs (rows or datasets)")
        p.add_argument("--description", metavar="D", help="description of the new version")
    p = command(dsub, "members", cmd_dataset_members, "the members of a version, by table")
    p.add_argument("dataset", metavar="DATASET", help="RID of the dataset")
    p.add_argument("--version", metavar="V", help="version to read (default: the latest)")
    p.add_argument("--recurse", action="store_true", help="add nested datasets' members")
    p.add_argument(
        "--all", action="store_true", help="list every member (default: first 20 per table)"
    )
    p = command(dsub, "version", cmd_dataset_version, "mint the next version; print it")
    p.add_argument("dataset", metavar="DATASET", help="RID of the dataset")
    p.add_argument("component", choices=COMPONENTS, help="which part of the version to bump")
    p.add_argument("--description", metavar="D", help="what changed")
    p = command(dsub, "history", cmd_dataset_history, "every version of a dataset")
    p.add_argument("dataset", metavar="DATASET", help="RID of the dataset")
    p = command(dsub, "list", cmd_dataset_list, "list datasets with their latest version")
    p.add_argument("--type", metavar="T", help="only datasets of this Dataset_Type")


def _latest(cat: Catalog, rid: str) -> tuple[str, str]:
    """``(canonical RID, latest version)`` of a dataset; ``RIDNotFound`` when there is none."""
    latest = cat.dataset_history(rid)[-1]
    return latest.dataset, latest.version


# --- dataset create, element-type ------------------------------------------------------------


def cmd_dataset_create(args: argparse.Namespace, out: Output) -> None:
    """Create a dataset, recording its first version; print its RID."""
    with open_catalog(args) as cat:
        rid = cat.create_dataset(
            dataset_types=args.types, description=args.description, version=args.version
        )
        _, version = _latest(cat, rid)
        types = [cat.lookup_term("Dataset_Type", t).name for t in args.types or []]
    if out.json_mode:
        out.json(
            {
                "rid": rid,
                "version": version,
                "dataset_types": types,
                "description": args.description,
            }
        )
    else:
        out.line(rid)


def cmd_dataset_element_type(args: argparse.Namespace, out: Output) -> None:
    """Let the rows of a table be dataset members."""
    with open_catalog(args) as cat:
        association = cat.add_dataset_element_type(args.table)
        element_types = cat.list_dataset_element_types()
    if out.json_mode:
        out.json({"table": args.table, "association": association, "element_types": element_types})
    else:
        out.line(f"Rows of {args.table} can be dataset members (membership table {association})")


# --- dataset add, remove ---------------------------------------------------------------------


def _not_element_types(cat: Catalog, rids: list[str]) -> dict[str, str]:
    """``{table: first RID}`` of the tables of ``rids`` whose rows cannot be dataset
    members (datasets always can)."""
    allowed = {t.lower() for t in cat.list_dataset_element_types()} | {"dataset"}
    missing: dict[str, str] = {}
    for rid in rids:
        try:
            table = cat.resolve_rid(rid).table
        except AssetryError:
            continue  # the catalog's own error names an unknown RID
        if table.lower() not in allowed:
            missing.setdefault(table, rid)
    return missing


def _membership_change(args: argparse.Namespace, out: Output, adding: bool) -> None:
    with open_catalog(args) as cat:
        dataset, before = _latest(cat, args.dataset)
        if adding:
            try:
                version = cat.add_dataset_members(dataset, args.rids, description=args.description)
            except ValidationError:
                tables = _not_element_types(cat, args.rids)
                if not tables:
                    raise
                rows = ", ".join(f"{rid} is a row of {t!r}" for t, rid in tables.items())
                commands = " and ".join(f"`assetry dataset element-type {t}`" for t in tables)
                raise ValidationError(
                    f"{rows}, which is not a dataset element type yet: run {commands} first"
                ) from None
        else:
            version = cat.delete_dataset_members(dataset, args.rids, description=args.description)
    if out.json_mode:
        out.json(
            {
                "dataset": dataset,
                "changed": version is not None,
                "version": version or before,
                "previous_version": before,
            }
        )
    elif version is not None:
        out.line(version)
    else:
        why = "already members" if adding else "not members"
        out.line(
            f"Nothing changed: the RIDs are {why} of dataset {dataset} (still version {before})"
        )


def cmd_dataset_add(args: argparse.Namespace, out: Output) -> None:
    """Add members to a dataset; print the version that minted (or that nothing changed)."""
    _membership_change(args, out, adding=True)


def cmd_dataset_remove(args: argparse.Namespace, out: Output) -> None:
    """Remove members from a dataset; print the version that minted (or that nothing
    changed)."""
    _membership_change(args, out, adding=False)


# --- dataset members -------------------------------------------------------------------------


def cmd_dataset_members(args: argparse.Namespace, out: Output) -> None:
    """The members of a dataset version, by table."""
    with open_catalog(args) as cat:
        dataset, latest = _latest(cat, args.dataset)
        members = cat.list_dataset_members(dataset, version=args.version, recurse=args.recurse)
    version = args.version or latest
    if out.json_mode:
        out.json(
            {"dataset": dataset, "version": version, "recurse": args.recurse, "members": members}
        )
        return
    nested = ", with the members of nested datasets" if args.recurse else ""
    count = sum(len(rows) for rows in members.values())
    out.line(f"Dataset {dataset} version {version}: {count} member(s){nested}")
    for table, rows in members.items():
        out.line()
        out.line(f"{table} ({len(rows)}):")
        summary = summarized(rows, args.all)
        out.rows(summary.shown, indent="  ")
        more = summary.more()
        if more:
            out.line("  " + more)


# --- dataset version, history, list ----------------------------------------------------------


def cmd_dataset_version(args: argparse.Namespace, out: Output) -> None:
    """Mint the next major, minor or patch version of a dataset; print it."""
    with open_catalog(args) as cat:
        dataset, before = _latest(cat, args.dataset)
        version = cat.increment_dataset_version(dataset, args.component, args.description)
    if out.json_mode:
        out.json({"dataset": dataset, "version": version, "previous_version": before})
    else:
        out.line(version)


def cmd_dataset_history(args: argparse.Namespace, out: Output) -> None:
    """Every version of a dataset, oldest first."""
    with open_catalog(args) as cat:
        history = cat.dataset_history(args.dataset)
    if out.json_mode:
        out.json_list([v.to_dict() for v in history])
        return
    header = ["VERSION", "SNAPSHOT", "CREATED", "DESCRIPTION"]
    rows = ([v.version, v.snapshot, v.created, v.description] for v in history)
    out.table(header, rows, empty="(no versions)", full_last=True)


def _list_cells(row: dict[str, Any]) -> list[Any]:
    return [
        row["RID"],
        row.get("Version"),
        text_value(row.get("Dataset_Type")),
        row.get("Description"),
    ]


def cmd_dataset_list(args: argparse.Namespace, out: Output) -> None:
    """Datasets (optionally of one type) with their types and latest version."""
    with open_catalog(args) as cat:
        datasets = cat.find_datasets(dataset_type=args.type)
    if out.json_mode:
        out.json_list(datasets)
        return
    kind = f" of type {args.type!r}" if args.type else ""
    header = ["RID", "VERSION", "TYPE", "DESCRIPTION"]
    rows = (_list_cells(row) for row in datasets)
    out.table(header, rows, empty=f"(no datasets{kind})", full_last=True)
