"""Pieces every benchmark script shares: timings, figures held to aims, machine load."""

from __future__ import annotations

import argparse
import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
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
