"""The subcommands: each takes the parsed arguments and an ``Output`` and calls ``Catalog``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from assetry import config
from assetry.catalog import Catalog
from assetry.cli.output import SYSTEM_COLUMNS, Output, text_value
from assetry.errors import NotFoundError, TableNotFound, ValidationError
from assetry.records.terms import Term


def open_catalog(args: argparse.Namespace) -> Catalog:
    """The catalog named by ``--catalog``, else ``$ASSETRY_CATALOG``, else ``./.assetry``."""
    return Catalog(args.catalog)


# --- init, upgrade ---------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace, out: Output) -> None:
    """Create a new catalog."""
    options: dict[str, Any] = {"store": args.store}
    if args.domain_schema is not None:
        options["domain_schema"] = args.domain_schema
    with Catalog.create(args.catalog, **options) as cat:
        info = {
            "location": cat.location,
            "store": cat.store_location,
            "ml_schema": cat.ml_schema,
            "domain_schema": cat.domain_schema,
            "rid_prefix": cat.rid_prefix,
        }
    if out.json_mode:
        out.json(info)
        return
    out.line(f"Created catalog at {info['location']}")
    out.line(f"  object store:  {info['store']}")
    out.line(f"  domain schema: {info['domain_schema']}")
    out.line(f"  RID prefix:    {info['rid_prefix']}")


def cmd_upgrade(args: argparse.Namespace, out: Output) -> None:
    """Migrate a catalog's schema to this version of assetry."""
    location = config.resolve_location(args.catalog)
    # Catalog.upgrade on a directory without a catalog would build a half-configured one
    # there (no store setting), so make sure there is a catalog to upgrade first.
    directory = location.directory
    if directory is not None and not (directory / config.DATABASE_FILE).is_file():
        raise NotFoundError(f"no catalog at {directory} (create one with `assetry init`)")
    version = Catalog.upgrade(location.text)
    if out.json_mode:
        out.json({"location": location.text, "schema_version": version})
    else:
        out.line(f"Catalog at {location.text} is at schema version {version}")


# --- model -----------------------------------------------------------------------------------


def _fk_map(table: Mapping[str, Any]) -> dict[str, str]:
    return {
        fk["column"]: f"{fk['table']}.{fk.get('referenced_column', 'RID')}"
        for fk in table.get("foreign_keys", [])
    }


def cmd_model_show(args: argparse.Namespace, out: Output) -> None:
    """Print the model document."""
    with open_catalog(args) as cat:
        doc = cat.model
    if out.json_mode:
        out.json(doc)
        return
    out.line(
        f"Model version {doc.get('version')} "
        f"(domain schema {doc.get('domain_schema')}, system schema {doc.get('ml_schema')})"
    )
    domain = [t for t in doc["tables"] if t.get("schema") != doc.get("ml_schema")]
    system = [t for t in doc["tables"] if t.get("schema") == doc.get("ml_schema")]
    for title, tables in (("Domain tables", domain), ("System tables", system)):
        out.line()
        out.line(f"{title}:")
        rows = []
        for table in tables:
            fks = _fk_map(table)
            columns = [
                c["name"] + (f" -> {fks[c['name']].split('.')[0]}" if c["name"] in fks else "")
                for c in table["columns"]
                if not c.get("system")
            ]
            rows.append([table["name"], table["kind"], ", ".join(columns)])
        out.table(["TABLE", "KIND", "COLUMNS"], rows, empty="(none)", full_last=True)


def read_json_file(name: str) -> Any:
    """The JSON document in file ``name`` (``-`` is standard input)."""
    label = "standard input" if name == "-" else name
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f"model file {label} does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ValidationError(f"cannot read model file {label}: {err}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ValidationError(
            f"model file {label} is not valid JSON: {err.msg} at line {err.lineno} "
            f"column {err.colno}"
        ) from None


def _with_default_schema(doc: dict[str, Any], schema: str) -> dict[str, Any]:
    """``doc`` with ``schema`` filled in for tables that leave it out.

    The JSON Schema makes a table's ``schema`` optional, but ``Catalog.apply_model``
    fails with a raw ``KeyError`` without it, so the CLI supplies the domain schema.
    """
    tables = doc.get("tables")
    if not isinstance(tables, list):
        return doc
    filled = [
        {"schema": schema, **t} if isinstance(t, dict) and "schema" not in t else t for t in tables
    ]
    return {**doc, "tables": filled}


def cmd_model_apply(args: argparse.Namespace, out: Output) -> None:
    """Create what a model document describes and the catalog lacks."""
    doc = read_json_file(args.file)
    if not isinstance(doc, dict):
        raise ValidationError(f"model file {args.file} must hold a JSON object")
    with open_catalog(args) as cat:
        changes = cat.apply_model(_with_default_schema(doc, cat.domain_schema))
    if out.json_mode:
        out.json({"changes": changes})
    elif not changes:
        out.line("Nothing to change: the catalog already has everything in the model.")
    else:
        out.line(f"Applied {len(changes)} change(s):")
        out.lines(f"  {change}" for change in changes)


# --- vocab -----------------------------------------------------------------------------------


def _show_term(out: Output, term: Term, verb: str | None = None) -> None:
    if out.json_mode:
        out.json(term.to_dict())
        return
    if verb:
        out.line(f"{verb} term {term.name!r}")
    for label, value in (
        ("Name", term.name),
        ("Synonyms", term.synonyms),
        ("Description", term.description),
        ("ID", term.id),
        ("URI", term.uri),
        ("RID", term.rid),
    ):
        out.line(f"  {label + ':':<13}{text_value(value)}")


def cmd_vocab_create(args: argparse.Namespace, out: Output) -> None:
    """Create a vocabulary table."""
    with open_catalog(args) as cat:
        name = cat.create_vocabulary(args.name, comment=args.comment)
    if out.json_mode:
        out.json({"vocabulary": name})
    else:
        out.line(f"Created vocabulary {name!r}")


def cmd_vocab_add_term(args: argparse.Namespace, out: Output) -> None:
    """Add a term to a vocabulary."""
    with open_catalog(args) as cat:
        term = cat.add_term(
            args.vocab,
            args.term,
            description=args.description,
            synonyms=args.synonyms or [],
            exists_ok=args.exists_ok,
        )
    _show_term(out, term, "Added")


def cmd_vocab_lookup(args: argparse.Namespace, out: Output) -> None:
    """Find a term by name or synonym, ignoring case."""
    with open_catalog(args) as cat:
        term = cat.lookup_term(args.vocab, args.name)
    _show_term(out, term)


def cmd_vocab_list(args: argparse.Namespace, out: Output) -> None:
    """List a vocabulary's terms."""
    with open_catalog(args) as cat:
        terms = cat.list_vocabulary_terms(args.vocab)
    if out.json_mode:
        out.json([t.to_dict() for t in terms])
        return
    rows = [[t.name, t.synonyms, t.description, t.rid] for t in terms]
    out.table(["NAME", "SYNONYMS", "DESCRIPTION", "RID"], rows, empty="(no terms)")


def cmd_vocab_add_synonym(args: argparse.Namespace, out: Output) -> None:
    """Give a term another name."""
    with open_catalog(args) as cat:
        term = cat.add_synonym(args.vocab, args.term, args.synonym)
    _show_term(out, term, "Updated")


def cmd_vocab_delete_term(args: argparse.Namespace, out: Output) -> None:
    """Delete a term that no row uses."""
    with open_catalog(args) as cat:
        name = cat.lookup_term(args.vocab, args.term).name
        cat.delete_term(args.vocab, name)
    if out.json_mode:
        out.json({"vocabulary": args.vocab, "deleted": name})
    else:
        out.line(f"Deleted term {name!r} from vocabulary {args.vocab!r}")


# --- table -----------------------------------------------------------------------------------


def find_table(model: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The model entry of table ``name`` (exact name first, then ignoring case)."""
    tables: list[dict[str, Any]] = model["tables"]
    for exact in (True, False):
        found = [
            t for t in tables
            if (t["name"] == name if exact else t["name"].lower() == name.lower())
        ]  # fmt: skip
        if found:
            return dict(found[0])
    raise TableNotFound(name)


def cmd_table_list(args: argparse.Namespace, out: Output) -> None:
    """List the catalog's tables."""
    with open_catalog(args) as cat:
        names = set(cat.list_tables(kind=args.kind))
        tables = [t for t in cat.model["tables"] if t["name"] in names]
    if out.json_mode:
        out.json([{k: t.get(k) for k in ("name", "kind", "schema", "comment")} for t in tables])
        return
    rows = [[t["name"], t["kind"], t.get("schema"), t.get("comment")] for t in tables]
    out.table(["TABLE", "KIND", "SCHEMA", "COMMENT"], rows, empty="(no tables)")


def cmd_table_show(args: argparse.Namespace, out: Output) -> None:
    """Describe one table: columns, types, nullability, foreign keys."""
    with open_catalog(args) as cat:
        table = find_table(cat.model, args.table)
    if out.json_mode:
        out.json(table)
        return
    out.line(f"{table['name']} ({table['kind']} table in schema {table.get('schema')})")
    if table.get("comment"):
        out.line(f"  {text_value(table['comment'])}")
    out.line()
    fks = _fk_map(table)
    rows = [
        [
            c["name"],
            c["type"],
            "yes" if c.get("nullok", True) else "no",
            fks.get(c["name"]),
            c.get("comment"),
        ]
        for c in table["columns"]
    ]
    out.table(["COLUMN", "TYPE", "NULLOK", "REFERENCES", "COMMENT"], rows, empty="(no columns)")
    unique = [", ".join(key) for key in table.get("unique", [])]
    if unique:
        out.line()
        out.line("Unique: " + "; ".join(unique))


_BOOLEANS = {"true": True, "t": True, "yes": True, "1": True}
_BOOLEANS |= {"false": False, "f": False, "no": False, "0": False}


def _filter_value(column: str, kind: str | None, text: str) -> Any:
    """A ``--filter`` value converted to the column's type, so every engine compares alike."""
    try:
        if kind in ("int2", "int4", "int8", "serial4"):
            return int(text)
        if kind in ("float4", "float8"):
            return float(text)
    except ValueError:
        expected = "an integer" if kind and kind.startswith(("int", "serial")) else "a number"
        raise ValidationError(
            f"--filter {column}: {text!r} is not {expected} ({kind} column)"
        ) from None
    if kind == "boolean":
        if text.lower() not in _BOOLEANS:
            raise ValidationError(f"--filter {column}: {text!r} is not true or false")
        return _BOOLEANS[text.lower()]
    return text


def build_filters(
    model: Mapping[str, Any], table: str, pairs: list[tuple[str, str]]
) -> dict[str, Any]:
    """``--filter COL=VALUE`` pairs as ``get_table_as_dict`` filters (a repeated column
    matches any of its values)."""
    kinds = {c["name"]: c["type"] for c in find_table(model, table)["columns"]}
    filters: dict[str, list[Any]] = {}
    for column, text in pairs:
        filters.setdefault(column, []).append(_filter_value(column, kinds.get(column), text))
    return {c: v[0] if len(v) == 1 else v for c, v in filters.items()}


def cmd_table_rows(args: argparse.Namespace, out: Output) -> None:
    """List rows of a table, streamed."""
    with open_catalog(args) as cat:
        filters = build_filters(cat.model, args.table, args.filters) if args.filters else None
        rows: Iterator[dict[str, Any]] = cat.get_table_as_dict(
            args.table, limit=args.limit, offset=args.offset, filters=filters, as_of=args.as_of
        )
        if out.json_mode:
            out.json_list(rows)
        else:
            out.rows(rows, all_columns=args.all_columns)


# --- history ---------------------------------------------------------------------------------


def history_lines(rid: str, versions: list[dict[str, Any]]) -> Iterator[str]:
    """A row's versions as text: who changed what, when, and which values changed."""
    table = versions[0]["table"] if versions else "?"
    yield f"History of {rid} (table {table}), {len(versions)} version(s):"
    previous: Mapping[str, Any] = {}
    for version in versions:
        yield (
            f"  snapshot {version['snapshot']}  {version['action']:<6}  "
            f"{text_value(version['time'])}  by {text_value(version['user']) or '?'}"
        )
        row = version.get("row")
        if row is None:
            yield "      (row deleted)"
            previous = {}
            continue
        changed = False
        for column, value in row.items():
            if column in SYSTEM_COLUMNS:
                continue
            if not previous:
                yield f"      {column}: {text_value(value)}"
            elif previous.get(column) != value:
                was = text_value(previous.get(column))
                yield f"      {column}: {was} -> {text_value(value)}"
                changed = True
        if previous and not changed:
            yield "      (no change to user columns)"
        previous = row


def cmd_history(args: argparse.Namespace, out: Output) -> None:
    """Print every version of a row."""
    with open_catalog(args) as cat:
        versions = cat.history(args.rid)
    if out.json_mode:
        out.json(versions)
    else:
        rid = versions[0]["row"]["RID"] if versions and versions[0].get("row") else args.rid
        out.lines(history_lines(rid, versions))
