"""Writing a version's contents: checked input rows, new version rows, copies and re-phased quotas.

Every function runs inside the caller's transaction (or before it, for the input checks).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from planner.errors import PlanError
from planner.money import split_cents, usd_to_cents
from planner.plans.plan import Plan
from planner.plans.quota_lines import HUNDREDTHS, QuotaLine
from planner.store import schema
from planner.store.records import now
from planner.store.workflow import Status


@dataclass(frozen=True)
class LineContents:
    """One quota line of a new version, as :meth:`planner.store.store.PlanStore.create_version` takes it.

    Parameters
    ----------
    line : QuotaLine
        The line's definition.
    territories : pandas.DataFrame
        Indexed by ``territory_id`` with ``potential_usd`` and ``forecast_usd`` (in the
        line's unit) and optionally ``last_quota_cents``; one row per territory of the plan.
    quotas : pandas.DataFrame
        Phased quotas (``territory_id``, ``period``, ``quota_cents``), hundredths of the unit.
    target_cents : int
        The target the quotas were allocated from, hundredths of the unit.
    allocation_basis : dict, optional
        How the quota total was chosen (:meth:`planner.quota.attainment.AttainmentPlan.record`).
    """

    line: QuotaLine
    territories: pd.DataFrame
    quotas: pd.DataFrame
    target_cents: int
    allocation_basis: dict | None = None


def territory_rows(plan: Plan, territories: pd.DataFrame, line: str) -> list[dict]:
    """``version_territories`` rows of one line (without ``version_id``) from inputs in the line's unit."""
    missing_columns = [c for c in ("potential_usd", "forecast_usd") if c not in territories.columns]
    if missing_columns:
        raise PlanError(f"territory inputs lack column(s) {missing_columns}")
    missing = sorted(set(plan.territories) - set(territories.index.astype(str)))
    if missing:
        raise PlanError(f"territory inputs lack territories {missing[:10]} of the plan")
    rows = []
    for territory_id in plan.territories:
        row = territories.loc[territory_id]
        last = row.get("last_quota_cents")
        for column in ("potential_usd", "forecast_usd"):
            if not np.isfinite(row[column]) or row[column] < 0:
                raise PlanError(f"territory {territory_id}: {column} must be a non-negative number")
        rows.append(
            {
                "territory_id": territory_id,
                "line": line,
                "potential_cents": usd_to_cents(row["potential_usd"]),
                "forecast_cents": usd_to_cents(row["forecast_usd"]),
                "last_quota_cents": None if last is None or pd.isna(last) else int(last),
            }
        )
    return rows


def rep_rows(plan: Plan, reps: pd.DataFrame) -> list[dict]:
    """``version_reps`` rows (without ``version_id``): the plan's coverage with names and managers."""
    coverage = plan.territory_reps
    unknown = sorted(set(coverage.index) - set(reps.index.astype(str)))
    if unknown:
        raise PlanError(f"reps {unknown[:10]} cover territories but are missing from the reps table")
    rows = []
    for rep_id, territory_id in coverage.items():
        manager = reps.loc[rep_id].get("manager_id")
        rows.append(
            {
                "rep_id": rep_id,
                "territory_id": territory_id,
                "name": str(reps.loc[rep_id, "name"]),
                "manager_id": None if manager is None or pd.isna(manager) or manager == "" else str(manager),
            }
        )
    return rows


def insert_version(
    conn: Connection,
    actor: str,
    name: str,
    target_cents: int,
    effective_from: date,
    parent_id: int | None,
) -> int:
    """Add a draft ``plan_versions`` row at revision 1; return its version id."""
    return conn.execute(
        schema.plan_versions.insert()
        .values(
            name=name,
            status=Status.DRAFT.value,
            revision=1,
            parent_id=parent_id,
            target_cents=target_cents,
            effective_from=effective_from,
            created_by=actor,
            created_at=now(),
        )
        .returning(schema.plan_versions.c.version_id)
    ).scalar_one()


def line_row(contents: LineContents) -> dict:
    """The ``version_lines`` row (without ``version_id``) of one line."""
    record = contents.line.record()
    basis = contents.allocation_basis
    return {
        "line": contents.line.name,
        **record,
        "target_cents": int(contents.target_cents),
        "allocation_basis": json.dumps(basis, sort_keys=True) if basis else None,
    }


def insert_contents(
    conn: Connection,
    version_id: int,
    plan: Plan,
    rep_rows: list[dict],
    line_rows: list[dict],
    territory_rows: list[dict],
    quotas: pd.DataFrame,
) -> None:
    """Write a new version's units, reps, lines, territory inputs and quotas (``quotas`` has ``line``)."""
    assignment = plan.assignment
    unit_rows = [
        {"version_id": version_id, "unit_id": u, "territory_id": t}
        for u, t in zip(assignment.index, assignment.to_numpy(), strict=True)
    ]
    quota_rows = [
        {"version_id": version_id, "territory_id": t, "line": line, "period": p, "quota_cents": int(c)}
        for t, line, p, c in quotas[["territory_id", "line", "period", "quota_cents"]].itertuples(index=False)
    ]
    for table, rows in (
        (schema.version_units, unit_rows),
        (schema.version_reps, [dict(r, version_id=version_id) for r in rep_rows]),
        (schema.version_lines, [dict(r, version_id=version_id) for r in line_rows]),
        (schema.version_territories, [dict(r, version_id=version_id) for r in territory_rows]),
        (schema.version_quotas, quota_rows),
    ):
        if rows:
            conn.execute(table.insert(), rows)


def copy_contents(conn: Connection, source_id: int, target_id: int) -> None:
    """Copy a version's units, reps, lines, territory inputs and quotas to another (server side)."""
    for table in (
        schema.version_units,
        schema.version_reps,
        schema.version_lines,
        schema.version_territories,
        schema.version_quotas,
    ):
        columns = [c for c in table.c if c.name != "version_id"]
        select = sa.select(sa.literal(target_id), *columns).where(table.c.version_id == source_id)
        conn.execute(table.insert().from_select(["version_id", *(c.name for c in columns)], select))


def rephase(conn: Connection, version_id: int, territory_id: str, line: QuotaLine, annual_cents: int) -> int:
    """Set a territory's annual quota of a line keeping its period shares; return the old annual quota.

    A count line's periods stay whole units.
    """
    check_amount(line, annual_cents)
    quotas = schema.version_quotas
    where = (
        (quotas.c.version_id == version_id)
        & (quotas.c.territory_id == territory_id)
        & (quotas.c.line == line.name)
    )
    rows = conn.execute(
        sa.select(quotas.c.period, quotas.c.quota_cents).where(where).order_by(quotas.c.period)
    ).all()
    if not rows:
        raise PlanError(
            f"territory '{territory_id}' has no {line.name} quota in v{version_id}; check the territory id"
        )
    old = np.array([r.quota_cents for r in rows], dtype=np.int64)
    scale = HUNDREDTHS if line.counts else 1
    new = split_cents(annual_cents // scale, old.astype(float)) * scale
    for row, cents in zip(rows, new, strict=True):
        conn.execute(
            quotas.update().where(where, quotas.c.period == row.period).values(quota_cents=int(cents))
        )
    return int(old.sum())


def check_amount(line: QuotaLine, cents: int) -> None:
    """Raise :class:`PlanError` for a negative amount, or a fraction of a unit on a count line."""
    if cents < 0:
        raise PlanError(f"a quota cannot be negative ({line.format(cents)}); give 0 or more")
    if line.counts and cents % HUNDREDTHS:
        raise PlanError(f"line {line.name} counts whole {line.unit}; {cents / HUNDREDTHS:g} is not whole")
