"""Pieces every benchmark script shares: timings, figures held to aims, machine load."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Timing:
    """One timed section: wall seconds and this process's CPU seconds (all threads)."""

    wall: float
    cpu: float


@dataclass
class Figure:
    """One reported number and the aim it is held to."""

    part: str
    name: str
    value: float
    unit: str
    aim: float | None  # None: a figure shown for context, held to no aim
    higher_is_better: bool

    @property
    def passed(self) -> bool:
        if self.aim is None:
            return True
        return self.value >= self.aim if self.higher_is_better else self.value <= self.aim

    @property
    def aim_text(self) -> str:
        if self.aim is None:
            return "-"
        return f"{'>=' if self.higher_is_better else '<='} {self.aim:g}"

    @property
    def verdict(self) -> str:
        if self.aim is None:
            return ""
        return "PASS" if self.passed else "MISS"


@dataclass
class Report:
    settings: dict[str, Any]
    machine: dict[str, Any]
    figures: list[Figure] = field(default_factory=list)
    runs: dict[str, list[Timing]] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)


def median_wall(runs: Sequence[Timing]) -> float:
    return statistics.median(t.wall for t in runs)


def load() -> str:
    """The 1- and 5-minute load averages, for the report."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f}/{five:.2f}"


def positive(text: str) -> int:
    """An argparse type: a positive integer."""
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def write_json(name: str, data: dict[str, Any]) -> Path:
    """Write a benchmark's figures to ``build/bench/<name>.json`` (beside the repository's
    ``benchmarks/``, whatever the current directory); return the path."""
    folder = Path(__file__).resolve().parent.parent / "build" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)
    return path


def machine() -> dict[str, Any]:
    """The machine a benchmark ran on, and how loaded it was, for its JSON figures."""
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load": load(),
    }


def save_figures(name: str, figures: Sequence[Figure], **extra: Any) -> Path:
    """``write_json`` in the shape ``benchmarks/figures.py`` tabulates: the machine, every
    figure with its aim and verdict, and whatever else the benchmark wants kept."""
    rows = [
        {
            "part": f.part,
            "name": f.name,
            "value": f.value,
            "unit": f.unit,
            "aim": f.aim,
            "higher_is_better": f.higher_is_better,
            "passed": f.passed,
        }
        for f in figures
    ]
    return write_json(name, {"machine": machine(), "figures": rows, **extra})
