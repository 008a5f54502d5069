"""Who may change what: the rules every change passes, whoever calls.

The server authorizes each operation by its name (``protocol/operations.py``), but a
generic operation (``insert``, ``update``, ``delete``) can touch any table, so what it may
do depends on the table it touches. Those rules live here, below the Backend seam, and
``SqlBackend`` applies them on every path: an embedded ``Catalog``, a script on a shared
database and a raw HTTP request all meet the same checks.

- Roles nest: reader < writer < curator < admin. The caller's role is the one the server
  acts for (``config.acting_as``); the local owner of an embedded or database catalog
  (no role) may do anything a role may.
- Vocabulary rows are terms: changing them needs the curator role.
- System tables and the link tables that carry provenance (statuses, versions,
  memberships, execution links) are written only by their own operations, which keep
  their invariants (a frozen version's snapshot, the status machine, the provenance
  edges). The generic operations may change descriptions only; a curator may delete
  workflows, executions and execution links (history keeps them).
- Built-in terms cannot be renamed or deleted on any path (``assetry.sql.vocab.builtin``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assetry import config
from assetry.errors import PermissionDenied, ValidationError
from assetry.sql import provenance
from assetry.sql.model import TableModel

READER, WRITER, CURATOR, ADMIN = ROLES = ("reader", "writer", "curator", "admin")
FILE_COLUMNS = ("URL", "Filename", "Length", "MD5", "SHA256")

# System tables -> the operations that write them.
_SYSTEM_WRITERS: dict[str, str] = {
    "Workflow": "create_workflow",
    "Execution": "create_execution, exe.update_status and upload_execution_outputs",
    "Dataset": "create_dataset",
    "Dataset_Version": (
        "create_dataset, add_dataset_members, delete_dataset_members and "
        "increment_dataset_version (a version is frozen)"
    ),
    "Artifact": "cat.artifacts.register and cat.artifacts.declare",
    "Artifact_Version": "cat.artifacts.register and cat.artifacts.delete (a version is immutable)",
    "Artifact_Version_File": "cat.artifacts.register (a version is immutable)",
    "Artifact_Partition": "cat.artifacts.register (a version is immutable)",
    "Artifact_Tag": "cat.artifacts.register, tag and untag",
    "Artifact_Alias": "cat.artifacts.alias",
}
# Columns of system tables a plain update may change.
_EDITABLE: dict[str, frozenset[str]] = {
    "Workflow": frozenset({"Description"}),
    "Execution": frozenset({"Description"}),
    "Dataset": frozenset({"Description"}),
    "Artifact": frozenset({"Description"}),
}
_MEMBERSHIP_WRITERS = "add_dataset_members and delete_dataset_members (each mints a version)"
_FEATURE_WRITERS = (
    "exe.add_features and upload_execution_outputs (a feature value is recorded by its execution)"
)
_EXECUTION_LINK_WRITERS = (
    "create_execution, exe.asset_paths / exe.download_dataset_bag and "
    "upload_execution_outputs (they record provenance)"
)


def rank(role: str) -> int:
    return ROLES.index(role)


def require(role: str, what: str) -> None:
    """``PermissionDenied`` unless the caller holds ``role`` (the local owner does)."""
    held = config.acting_role()
    if held is None or rank(held) >= rank(role):
        return
    user = config.local_user()
    raise PermissionDenied(f"{what} needs the {role} role; user {user!r} has {held}")


def own_operations(table: TableModel) -> str | None:
    """The operations that alone write ``table``, or None if the generic row operations
    may write it."""
    if table.name in _SYSTEM_WRITERS:
        return _SYSTEM_WRITERS[table.name]
    if table.name == "Dataset_Dataset" or provenance.element_of_dataset_link(table):
        return _MEMBERSHIP_WRITERS
    if table.name == "Dataset_Execution" or provenance.asset_of_execution_link(table):
        return _EXECUTION_LINK_WRITERS
    if provenance.is_feature_table(table):
        return _FEATURE_WRITERS
    return None


def check_generic_write(table: TableModel, action: str, rows: object = None) -> None:
    """Refuse a generic ``insert``/``update``/``delete`` of ``table`` that only the table's
    own operations may make. ``rows`` are an update's changes. (Roles are checked where
    every path passes: a writing session needs writer, ``rows`` asks curator for
    vocabulary rows, ``ddl.record_model`` asks curator for model changes.)"""
    what = f"{action} of rows of {table.name!r}"
    writers = own_operations(table)
    if writers is None:
        return
    if action == "delete" and _curator_may_delete(table):
        # Removing a run or a provenance link is cleanup, not forgery: its edges and
        # rows stay readable in history.
        require(CURATOR, what)
        return
    if action == "update" and table.name in _EDITABLE:
        return  # which columns may change: ``fixed_columns``
    raise PermissionDenied(f"{what}: table {table.name!r} is written only by {writers}")


def fixed_columns(table: TableModel) -> tuple[tuple[str, ...], str]:
    """The columns a plain update may not change in ``table`` (giving a column the value
    it has is fine), and why."""
    if table.kind == "asset":
        return FILE_COLUMNS, "an asset row describes one immutable file: add a new asset"
    editable = _EDITABLE.get(table.name)
    if editable is None:
        return (), ""
    fixed = tuple(c.name for c in table.columns if not c.system and c.name not in editable)
    return fixed, (
        f"rows of {table.name!r} are written by {_SYSTEM_WRITERS[table.name]}; a plain update "
        f"may change {', '.join(sorted(editable))} only"
    )


def _curator_may_delete(table: TableModel) -> bool:
    return (
        table.name in ("Workflow", "Execution", "Dataset_Execution")
        or provenance.asset_of_execution_link(table) is not None
        or provenance.is_feature_table(table)
    )


def refuse_values(values: Mapping[str, Any], allowed: set[str], what: str) -> None:
    """``ValidationError`` naming every key of ``values`` outside ``allowed``."""
    extra = sorted(set(values) - allowed)
    if extra:
        raise ValidationError(
            f"{what} cannot set {', '.join(map(repr, extra))}; it sets {', '.join(sorted(allowed))}"
        )
