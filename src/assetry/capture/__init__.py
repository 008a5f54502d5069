"""Automatic capture (API §13): ``@step`` with its content-keyed cache, ``pipeline`` and
``use``; watched folders and ``autolog`` act inside executions (``executions/watch.py``,
``executions/autolog.py``) and are re-exported here with them.

This package is in the top layer: a step opens or is given a ``Catalog`` and records
through its public API only.
"""

from assetry.capture.defaults import use
from assetry.capture.pipeline import Pipeline, pipeline
from assetry.capture.steps import Step, StepOutput, StepRun, step
from assetry.executions.autolog import autolog

__all__ = ["Pipeline", "Step", "StepOutput", "StepRun", "autolog", "pipeline", "step", "use"]
