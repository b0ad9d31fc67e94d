"""The territories table that :func:`~planner.quota.allocation.allocate_quotas` reads, from data and a plan.

Per territory of the plan:

- ``potential_usd``: the TAM of its units (``units.tam_usd``, or another unit measure);
- ``history_usd``: bookings of the trailing 12 months (to the last booking date), of the
  accounts in its units;
- ``forecast_usd``: a forecast given by the caller (e.g. from a forecasting model), or
  by default ``history_usd x (1 + growth_frac)``;
- ``last_quota_cents``: last year's full-year quota when given (empty otherwise: no
  guardrail for that territory);
- ``ramp_frac``: the mean, over its reps, of each rep's share of full productivity over
  the fiscal year. Reps with status ``ramping`` follow a linear ramp from their hire
  date: in tenure month ``k`` (``k = 0`` is the hire month) a rep delivers
  ``min(1, (k + 0.5) / ramp_months)`` of a ramped rep, and nothing before being hired;
  ``ramped`` and ``leaving`` reps count as 1;
- ``relief_frac``: the mean, over its reps, of the share of the year the territory is
  uncovered: ``backfill_months / 12`` for a ``leaving`` rep (time to hire a backfill),
  0 otherwise; relief given by the caller (e.g. :func:`prorated_relief_frac` of a leave
  or a mid-year territory change) replaces it for the territories it names;
- ``reps``: number of reps. A vacant territory keeps ramp 1 and relief 0: its quota is
  set for the territory, and its future rep's ramp when they are hired.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from planner.data.dataset import Dataset
from planner.errors import InputError, PlannerError, Problem
from planner.plans.plan import Plan
from planner.quota.phasing import fiscal_months

DEFAULT_RAMP_MONTHS = 6
DEFAULT_BACKFILL_MONTHS = 3


def territory_bookings_usd(
    dataset: Dataset, plan: Plan | None = None, *, months: int = 12, skip_months: int = 0
) -> pd.Series:
    """Bookings per territory over a window of ``months`` ending ``skip_months`` before the last booking.

    With ``skip_months=0`` this is the trailing 12 months; with ``skip_months=12`` the
    12 months before them (last year's bookings). Index: the plan's territories (0 when
    a territory booked nothing).
    """
    plan = plan or dataset.plan
    bookings = dataset.bookings
    if len(bookings) == 0:
        return pd.Series(0.0, index=plan.territories, name="bookings_usd")
    end = bookings["date"].max() - pd.DateOffset(months=skip_months)
    start = end - pd.DateOffset(months=months)
    window = bookings[(bookings["date"] > start) & (bookings["date"] <= end)]
    territory = window["unit_id"].map(plan.assignment)
    sums = window["amount_usd"].groupby(territory).sum()
    return sums.reindex(plan.territories, fill_value=0.0).astype(np.float64).rename("bookings_usd")


def rep_ramp_frac(
    hire_dates: pd.Series, fiscal_year_start: str, ramp_months: int = DEFAULT_RAMP_MONTHS
) -> pd.Series:
    """Share of a ramped rep's productivity each rep delivers over the fiscal year (linear ramp).

    Examples
    --------
    >>> hired = pd.Series(pd.to_datetime(["2027-01-10", "2020-05-01"]), index=["new", "old"])
    >>> rep_ramp_frac(hired, "2027-01", ramp_months=2).round(4).tolist()
    [0.9167, 1.0]
    """
    if ramp_months < 1:
        raise PlannerError(f"ramp_months is {ramp_months}; give a whole number of months >= 1, e.g. 6")
    months = fiscal_months(fiscal_year_start)
    plan_month = (months.year * 12 + months.month - 1).to_numpy()
    hired = pd.to_datetime(hire_dates)
    hire_month = (hired.dt.year * 12 + hired.dt.month - 1).to_numpy()
    tenure = plan_month[None, :] - hire_month[:, None]
    productivity = np.where(tenure >= 0, np.minimum(1.0, (tenure + 0.5) / ramp_months), 0.0)
    return pd.Series(productivity.mean(axis=1), index=hire_dates.index, name="ramp_frac")


def prorated_relief_frac(start: date | str, end: date | str, fiscal_year_start: str) -> float:
    """Share of the fiscal year's days from ``start`` to ``end`` (inclusive): leave or a mid-year change.

    Examples
    --------
    >>> round(prorated_relief_frac("2027-04-01", "2027-06-30", "2027-01"), 4)
    0.2493
    """
    months = fiscal_months(fiscal_year_start)
    year_start, year_end = months[0].start_time.normalize(), months[-1].end_time.normalize()
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    if last < first:
        raise PlannerError(f"relief ends ({last.date()}) before it starts ({first.date()}); swap the dates")
    overlap = (min(last, year_end) - max(first, year_start)).days + 1
    return max(overlap, 0) / ((year_end - year_start).days + 1)


def quota_territories(
    dataset: Dataset,
    plan: Plan | None = None,
    *,
    fiscal_year_start: str,
    forecast_usd: pd.Series | None = None,
    growth_frac: float = 0.10,
    last_quota_cents: pd.Series | None = None,
    relief_frac: pd.Series | None = None,
    ramp_months: int = DEFAULT_RAMP_MONTHS,
    backfill_months: int = DEFAULT_BACKFILL_MONTHS,
    potential_measure: str = "tam_usd",
) -> pd.DataFrame:
    """The territories table for :func:`planner.quota.allocation.allocate_quotas` (see the module docstring).

    Parameters
    ----------
    dataset : Dataset
        Units (``tam_usd``), bookings and reps (``hire_date``, ``status``).
    plan : Plan, optional
        The alignment quotas are set for; the data set's current plan when None.
    fiscal_year_start : str
        First month of the quota year, ``'YYYY-MM'`` (for ramp).
    forecast_usd : pandas.Series, optional
        Forecast bookings per territory for the quota year; every territory needs one.
        Default: trailing 12-month bookings grown by ``growth_frac``.
    growth_frac : float
        Growth applied to trailing bookings for the default forecast.
    last_quota_cents : pandas.Series, optional
        Last year's full-year quota per territory (whole cents); territories missing
        from it get no guardrail.
    relief_frac : pandas.Series, optional
        Share of the year each named territory is uncovered (0-1); replaces the relief
        derived from leaving reps for those territories.
    ramp_months : int
        Months a new rep takes to reach full productivity.
    backfill_months : int
        Months a leaving rep's territory stays uncovered.
    potential_measure : str
        Unit measure summed into ``potential_usd`` (a quota line's potential, e.g. ``accounts``).

    Returns
    -------
    pandas.DataFrame
        Index ``territory_id``; ``potential_usd``, ``history_usd``, ``forecast_usd``,
        ``last_quota_cents``, ``ramp_frac``, ``relief_frac``, ``reps``.
    """
    plan = plan or dataset.plan
    if not 0 <= backfill_months <= 12:
        raise PlannerError(f"backfill_months is {backfill_months}; give 0-12 months, e.g. 3")
    territories = plan.territories
    potential = dataset.units[potential_measure].groupby(plan.assignment.reindex(dataset.units.index)).sum()
    history = territory_bookings_usd(dataset, plan)
    table = pd.DataFrame(
        {
            "potential_usd": potential.reindex(territories, fill_value=0.0).astype(np.float64),
            "history_usd": history,
        },
        index=territories,
    )
    if forecast_usd is None:
        table["forecast_usd"] = history * (1 + growth_frac)
    else:
        table["forecast_usd"] = _per_territory(forecast_usd, territories, "forecast_usd", required=True)
    table["last_quota_cents"] = (
        _per_territory(last_quota_cents, territories, "last_quota_cents", required=False)
        if last_quota_cents is not None
        else np.nan
    )
    ramp, relief, reps = _rep_capacity(dataset, plan, fiscal_year_start, ramp_months, backfill_months)
    table["ramp_frac"] = ramp
    table["relief_frac"] = relief
    if relief_frac is not None:
        given = _per_territory(relief_frac, territories, "relief_frac", required=False)
        table["relief_frac"] = given.fillna(table["relief_frac"])
    table["reps"] = reps
    return table


def _rep_capacity(
    dataset: Dataset, plan: Plan, fiscal_year_start: str, ramp_months: int, backfill_months: int
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Mean ramp and relief over each territory's reps, and the number of reps."""
    territories = plan.territories
    covering = plan.territory_reps
    reps = dataset.reps.reindex(columns=["hire_date", "status"]).reindex(covering.index)
    unknown = covering.index[reps["hire_date"].isna().to_numpy() | reps["status"].isna().to_numpy()]
    if len(unknown):
        raise InputError(
            [
                Problem(
                    "reps",
                    f"rep '{rep_id}' covers territory '{covering[rep_id]}' but has no hire_date or status",
                    "add the rep to reps with hire_date and status (needed for ramp and relief)",
                    column="hire_date",
                )
                for rep_id in unknown[:20]
            ]
        )
    ramping = (reps["status"] == "ramping").to_numpy()
    ramp = np.ones(len(reps))
    if ramping.any():
        ramp[ramping] = rep_ramp_frac(reps["hire_date"][ramping], fiscal_year_start, ramp_months).to_numpy()
    relief = np.where((reps["status"] == "leaving").to_numpy(), backfill_months / 12, 0.0)
    per_rep = pd.DataFrame({"ramp": ramp, "relief": relief, "territory": covering.to_numpy()})
    grouped = per_rep.groupby("territory")
    return (
        grouped["ramp"].mean().reindex(territories, fill_value=1.0),
        grouped["relief"].mean().reindex(territories, fill_value=0.0),
        grouped.size().reindex(territories, fill_value=0).astype(int),
    )


def _per_territory(values: pd.Series, territories: pd.Index, name: str, *, required: bool) -> pd.Series:
    """``values`` reindexed to the plan's territories; missing ones are an error when required."""
    given = pd.Series(pd.to_numeric(values, errors="coerce").to_numpy(), index=values.index.astype(str))
    unknown = given.index.difference(territories)
    absent = territories.difference(given.index) if required else pd.Index([])
    problems = [
        Problem(name, f"territory '{t}' is not in the plan", "use the plan's territory ids", column=name)
        for t in unknown[:20]
    ] + [
        Problem(name, f"no {name} for territory '{t}'", f"give {name} for every territory", column=name)
        for t in absent[:20]
    ]
    if problems:
        raise InputError(problems)
    return given.reindex(territories).astype(np.float64)
