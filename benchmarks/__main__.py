"""Run every benchmark, print a table per benchmark, and save them to benchmarks/results/.

Usage: ``python -m benchmarks [name ...]`` (names: see BENCHMARKS).
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
from datetime import date
from pathlib import Path

BENCHMARKS = (
    "foundation",
    "optimizer",
    "frontier",
    "two_measures",
    "workspace",
    "exports",
    "store",
    "forecast",
    "forecast_real",
    "quota",
    "quota_fair",
    "quota_lines",
    "comp",
    "comp_scale",
)
RESULTS = Path(__file__).resolve().parent / "results"


def markdown_table(rows: list[dict]) -> str:
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = ["" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v) for v in row.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(names: list[str]) -> None:
    RESULTS.mkdir(exist_ok=True)
    machine = f"{platform.python_version()}, {os.cpu_count()} cores, {date.today().isoformat()}"
    for name in names or BENCHMARKS:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        print(f"\n== {name} ({machine}) ==", flush=True)
        table = markdown_table(module.run())
        print(table, flush=True)
        (RESULTS / f"{name}.md").write_text(f"Python {machine}\n\n{table}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
