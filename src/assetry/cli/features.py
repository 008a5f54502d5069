"""``features list|values``: DerivaML's features (labels and values per execution)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from assetry.cli.commands import open_catalog
from assetry.cli.output import Output, text_value

if TYPE_CHECKING:
    from assetry.cli.main import AddCommand, Group


def register(command: AddCommand, sub: Group) -> None:
    """Add the ``features`` command and its subcommands to the parser."""
    group = command(sub, "features", None, "features: values of rows, recorded per execution")
    fsub = group.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    p = command(fsub, "list", cmd_features_list, "the features (of one table, or all)")
    p.add_argument("table", metavar="TABLE", nargs="?", help="only the features of this table")
    p = command(fsub, "values", cmd_features_values, "the values of one feature")
    p.add_argument("table", metavar="TABLE", help="the table the feature describes")
    p.add_argument("feature", metavar="FEATURE", help="the feature's name")
    p.add_argument("--newest", action="store_true", help="only the newest value per row")


def cmd_features_list(args: argparse.Namespace, out: Output) -> None:
    """Each feature: its table, name, table of values and columns by role."""
    with open_catalog(args) as cat:
        found = [f.to_doc() for f in cat.find_features(args.table)]
    if out.json_mode:
        out.json_list(found)
        return
    header = ["TABLE", "FEATURE", "TERMS", "ASSETS", "VALUES", "FEATURE TABLE"]
    rows = (
        [
            f["target_table"],
            f["feature_name"],
            text_value(f["terms"]),
            text_value(f["assets"]),
            text_value(f["values"]),
            f["feature_table"],
        ]
        for f in found
    )
    out.table(header, rows, empty="(no features)")


def cmd_features_values(args: argparse.Namespace, out: Output) -> None:
    """The values of a feature (the newest per row with ``--newest``), by RID."""
    from assetry.records.features import FeatureRecord

    with open_catalog(args) as cat:
        feature = cat.lookup_feature(args.table, args.feature)
        selector = FeatureRecord.select_newest if args.newest else None
        values = [
            r.model_dump() for r in cat.list_feature_values(args.table, args.feature, selector)
        ]
    if out.json_mode:
        out.json_list(values)
        return
    own = [c.name for c in feature.columns]
    header = ["RID", feature.target_table.name.upper(), *[c.upper() for c in own], "EXECUTION"]
    rows = (
        [v["RID"], v[feature.target_table.name], *[v[c] for c in own], v["Execution"]]
        for v in values
    )
    out.table(header, rows, empty="(no values)")
