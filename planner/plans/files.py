"""Write a plan and its report as files: the same tables the loader reads, saved atomically.

Each file is written to a temporary name in the same directory and renamed into place,
so an interrupted save leaves the previous file intact.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from planner.plans.metrics import PlanReport
from planner.plans.plan import Plan


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def alignment_csv(plan: Plan) -> str:
    """The plan's ``alignment.csv`` as text: columns ``unit_id``, ``territory_id``."""
    return plan.assignment.rename_axis("unit_id").reset_index().to_csv(index=False)


def territory_reps_csv(plan: Plan) -> str:
    """The plan's ``territory_reps.csv`` as text: columns ``territory_id``, ``rep_id``."""
    reps = plan.territory_reps.rename_axis("rep_id").reset_index()[["territory_id", "rep_id"]]
    return reps.to_csv(index=False)


def write_plan(plan: Plan, directory: str | Path) -> list[Path]:
    """Write ``alignment.csv`` (unit_id, territory_id) and ``territory_reps.csv`` (territory_id, rep_id)."""
    out = Path(directory)
    paths = [out / "alignment.csv", out / "territory_reps.csv"]
    _atomic_write(paths[0], alignment_csv(plan))
    _atomic_write(paths[1], territory_reps_csv(plan))
    return paths


def write_report(
    report: PlanReport, status: str, messages: tuple[str, ...], directory: str | Path
) -> list[Path]:
    """Write ``report.json`` (summary, status, messages) and ``territories.csv`` (per-territory metrics)."""
    out = Path(directory)
    per_territory = report.deviations.add_suffix("_dev").join(report.dispersion_km).join(report.reps)
    if report.polsby_popper is not None:
        per_territory = per_territory.join(report.polsby_popper)
    if report.travel is not None:
        per_territory = per_territory.join(report.travel.add_prefix("travel_"))
    summary = {
        "status": status,
        "messages": list(messages),
        "summary": {k: float(v) for k, v in report.summary().items()},
        "balance": json.loads(report.balance.to_json(orient="index")),
    }
    paths = [out / "report.json", out / "territories.csv"]
    _atomic_write(paths[0], json.dumps(summary, indent=2))
    _atomic_write(paths[1], per_territory.rename_axis("territory_id").to_csv())
    return paths


def read_plan(directory: str | Path, units: pd.Index) -> Plan:
    """Read a plan written by :func:`write_plan` (for round trips)."""
    out = Path(directory)
    alignment = pd.read_csv(out / "alignment.csv", dtype=str).set_index("unit_id")["territory_id"]
    reps = pd.read_csv(out / "territory_reps.csv", dtype=str).set_index("rep_id")["territory_id"]
    return Plan(alignment.reindex(units), reps, name=out.name)
