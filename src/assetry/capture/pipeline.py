"""``with assetry.pipeline(name):`` groups the steps called inside it (API §13).

The pipeline is an execution of its own (of a workflow named after the pipeline, its
code detected from the calling script). Each step called inside the block, in this
thread, records into the pipeline's catalog and names the pipeline's execution in its
description; the pipeline's execution ends Completed with the list of its steps (which
were reused from the cache), or Failed when the block raised.
"""

from __future__ import annotations

import contextvars
from types import TracebackType
from typing import TYPE_CHECKING, Any

from assetry.capture import defaults
from assetry.capture.steps import finish_files
from assetry.catalog import Catalog
from assetry.errors import StateError
from assetry.executions.workflow import ExecutionConfiguration

if TYPE_CHECKING:
    from assetry.capture.steps import StepRun
    from assetry.executions.execution import Execution


class Pipeline:
    """A group of step calls recorded under one execution."""

    def __init__(
        self,
        name: str,
        catalog: Catalog | None = None,
        *,
        workflow_type: str = "Analysis",
        description: str | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self._catalog = catalog
        self._workflow_type = workflow_type
        self._description = description
        self._parameters = dict(parameters or {})
        self._execution: Execution | None = None
        self._token: contextvars.Token[Pipeline | None] | None = None
        self.steps: list[tuple[str, StepRun]] = []
        """(step name, its run) of each step called inside, in order."""

    def __repr__(self) -> str:
        return f"Pipeline({self.name!r}, execution={self.rid!r})"

    @property
    def catalog(self) -> Catalog:
        """The catalog the pipeline and its steps record into."""
        return self._catalog if self._catalog is not None else defaults.resolve(None)

    @property
    def execution(self) -> Execution:
        """The pipeline's own execution (while or after the block runs)."""
        if self._execution is None:
            raise StateError(f"pipeline {self.name!r} has not started: use it in a `with`")
        return self._execution

    @property
    def rid(self) -> str | None:
        """The RID of the pipeline's execution (None before it starts)."""
        return self._execution.rid if self._execution is not None else None

    def record(self, step: str, run: StepRun) -> None:
        """Note a step call made inside the block."""
        self.steps.append((step, run))

    def __enter__(self) -> Pipeline:
        if self._execution is not None:
            raise StateError(f"pipeline {self.name!r} runs once; make another for a new run")
        cat = defaults.resolve(self._catalog)
        self._catalog = cat
        workflow = cat.create_workflow(
            self.name, self._workflow_type, description=self._description
        )
        configuration = ExecutionConfiguration(
            workflow=workflow,
            description=self._description or f"pipeline {self.name}",
            parameters=self._parameters,
        )
        self._execution = cat.create_execution(configuration)
        self._execution.__enter__()
        self._token = defaults.CURRENT_PIPELINE.set(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            defaults.CURRENT_PIPELINE.reset(self._token)
            self._token = None
        execution = self.execution
        execution.completion_detail = self.summary()
        try:
            execution.__exit__(exc_type, exc, tb)
        finally:
            finish_files(execution, failed=exc is not None)

    def summary(self) -> str:
        """One line: each step, its execution, and whether it was reused."""
        parts = [
            f"{name.rsplit('.', 1)[-1]} {run.execution}"
            + (f" (cached from {run.reused})" if run.cached else "")
            for name, run in self.steps
        ]
        return "steps: " + (", ".join(parts) if parts else "none")


def pipeline(
    name: str,
    catalog: Catalog | None = None,
    *,
    workflow_type: str = "Analysis",
    description: str | None = None,
    parameters: dict[str, Any] | None = None,
) -> Pipeline:
    """``with assetry.pipeline("fraud", catalog=cat) as run:`` records the steps called
    inside as parts of one pipeline execution (``run.rid``, ``run.steps``)."""
    return Pipeline(
        name,
        catalog,
        workflow_type=workflow_type,
        description=description,
        parameters=parameters,
    )
