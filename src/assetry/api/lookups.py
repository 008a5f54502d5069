"""DerivaML's finders and look-ups of workflows, executions and assets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assetry.errors import NotFoundError, RIDNotFound, ValidationError
from assetry.executions.workflow import Workflow, workflow_rid
from assetry.records.assets import AssetRecord

if TYPE_CHECKING:
    from assetry.api.context import Context


class ExecutionRecord(dict[str, Any]):
    """An Execution row with DerivaML's attributes: ``execution_rid``, ``status``,
    ``workflow_rid``, ``description``."""

    @property
    def execution_rid(self) -> str:
        return str(self["RID"])

    @property
    def status(self) -> str:
        return str(self["Status"])

    @property
    def workflow_rid(self) -> str | None:
        return self.get("Workflow")

    @property
    def description(self) -> str | None:
        return self.get("Description")


class Lookups:
    """Finders over a catalog's workflows, executions and assets."""

    def __init__(self, context: Context) -> None:
        self._backend = context.backend

    def find_workflows(self) -> list[Workflow]:
        """Every workflow, by RID."""
        return [Workflow.from_row(row) for row in self._backend.iter_rows("Workflow")]

    def lookup_workflow(self, url_or_rid: str) -> Workflow:
        """The workflow with this RID, or else the newest with this URL or checksum
        (``NotFoundError`` naming what was given, as given)."""
        if not isinstance(url_or_rid, str) or not url_or_rid.strip():
            raise ValidationError(
                f"lookup_workflow needs a RID, URL or checksum, got {url_or_rid!r}"
            )
        if not any(c in url_or_rid for c in "/:"):
            try:
                found = self._backend.resolve_rid(url_or_rid.strip())
            except (RIDNotFound, ValidationError):
                pass
            else:
                if found.table != "Workflow":
                    raise ValidationError(
                        f"{url_or_rid} is a row of {found.table!r}, not a Workflow"
                    )
                return Workflow.from_row(found.row)
        return self.lookup_workflow_by_url(url_or_rid)

    def lookup_workflow_by_url(self, url_or_checksum: str) -> Workflow:
        """The newest workflow whose URL or checksum is ``url_or_checksum``."""
        rows: list[dict[str, Any]] = []
        for column in ("URL", "Checksum"):
            query = {
                "instances": [{"alias": "Workflow", "table": "Workflow"}],
                "where": {
                    "alias": "Workflow",
                    "column": column,
                    "op": "==",
                    "value": url_or_checksum,
                },  # fmt: skip
            }
            rows += self._backend.path_query(query)
        if not rows:
            raise NotFoundError(f"no workflow has the RID, URL or checksum {url_or_checksum!r}")
        return Workflow.from_row(max(rows, key=lambda row: (row["RCT"], row["RID"])))

    def find_executions(
        self,
        workflow: Workflow | str | None = None,
        workflow_type: str | None = None,
        status: str | None = None,
    ) -> list[ExecutionRecord]:
        """Executions (of one workflow, workflows of one type, one status), by RID."""
        instances: list[dict[str, Any]] = [{"alias": "Execution", "table": "Execution"}]
        where: list[dict[str, Any]] = []
        if status is not None:
            term = self._backend.lookup_term("Execution_Status", str(status)).name
            where.append({"alias": "Execution", "column": "Status", "op": "==", "value": term})
        if workflow is not None:
            where.append({"alias": "Execution", "column": "Workflow", "op": "==",
                          "value": workflow_rid(workflow)})  # fmt: skip
        if workflow_type is not None:
            term = self._backend.lookup_term("Workflow_Type", workflow_type).name
            link = {"from": "Execution", "on": None, "join": "inner"}
            instances.append({"alias": "Workflow", "table": "Workflow", "link": link})
            where.append({"alias": "Workflow", "column": "Workflow_Type", "op": "==",
                          "value": term})  # fmt: skip
        query = {
            "instances": instances,
            "where": {"and": where} if where else None,
            "context": "Execution",
        }
        return [ExecutionRecord(row) for row in self._backend.path_query(query)]

    def lookup_asset(self, rid: str) -> AssetRecord:
        """The asset ``rid`` of any asset table: its row, ``Asset_Type`` and ``Table``
        (``ValidationError`` when the RID is another kind of row)."""
        found = self._backend.resolve_rid(rid)
        if self._backend.table_kind(found.table) != "asset":
            raise ValidationError(f"{rid} is a row of {found.table!r}, not an asset")
        [asset] = self._backend.asset_dicts(found.table, [found.row["RID"]])
        return AssetRecord({**asset, "Table": found.table}, found.table)
