"""The latest figures of every benchmark as one Markdown table, read from the JSON files
the benchmarks write to ``build/bench/`` (``benchmarks/README.md`` keeps a copy).

    .venv/bin/python benchmarks/figures.py
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parent.parent / "build" / "bench"


def shown(value: Any) -> str:
    if not isinstance(value, int | float):
        return str(value)
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def verdict(figure: dict[str, Any]) -> str:
    aim, value = figure.get("aim"), figure.get("value")
    if aim is None or not isinstance(value, int | float):
        return ""
    passed = value >= aim if figure.get("higher_is_better") else value <= aim
    return "PASS" if passed else "MISS"


def aim_text(figure: dict[str, Any]) -> str:
    if figure.get("aim") is None:
        return ""
    return f"{'>=' if figure.get('higher_is_better') else '<='} {figure['aim']:g}"


def main() -> None:
    files = sorted(FOLDER.glob("*.json"))
    if not files:
        raise SystemExit(f"no figures in {FOLDER}: run the benchmarks first (make bench)")
    print("| benchmark | part | figure | value | aim | result | taken | machine load |")
    print("|---|---|---|---|---|---|---|---|")
    machines: set[str] = set()
    for path in files:
        data = json.loads(path.read_text())
        taken = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).strftime("%Y-%m-%d")
        info = data.get("machine") or {}
        load = info.get("load") or info.get("load_before") or ""
        machines.add(f"{info.get('platform', '?')}, {info.get('cpus', '?')} CPUs")
        for f in data.get("figures", []):
            print(
                f"| {path.stem} | {f.get('part', '')} | {f['name']} | {shown(f['value'])} "
                f"{f.get('unit', '')} "
                f"| {aim_text(f)} | {verdict(f)} | {taken} | {load} |"
            )
    print()
    print("Machines: " + "; ".join(sorted(machines)))


if __name__ == "__main__":
    main()
