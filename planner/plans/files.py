"""A plan and its report as files: written atomically, and read back with every problem reported.

Each file is written to a temporary name in the same directory and renamed into place,
so an interrupted save leaves the previous file intact. :func:`read_plan` is the one reader
of a plan directory (``alignment.csv`` + ``territory_reps.csv``): the CLI's ``--plan-dir``,
exports and round trips all use it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from planner.data.tables import read_csv_table, sheet_row
from planner.errors import InputError, Problem
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
    """Read a plan directory (``alignment.csv``, optional ``territory_reps.csv``) over ``units``.

    Reads what :func:`write_plan` writes, and the same files made by hand or by another
    tool, checking them against the data set's units.

    Parameters
    ----------
    directory : str or Path
        Directory with ``alignment.csv`` (``unit_id``, ``territory_id``) and, optionally,
        ``territory_reps.csv`` (``territory_id``, ``rep_id``).
    units : pandas.Index
        Unit ids of the data set the plan covers.

    Returns
    -------
    Plan
        The plan, named after the directory.

    Raises
    ------
    InputError
        Every problem at once, with file, row, column and fix: a missing file, a unit
        without a territory, an unknown unit, a duplicate unit or a rep on two territories.
    """
    out = Path(directory)
    alignment, problems = read_csv_table(out / "alignment.csv", ("unit_id", "territory_id"))
    reps = pd.DataFrame({"rep_id": [], "territory_id": []})
    if (out / "territory_reps.csv").is_file():
        read, found = read_csv_table(out / "territory_reps.csv", ("territory_id", "rep_id"))
        problems += found
        reps = read if read is not None else reps
    if alignment is None:
        raise InputError(problems)
    known = set(units.astype(str))
    for position, (unit_id, territory_id) in enumerate(
        zip(alignment["unit_id"], alignment["territory_id"], strict=True)
    ):
        if unit_id not in known:
            problems.append(
                Problem(
                    "alignment.csv",
                    f"unknown unit_id '{unit_id}' (not in the data set's units)",
                    "use unit ids of the data set the plan was made on",
                    row=sheet_row(position),
                    column="unit_id",
                )
            )
        if not territory_id.strip():
            problems.append(
                Problem(
                    "alignment.csv",
                    "empty territory_id",
                    "give every unit a territory",
                    row=sheet_row(position),
                    column="territory_id",
                )
            )
    for position in np.flatnonzero(alignment["unit_id"].duplicated().to_numpy()):
        problems.append(
            Problem(
                "alignment.csv",
                f"unit '{alignment['unit_id'].iloc[position]}' listed twice",
                "keep one row per unit",
                row=sheet_row(position),
                column="unit_id",
            )
        )
    missing = sorted(known - set(alignment["unit_id"]))
    if missing:
        problems.append(
            Problem(
                "alignment.csv",
                f"{len(missing)} unit(s) of the data set have no territory (e.g. {missing[:5]})",
                "add a row unit_id,territory_id for each",
                column="unit_id",
            )
        )
    for position in np.flatnonzero(reps["rep_id"].duplicated().to_numpy()):
        problems.append(
            Problem(
                "territory_reps.csv",
                f"rep '{reps['rep_id'].iloc[position]}' covers two territories",
                "give each rep one territory",
                row=sheet_row(position),
                column="rep_id",
            )
        )
    if problems:
        raise InputError(problems)
    assignment = alignment.set_index("unit_id")["territory_id"].str.strip()
    return Plan(
        assignment.reindex(units.astype(str)), reps.set_index("rep_id")["territory_id"], name=out.name
    )
