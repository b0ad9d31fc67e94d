"""Writing a version's contents: checked input rows, new version rows, copies and re-phased quotas.

Every function runs inside the caller's transaction (or before it, for the input checks).
"""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from planner.errors import PlanError
from planner.money import split_cents, usd_to_cents
from planner.plans.plan import Plan
from planner.store import schema
from planner.store.records import now
from planner.store.workflow import Status


def territory_rows(plan: Plan, territories: pd.DataFrame) -> list[dict]:
    """``version_territories`` rows (without ``version_id``) from territory inputs in dollars."""
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
    allocation_basis: dict | None = None,
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
            allocation_basis=json.dumps(allocation_basis, sort_keys=True) if allocation_basis else None,
        )
        .returning(schema.plan_versions.c.version_id)
    ).scalar_one()


def insert_contents(
    conn: Connection,
    version_id: int,
    plan: Plan,
    rep_rows: list[dict],
    territory_rows: list[dict],
    quotas: pd.DataFrame,
) -> None:
    """Write a new version's units, reps, territory inputs and quotas."""
    assignment = plan.assignment
    unit_rows = [
        {"version_id": version_id, "unit_id": u, "territory_id": t}
        for u, t in zip(assignment.index, assignment.to_numpy(), strict=True)
    ]
    quota_rows = [
        {"version_id": version_id, "territory_id": t, "period": p, "quota_cents": int(c)}
        for t, p, c in quotas.itertuples(index=False)
    ]
    for table, rows in (
        (schema.version_units, unit_rows),
        (schema.version_reps, [dict(r, version_id=version_id) for r in rep_rows]),
        (schema.version_territories, [dict(r, version_id=version_id) for r in territory_rows]),
        (schema.version_quotas, quota_rows),
    ):
        if rows:
            conn.execute(table.insert(), rows)


def copy_contents(conn: Connection, source_id: int, target_id: int) -> None:
    """Copy a version's units, reps, territory inputs and quotas to another (server side)."""
    for table in (
        schema.version_units,
        schema.version_reps,
        schema.version_territories,
        schema.version_quotas,
    ):
        columns = [c for c in table.c if c.name != "version_id"]
        select = sa.select(sa.literal(target_id), *columns).where(table.c.version_id == source_id)
        conn.execute(table.insert().from_select(["version_id", *(c.name for c in columns)], select))


def rephase(conn: Connection, version_id: int, territory_id: str, annual_cents: int) -> int:
    """Set a territory's annual quota keeping its period shares; return the old annual quota."""
    if annual_cents < 0:
        raise PlanError(f"a quota cannot be negative ({annual_cents} cents)")
    quotas = schema.version_quotas
    rows = conn.execute(
        sa.select(quotas.c.period, quotas.c.quota_cents)
        .where(quotas.c.version_id == version_id, quotas.c.territory_id == territory_id)
        .order_by(quotas.c.period)
    ).all()
    if not rows:
        raise PlanError(f"territory '{territory_id}' has no quota in v{version_id}; check the territory id")
    old = np.array([r.quota_cents for r in rows], dtype=np.int64)
    new = split_cents(annual_cents, old.astype(float))
    for row, cents in zip(rows, new, strict=True):
        conn.execute(
            quotas.update()
            .where(
                quotas.c.version_id == version_id,
                quotas.c.territory_id == territory_id,
                quotas.c.period == row.period,
            )
            .values(quota_cents=int(cents))
        )
    return int(old.sum())
