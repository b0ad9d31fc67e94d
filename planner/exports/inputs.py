"""Inputs of an export from the files a user has: a plan directory, a quotas CSV, demo quotas.

An export needs an :class:`~planner.plans.approved.ApprovedPlan`. The workflow store supplies
those; from files, :func:`approved_from_files` builds one out of a data set, an
optimized plan directory (``alignment.csv`` + ``territory_reps.csv``, as written by
``planner optimize``) and an optional quotas CSV. Every problem in those files is
reported at once, with file, row, column and fix (:class:`~planner.errors.InputError`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from planner.data.dataset import Dataset
from planner.data.tables import read_csv_table, sheet_row
from planner.errors import InputError, PlanError, Problem
from planner.exports.formats import parse_cents
from planner.money import split_cents
from planner.plans.approved import PERIOD_PATTERN, ApprovedPlan
from planner.plans.files import read_plan
from planner.plans.plan import Plan
from planner.plans.quota_lines import HUNDREDTHS, USD, QuotaLine
from planner.quota.phasing import phase_quotas

DEMO_GROWTH_FRAC = 0.10


def _amount_cents(raw: str, column: str) -> int:
    """Cents of one quota cell: dollars (at most 2 decimals) or whole cents; never negative."""
    if column == "quota_usd":
        value = parse_cents(raw)
    elif re.fullmatch(r"\d+", raw.strip()):
        value = int(raw.strip())
    else:
        raise ValueError(f"'{raw}' is not a whole number of cents")
    if value < 0:
        raise ValueError(f"'{raw}' is negative")
    return value


def read_quota_file(path: str | Path, plan: Plan | None) -> pd.DataFrame:
    """Read a quotas CSV: ``territory_id``, ``period`` and an amount column.

    The amount is ``quota_usd`` (dollars), ``quota_cents``, or ``quota`` with a ``unit``
    column (dollars for ``usd``, whole units for a count line), as exports write it. An
    optional ``line`` column names each row's quota line (and is kept in the result).

    With ``plan=None`` territories are not checked (e.g. last year's quotas, whose
    territories may differ from this year's plan). Returns the quota table of
    :mod:`planner.plans.approved` (``quota_cents`` int64). Raises :class:`InputError` listing
    every bad row (unknown territory, bad period, an amount
    that is negative, not a number or has fractions of a cent, a duplicate).
    """
    path = Path(path)
    frame, problems = read_csv_table(path, ("territory_id", "period"))
    if frame is None:
        raise InputError(problems)
    amount = [c for c in ("quota_cents", "quota_usd", "quota") if c in frame.columns]
    if len(amount) != 1 or (amount == ["quota"] and "unit" not in frame.columns):
        raise InputError(
            [
                Problem(
                    path.name,
                    f"found amount column(s) {amount}",
                    "give exactly one of quota_usd, quota_cents, or quota with a unit column",
                )
            ]
        )
    column = amount[0]
    territories = None if plan is None else set(plan.territories)
    cents = np.zeros(len(frame), dtype=np.int64)
    seen: dict[tuple[str, str, str], int] = {}
    lines = frame["line"].str.strip() if "line" in frame.columns else pd.Series("", index=frame.index)
    for position, row in enumerate(frame.itertuples(index=False)):
        where = {"row": sheet_row(position)}
        territory, period, raw = str(row.territory_id).strip(), str(row.period).strip(), getattr(row, column)
        line = lines.iloc[position]
        if territories is not None and territory not in territories:
            problems.append(
                Problem(
                    path.name,
                    f"unknown territory '{territory}'",
                    f"use a territory of the plan (e.g. {', '.join(sorted(territories)[:5])})",
                    column="territory_id",
                    **where,
                )
            )
        if not re.match(PERIOD_PATTERN, period):
            problems.append(
                Problem(
                    path.name,
                    f"period '{period}' is not YYYY-MM or YYYY-Qn",
                    "write months as 2027-01 and quarters as 2027-Q1",
                    column="period",
                    **where,
                )
            )
        unit_name = str(row.unit).strip() if column == "quota" else "usd"
        try:
            if column != "quota":
                cents[position] = _amount_cents(str(raw), column)
            elif unit_name == USD:
                cents[position] = _amount_cents(str(raw), "quota_usd")
            elif re.fullmatch(r"\d+", str(raw).strip()):
                cents[position] = int(str(raw).strip()) * HUNDREDTHS
            else:
                raise ValueError(f"'{raw}' is not a whole number of {unit_name}")
        except ValueError as exc:
            unit = {
                "quota_usd": "dollars, at most 2 decimals",
                "quota_cents": "whole cents",
                "quota": f"{unit_name}: dollars for usd, whole units otherwise",
            }[column]
            problems.append(
                Problem(path.name, str(exc), f"give a non-negative amount in {unit}", column=column, **where)
            )
        key = (territory, line, period)
        if key in seen:
            of_line = f" ({line})" if line else ""
            problems.append(
                Problem(
                    path.name,
                    f"quota for {territory}{of_line} in {period} given twice (first in row {seen[key]})",
                    "keep one row per territory, line and period",
                    column="period",
                    **where,
                )
            )
        seen.setdefault(key, sheet_row(position))
    if problems:
        raise InputError(problems)
    table = pd.DataFrame(
        {
            "territory_id": frame["territory_id"].str.strip(),
            "period": frame["period"].str.strip(),
            "quota_cents": cents,
        }
    )
    if "line" in frame.columns:
        table.insert(1, "line", lines)
        if "unit" in frame.columns:
            table.insert(2, "unit", frame["unit"].str.strip())
    return table


def file_quota_lines(table: pd.DataFrame) -> tuple[QuotaLine, ...]:
    """The quota lines a quota table names (its ``line`` and ``unit`` columns; one USD line without)."""
    if "line" not in table.columns:
        return (QuotaLine(),)
    units = table["unit"] if "unit" in table.columns else pd.Series(USD, index=table.index)
    pairs = pd.DataFrame({"line": table["line"], "unit": units}).drop_duplicates()
    twice = pairs["line"][pairs["line"].duplicated()].tolist()
    if twice:
        raise PlanError(f"quota line(s) {twice[:5]} are given in two units; give each line one unit")
    return tuple(QuotaLine(row.line, row.unit) for row in pairs.itertuples(index=False))


def demo_quotas(
    plan: Plan, units: pd.DataFrame, year: int, *, growth_frac: float = DEMO_GROWTH_FRAC
) -> pd.DataFrame:
    """DEMO quotas (not a quota method): last 12 months' bookings plus growth, split by TAM share.

    The company total is ``sum(bookings_usd) * (1 + growth_frac)`` in whole dollars; each
    territory's annual quota is its share of TAM (:func:`planner.money.split_cents`, so the
    shares add up exactly), phased evenly over the 12 months of ``year``
    (:func:`planner.quota.phasing.phase_quotas` with flat seasonality). Used by the app and tests
    until approved plans come from the quota workflow.
    """
    tam = units["tam_usd"].groupby(plan.assignment.reindex(units.index.astype(str)).to_numpy()).sum()
    tam = tam.reindex(plan.territories, fill_value=0.0)
    total_cents = round(float(units["bookings_usd"].sum()) * (1 + growth_frac)) * 100
    annual = pd.Series(split_cents(total_cents, tam.to_numpy()), index=tam.index, name="quota_cents")
    return phase_quotas(annual, pd.Series(1.0, index=range(1, 13)), "month", f"{year}-01")


def approved_from_files(
    dataset: Dataset,
    plan_dir: str | Path | None = None,
    quotas: str | Path | pd.DataFrame | None = None,
    *,
    name: str | None = None,
    effective_from: date | None = None,
    approved_by: str = "",
) -> ApprovedPlan:
    """An :class:`ApprovedPlan` from a data set, an optional plan directory and quotas.

    Parameters
    ----------
    dataset : Dataset
        The data set; its own plan is used when ``plan_dir`` is None.
    plan_dir : str or Path, optional
        A plan directory written by ``planner optimize`` (or by hand).
    quotas : str, Path or DataFrame, optional
        A quotas CSV (see :func:`read_quota_file`) or a quota table; none: no quotas.
    name : str, optional
        Label of the plan (default: the plan directory's name, or ``"current"``).
    effective_from : datetime.date, optional
        Date the plan takes effect (default: today).
    approved_by : str
        Who approved it (for the export's metadata).
    """
    plan = dataset.plan if plan_dir is None else read_plan(plan_dir, dataset.units.index)
    if isinstance(quotas, str | Path):
        table = read_quota_file(quotas, plan)
    elif quotas is None:
        table = pd.DataFrame({"territory_id": [], "period": [], "quota_cents": []})
    else:
        table = quotas
    return ApprovedPlan(
        version_id=0,
        name=name or plan.name,
        effective_from=effective_from or date.today(),
        plan=plan,
        quotas=table,
        lines=file_quota_lines(table),
        approved_by=approved_by,
        approved_at=datetime.now(UTC) if approved_by else None,
    )


def demo_approved_plan(dataset: Dataset, plan: Plan, year: int, *, name: str | None = None) -> ApprovedPlan:
    """``plan`` as an :class:`ApprovedPlan` with DEMO quotas (see :func:`demo_quotas`) for ``year``.

    Effective from 1 January of ``year``, version 0, approver ``"demo"``: a stand-in until
    approved plans come from the workflow store.
    """
    return ApprovedPlan(
        version_id=0,
        name=name or plan.name,
        effective_from=date(year, 1, 1),
        plan=plan,
        quotas=demo_quotas(plan, dataset.units, year),
        approved_by="demo",
    )
