"""``exec list|show|restore`` and ``lineage``: runs of workflows and what they used and made."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from assetry.catalog import Catalog
from assetry.cli.assets import asset_cells, short_sha
from assetry.cli.commands import open_catalog
from assetry.cli.output import Output, text_value
from assetry.errors import AssetryError, ValidationError

if TYPE_CHECKING:
    from assetry.cli.main import AddCommand, Group

ROLES = ("Input", "Output")
LINEAGE_FORMATS = ("text", "dot", "mermaid", "prov")
DIRECTIONS = ("upstream", "downstream", "both")


def _workflow_names(cat: Catalog, rids: set[str]) -> dict[str, str]:
    """``{workflow RID: name}`` for the given RIDs (one lookup each; there are few)."""
    names = {}
    for rid in sorted(rids):
        try:
            names[rid] = str(cat.resolve_rid(rid).row.get("Name") or "")
        except AssetryError:
            names[rid] = ""
    return names


def _workflow_cell(rid: str | None, names: Mapping[str, str]) -> str:
    if not rid:
        return ""
    name = names.get(rid)
    return f"{rid} ({name})" if name else rid


# --- exec list -------------------------------------------------------------------------------


def cmd_exec_list(args: argparse.Namespace, out: Output) -> None:
    """List executions, optionally of one status and/or workflow."""
    with open_catalog(args) as cat:
        if args.workflow is not None:  # an unknown RID is an error, not an empty listing
            cat.lookup_workflow(args.workflow)
        rows = cat.list_executions(status=args.status, workflow=args.workflow, stale=args.stale)
        names = (
            {}
            if out.json_mode
            else _workflow_names(cat, {r["Workflow"] for r in rows if r.get("Workflow")})
        )
    if out.json_mode:
        out.json_list(rows)
        return
    header = ["RID", "STATUS", "UPLOAD", "STARTED", "WORKFLOW", "DESCRIPTION"]
    cells = (
        [
            r["RID"],
            r.get("Status"),
            r.get("Upload_Status"),
            r.get("Start_Time"),
            _workflow_cell(r.get("Workflow"), names),
            r.get("Description"),
        ]
        for r in rows
    )
    empty = "(no stale executions)" if args.stale else "(no executions)"
    out.table(header, cells, empty=empty, full_last=True)
    if args.stale and rows:
        out.line(
            "Finish one with `assetry exec restore RID` (uploads what it staged) or end it "
            "with `assetry exec abort RID`."
        )


# --- exec abort ------------------------------------------------------------------------------


def cmd_exec_abort(args: argparse.Namespace, out: Output) -> None:
    """End an execution that will not finish."""
    with open_catalog(args) as cat:
        rid = cat.abort_execution(args.rid, args.detail)
        row = _execution_row(cat, rid)
    if out.json_mode:
        out.json({"execution": rid, "status": row["Status"], "upload_status": row["Upload_Status"]})
        return
    out.line(f"Execution {rid}: {row['Status']} (upload {row['Upload_Status']})")


# --- exec show -------------------------------------------------------------------------------


def _execution_row(cat: Catalog, rid: str) -> dict[str, Any]:
    found = cat.resolve_rid(rid)
    if found.table != "Execution":
        raise ValidationError(f"{rid} is a row of {found.table!r}, not an Execution")
    return dict(found.row)


def _by_role(assets: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {role: [] for role in ROLES}
    for asset in assets:
        grouped.setdefault(str(asset.get("Asset_Role")), []).append(asset)
    return grouped


def _show_lines(
    row: Mapping[str, Any], workflow: Mapping[str, Any] | None
) -> Iterator[tuple[str, Any]]:
    wf: Any = row.get("Workflow")
    if workflow is not None:
        wf = f"{workflow['RID']} {workflow.get('Name')} ({workflow.get('Workflow_Type')})"
    yield "Workflow", wf
    yield "Description", row.get("Description")
    status = text_value(row.get("Status"))
    detail = text_value(row.get("Status_Detail"))
    yield "Status", f"{status}: {detail}" if detail else status
    yield "Upload", row.get("Upload_Status")
    yield "Started", row.get("Start_Time")
    yield "Stopped", row.get("Stop_Time")
    yield "Parameters", row.get("Parameters") or None
    yield "Created", f"{text_value(row.get('RCT'))} by {text_value(row.get('RCB'))}"


def cmd_exec_show(args: argparse.Namespace, out: Output) -> None:
    """One execution: its row, its workflow, and the assets it used and made."""
    with open_catalog(args) as cat:
        row = _execution_row(cat, args.rid)
        workflow = dict(cat.resolve_rid(row["Workflow"]).row) if row.get("Workflow") else None
        assets = _by_role(cat.list_execution_assets(row["RID"]))
    if out.json_mode:
        out.json({"execution": row, "workflow": workflow, "assets": assets})
        return
    out.line(f"Execution {row['RID']}")
    for label, value in _show_lines(row, workflow):
        out.line(f"  {label + ':':<13}{text_value(value)}")
    for role, items in assets.items():
        out.line()
        out.line(f"{role} assets ({len(items)}):")
        rows = ([a.get("Table"), *asset_cells(a)] for a in items)
        header = ["TABLE", "RID", "FILENAME", "LENGTH", "SHA256", "ASSET_TYPE", "DESCRIPTION"]
        out.summary_table(header, rows, "(none)", args.all, full_last=True, indent="  ")


# --- exec restore ----------------------------------------------------------------------------


def cmd_exec_restore(args: argparse.Namespace, out: Output) -> None:
    """Reopen an execution from its working directory and finish uploading its outputs."""
    with open_catalog(args) as cat:
        exe = cat.restore_execution(args.rid)
        uploaded = exe.upload_execution_outputs(clean_folder=not args.no_clean)
        status, upload_status = exe.status, exe.upload_status
    if out.json_mode:
        out.json(
            {
                "execution": exe.rid,
                "status": status,
                "upload_status": upload_status,
                "uploaded": uploaded,
            }
        )
        return
    count = sum(len(assets) for assets in uploaded.values())
    out.line(f"Execution {exe.rid} ({status}): upload {upload_status}, {count} output asset(s)")
    header = ["TABLE", "RID", "FILENAME", "LENGTH", "SHA256"]
    rows = [
        [table, a["RID"], a.get("Filename"), a.get("Length"), short_sha(a.get("SHA256"))]
        for table, assets in uploaded.items()
        for a in assets
    ]
    out.summary_table(header, rows, "(nothing to upload)", args.all, indent="  ")
    if args.no_clean:
        out.line(f"Working directory kept: {exe.working_dir}")


# --- lineage ---------------------------------------------------------------------------------


def cmd_lineage(args: argparse.Namespace, out: Output) -> None:
    """Print the provenance graph around a RID as text, DOT, Mermaid or PROV-JSON."""
    fmt = args.format or "text"
    if out.json_mode and fmt in ("dot", "mermaid"):
        raise ValidationError(
            f"--json prints the graph as JSON; it cannot be combined with --format {fmt}"
        )
    with open_catalog(args) as cat:
        graph = cat.lineage(args.rid, direction=args.direction, depth=args.depth)
    if fmt == "prov":
        out.line(graph.to_prov_json())
    elif out.json_mode:
        out.json(
            {
                "root": graph.root,
                "direction": graph.direction,
                "nodes": graph.nodes,
                "edges": [list(edge) for edge in graph.edges],
            }
        )
    elif fmt == "dot":
        out.stream.write(graph.to_dot())
    elif fmt == "mermaid":
        out.stream.write(graph.to_mermaid())
    else:
        out.stream.write(graph.to_text())


# --- the parser ------------------------------------------------------------------------------


def register(command: AddCommand, sub: Group) -> None:
    """Add ``exec list|show|restore|abort`` and ``lineage`` to the parser."""
    from assetry.cli.main import _non_negative

    group = command(sub, "exec", None, "executions: runs of workflows")
    esub = group.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    p = command(esub, "list", cmd_exec_list, "list executions")
    p.add_argument("--status", metavar="S", help="only executions with this Execution_Status")
    p.add_argument("--workflow", metavar="RID", help="only executions of this workflow")
    p.add_argument(
        "--stale",
        action="store_true",
        help="only runs still Created or Running whose process (on this machine) is gone",
    )
    p = command(esub, "show", cmd_exec_show, "an execution with its inputs and outputs")
    p.add_argument("rid", metavar="RID")
    p.add_argument("--all", action="store_true", help="list every asset (default: first 20)")
    p = command(esub, "restore", cmd_exec_restore, "finish uploading an execution's outputs")
    p.add_argument("rid", metavar="RID")
    p.add_argument("--no-clean", action="store_true", help="keep the working directory")
    p.add_argument("--all", action="store_true", help="list every asset (default: first 20)")
    p = command(esub, "abort", cmd_exec_abort, "end an execution that will not finish (Aborted)")
    p.add_argument("rid", metavar="RID")
    p.add_argument("--detail", metavar="TEXT", help="why (recorded as the status detail)")

    p = command(sub, "lineage", cmd_lineage, "what a row came from or led to")
    p.add_argument("rid", metavar="RID")
    p.add_argument(
        "--direction",
        choices=DIRECTIONS,
        default="upstream",
        help="upstream: where it came from (default); downstream: what used it; both",
    )
    p.add_argument("--depth", type=_non_negative, metavar="N", help="at most N steps away")
    p.add_argument(
        "--format",
        choices=LINEAGE_FORMATS,
        default=None,
        help="text (default), Graphviz dot, mermaid, or W3C PROV-JSON",
    )
