"""``table list|show|rows|create|index``, ``asset create`` and ``rows insert|update``: the model's
tables and the rows in them."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetry.cli import commands
from assetry.cli.commands import find_table, open_catalog
from assetry.cli.output import Output
from assetry.errors import NotFoundError, ValidationError
from assetry.records.definitions import BuiltinType, ColumnDef, TableDef

if TYPE_CHECKING:
    from assetry.cli.main import AddCommand, Group

TABLE_KINDS = ("table", "asset", "vocabulary", "association", "system")
FORMATS = ("csv", "json")
COLUMN_HELP = (
    "a column NAME:TYPE, with a trailing ! for NOT NULL (repeatable); TYPE is one of "
    "text, markdown, int2, int4, int8, float4, float8, boolean, date, timestamp, "
    "timestamptz, json, uri or a DerivaML alias (jsonb, longtext, ermrest_uri, ...)"
)


def register(command: AddCommand, sub: Group) -> None:
    """Add ``table``, ``asset create`` and ``rows`` to the parser."""
    from assetry.cli.main import _column_value, _non_negative

    table = command(sub, "table", None, "tables and their rows")
    tsub = table.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    p = command(tsub, "list", commands.cmd_table_list, "list tables")
    p.add_argument("--kind", choices=TABLE_KINDS, help="only tables of this kind")
    p = command(tsub, "show", commands.cmd_table_show, "describe a table's columns and keys")
    p.add_argument("table", metavar="TABLE")
    p = command(tsub, "rows", commands.cmd_table_rows, "list a table's rows")
    p.add_argument("table", metavar="TABLE")
    p.add_argument("--limit", type=_non_negative, metavar="N", help="at most N rows")
    p.add_argument("--offset", type=_non_negative, default=0, metavar="N", help="skip N rows")
    p.add_argument(
        "--filter",
        dest="filters",
        type=_column_value,
        action="append",
        default=[],
        metavar="COL=VALUE",
        help="only rows whose COL equals VALUE (repeatable; a repeated COL matches any)",
    )
    p.add_argument(
        "--as-of", type=_non_negative, metavar="SNAPSHOT", help="read as of a past snapshot"
    )
    p.add_argument(
        "--all-columns", action="store_true", help="also show RCT, RMT, RCB, RMB in text output"
    )
    p = command(tsub, "create", cmd_table_create, "create a plain table")
    _definition_arguments(p)
    p = command(tsub, "index", cmd_table_index, "index columns that reads filter on")
    p.add_argument("table", metavar="TABLE")
    p.add_argument(
        "columns", nargs="+", metavar="COLUMN", help="the columns of one index, in order"
    )

    group = command(sub, "asset", None, "asset tables: one row per immutable file")
    asub = group.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    p = command(asub, "create", cmd_asset_create, "create an asset table (file columns added)")
    _definition_arguments(p)

    group = command(sub, "rows", None, "insert or update rows from a CSV or JSON file")
    rsub = group.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    for name, handler, help_text in (
        ("insert", cmd_rows_insert, "insert the rows of a file; print their RIDs"),
        ("update", cmd_rows_update, "change rows given by RID plus the columns to set"),
    ):
        p = command(rsub, name, handler, help_text)
        p.add_argument("table", metavar="TABLE")
        p.add_argument(
            "file",
            metavar="FILE",
            help="FILE.csv (header row; an empty field is NULL) or FILE.json (a list of "
            "objects); - reads standard input",
        )
        p.add_argument(
            "--format", choices=FORMATS, help="csv or json (default: from the file's extension)"
        )
        p.add_argument("--all", action="store_true", help="print every RID (default: first 20)")


def _definition_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--column", dest="columns", action="append", default=[], metavar="NAME:TYPE[!]",
        help=COLUMN_HELP,
    )  # fmt: skip
    p.add_argument(
        "--ref", dest="refs", action="append", default=[], metavar="TABLE",
        help="add a column named TABLE referencing that table (a vocabulary: its term names)",
    )  # fmt: skip
    p.add_argument("--comment", metavar="TEXT", help="what the table is for")


def parse_column(spec: str) -> ColumnDef:
    """``NAME:TYPE`` (``!`` at the end: NOT NULL; no ``:TYPE``: text) as a ColumnDef."""
    text = spec.strip()
    nullok = not text.endswith("!")
    text = text.rstrip("!").strip()
    name, sep, kind = text.partition(":")
    name, kind = name.strip(), kind.strip()
    if not name or (sep and not kind):
        raise ValidationError(f"--column {spec!r} is not NAME:TYPE (e.g. Age:int4 or Name:text!)")
    return ColumnDef(name, BuiltinType.parse(kind or "text"), nullok=nullok)


def _created(out: Output, cat: Any, name: str, what: str) -> None:
    table = find_table(cat.model, name)
    if out.json_mode:
        out.json(table)
        return
    columns = [c["name"] for c in table["columns"] if not c.get("system")]
    out.line(f"Created {what} {table['name']!r} with columns: {', '.join(columns)}")


def cmd_table_create(args: argparse.Namespace, out: Output) -> None:
    """Create a plain table from ``--column`` and ``--ref`` options."""
    columns = [parse_column(c) for c in args.columns]
    definition = TableDef(
        args.name, column_defs=columns, referenced_tables=args.refs, comment=args.comment
    )
    with open_catalog(args) as cat:
        name = cat.create_table(definition)
        _created(out, cat, name, "table")


def cmd_table_index(args: argparse.Namespace, out: Output) -> None:
    """Index the given columns of a table (nothing changes if the index exists)."""
    with open_catalog(args) as cat:
        cat.create_index(args.table, list(args.columns))
    if out.json_mode:
        out.json({"table": args.table, "columns": list(args.columns)})
        return
    out.line(f"Indexed {args.table}({', '.join(args.columns)})")


def cmd_asset_create(args: argparse.Namespace, out: Output) -> None:
    """Create an asset table from ``--column`` and ``--ref`` options."""
    columns = [parse_column(c) for c in args.columns]
    with open_catalog(args) as cat:
        name = cat.create_asset(
            args.name, column_defs=columns, referenced_tables=args.refs, comment=args.comment
        )
        _created(out, cat, name, "asset table")


# --- rows insert, update ---------------------------------------------------------------------


def _read_text(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise NotFoundError(f"file {name} does not exist") from None
    except IsADirectoryError:
        raise ValidationError(f"{name} is a directory, not a CSV or JSON file") from None
    except UnicodeDecodeError as err:
        raise ValidationError(f"{name} is not UTF-8 text: {err}") from None


def _format(name: str, given: str | None) -> str:
    if given:
        return given
    suffix = Path(name).suffix.lower()
    if suffix in (".csv", ".json"):
        return suffix[1:]
    if name == "-":
        return "json"
    raise ValidationError(f"{name}: cannot tell CSV from JSON by its name; add --format csv|json")


_BOOLEANS = {"true": True, "t": True, "yes": True, "1": True}
_BOOLEANS |= {"false": False, "f": False, "no": False, "0": False}


def csv_value(kind: str | None, text: str) -> Any:
    """A CSV field as a value of the column's type; text that does not parse stays text,
    so the catalog's own check names the problem (with every other one at once)."""
    if text == "":
        return None
    try:
        if kind in ("int2", "int4", "int8", "serial4"):
            return int(text)
        if kind in ("float4", "float8"):
            return float(text)
        if kind == "json":
            return json.loads(text)
    except ValueError:
        return text
    if kind == "boolean":
        return _BOOLEANS.get(text.strip().lower(), text)
    return text


def read_rows(name: str, fmt: str | None, table: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows of a CSV or JSON file, for ``table`` (a model entry)."""
    kind = _format(name, fmt)
    text = _read_text(name)
    if kind == "json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValidationError(
                f"{name} is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}"
            ) from None
        if not isinstance(doc, list) or not all(isinstance(row, dict) for row in doc):
            raise ValidationError(f"{name} must hold a JSON list of objects (one per row)")
        return doc
    types = {c["name"]: c["type"] for c in table["columns"]}
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header:
            raise ValidationError(f"{name} has no header row")
        rows = []
        for number, fields in enumerate(reader, start=2):
            if not fields:
                continue  # a blank line
            if len(fields) != len(header):
                raise ValidationError(
                    f"{name} line {number}: {len(fields)} field(s), the header has {len(header)}"
                )
            pairs = zip(header, fields, strict=True)
            rows.append({col: csv_value(types.get(col), value) for col, value in pairs})
    except csv.Error as err:
        raise ValidationError(f"{name} is not valid CSV: {err}") from None
    return rows


def _rows_change(args: argparse.Namespace, out: Output, insert: bool) -> None:
    with open_catalog(args) as cat:
        table = find_table(cat.model, args.table)
        rows = read_rows(args.file, args.format, table)
        name = table["name"]
        rids = cat.insert(name, rows) if insert else cat.update(name, rows)
    if out.json_mode:
        out.json({"table": name, "rids": rids})
        return
    verb = "Inserted" if insert else "Updated"
    out.line(f"{verb} {len(rids)} row(s) of {name}:")
    out.summary_table(["RID"], ([rid] for rid in rids), empty="(none)", show_all=args.all)


def cmd_rows_insert(args: argparse.Namespace, out: Output) -> None:
    """Insert the rows of a CSV or JSON file; print their RIDs."""
    _rows_change(args, out, insert=True)


def cmd_rows_update(args: argparse.Namespace, out: Output) -> None:
    """Update rows (each its RID plus the columns to set) from a CSV or JSON file."""
    _rows_change(args, out, insert=False)
