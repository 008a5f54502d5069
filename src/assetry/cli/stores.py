"""``store list|add|remove|default|rule|unrule|migrate``: a catalog's object stores and the
rules routing new objects to them."""

from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING

from assetry.cli.commands import open_catalog
from assetry.cli.output import Output
from assetry.records.stores import StoreRule

if TYPE_CHECKING:
    from assetry.cli.main import AddCommand, Group


def register(command: AddCommand, sub: Group) -> None:
    """Add ``store`` to the parser."""
    group = command(sub, "store", None, "object stores of the catalog and routing rules")
    ssub = group.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    command(ssub, "list", cmd_store_list, "list the stores and the rules")
    p = command(ssub, "add", cmd_store_add, "add a store (checked with a probe object)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("url", metavar="URL", help="a path, file://, s3://, gs://, az:// or abfs://")
    p = command(ssub, "remove", cmd_store_remove, "remove an empty store no rule names")
    p.add_argument("name", metavar="NAME")
    p = command(ssub, "default", cmd_store_default, "send unrouted new objects to a store")
    p.add_argument("name", metavar="NAME")
    for name, handler, text in (
        ("rule", cmd_store_rule, "route new objects of a table and/or over a size to a store"),
        ("unrule", cmd_store_unrule, "remove the rule for a table and/or size"),
    ):
        p = command(ssub, name, handler, text)
        if name == "rule":
            p.add_argument("store", metavar="STORE")
        p.add_argument("--table", metavar="TABLE", help="an asset table (any, when omitted)")
        p.add_argument(
            "--size-over", metavar="SIZE", help="bytes, or e.g. 100MB, 2GiB (any, when omitted)"
        )
    p = command(
        ssub,
        "migrate",
        cmd_store_migrate,
        "move objects between stores, each verified before it leaves its old store",
    )
    p.add_argument("--to", metavar="STORE", help="the store to move to (default: by the rules)")
    p.add_argument("--from", dest="source", metavar="STORE", help="only objects of this store")
    p.add_argument("--table", metavar="TABLE", help="only objects of this asset table")


def _rule_row(rule: StoreRule) -> list[object]:
    size = rule.size_over if rule.size_over is not None else "(any)"
    return [rule.table or "(any)", size, rule.store]


def cmd_store_list(args: argparse.Namespace, out: Output) -> None:
    """The stores (the default marked) and the rules in the order they are tried."""
    with open_catalog(args) as cat:
        stores, rules = cat.stores.list_stores(), cat.stores.store_rules()
    if out.json_mode:
        out.json(
            {
                "stores": [dataclasses.asdict(s) for s in stores],
                "rules": [dataclasses.asdict(r) for r in rules],
            }
        )
        return
    rows = [[s.name, "*" if s.default else "", s.url] for s in stores]
    out.table(["STORE", "DEFAULT", "URL"], rows, empty="(no stores)")
    out.line()
    out.table(["TABLE", "SIZE OVER", "STORE"], [_rule_row(r) for r in rules], empty="(no rules)")


def cmd_store_add(args: argparse.Namespace, out: Output) -> None:
    with open_catalog(args) as cat:
        added = cat.stores.add_store(args.name, args.url)
    if out.json_mode:
        out.json(dataclasses.asdict(added))
        return
    out.line(f"added store {added.name}: {added.url}")


def cmd_store_remove(args: argparse.Namespace, out: Output) -> None:
    with open_catalog(args) as cat:
        cat.stores.remove_store(args.name)
    if out.json_mode:
        out.json({"removed": args.name})
        return
    out.line(f"removed store {args.name}")


def cmd_store_default(args: argparse.Namespace, out: Output) -> None:
    with open_catalog(args) as cat:
        cat.stores.set_default_store(args.name)
    if out.json_mode:
        out.json({"default": args.name})
        return
    out.line(f"new objects no rule routes go to store {args.name}")


def _print_rules(rules: list[StoreRule], out: Output) -> None:
    if out.json_mode:
        out.json([dataclasses.asdict(r) for r in rules])
        return
    out.table(["TABLE", "SIZE OVER", "STORE"], [_rule_row(r) for r in rules], empty="(no rules)")


def cmd_store_rule(args: argparse.Namespace, out: Output) -> None:
    with open_catalog(args) as cat:
        rules = cat.stores.set_store_rule(
            table=args.table, store=args.store, size_over=args.size_over
        )
    _print_rules(rules, out)


def cmd_store_unrule(args: argparse.Namespace, out: Output) -> None:
    with open_catalog(args) as cat:
        rules = cat.stores.remove_store_rule(table=args.table, size_over=args.size_over)
    _print_rules(rules, out)


def cmd_store_migrate(args: argparse.Namespace, out: Output) -> None:
    with open_catalog(args) as cat:
        counts = cat.stores.migrate_objects(to=args.to, source=args.source, table=args.table)
    if out.json_mode:
        out.json(counts)
        return
    out.line(
        f"moved {counts['moved']} object(s), {counts['bytes']} bytes; "
        f"{counts['in_place']} already in place"
    )
