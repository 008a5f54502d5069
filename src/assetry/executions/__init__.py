"""Workflows and executions: environment capture, source detection, lineage graphs."""
