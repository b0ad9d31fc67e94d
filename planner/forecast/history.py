"""Monthly bookings history per territory (or per unit) of a plan.

Bookings carry the unit of their account, so a plan's territory history is the sum of
its units' bookings: when the plan changes, the history is re-aggregated to the new
territories by unit, and a forecast always matches the plan being looked at.

A history is a wide frame: one row per month (index ``month``, first day of the month,
every month from the first to the last booking, months without bookings are 0), one
column per territory (or unit), values in USD.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from planner.data.dataset import Dataset
from planner.errors import PlannerError
from planner.plans.plan import Plan


def month_index(start: pd.Timestamp, periods: int) -> pd.DatetimeIndex:
    """``periods`` consecutive month starts from ``start`` (named ``month``)."""
    return pd.date_range(
        pd.Timestamp(start).to_period("M").to_timestamp(), periods=periods, freq="MS"
    ).rename("month")


def month_labels(months: pd.DatetimeIndex) -> list[str]:
    """Months as ``'YYYY-MM'`` strings."""
    return [m.strftime("%Y-%m") for m in months]


def monthly_history(
    bookings: pd.DataFrame,
    plan: Plan,
    *,
    by: Literal["territory", "unit"] = "territory",
) -> pd.DataFrame:
    """Monthly bookings (USD) per territory of ``plan`` (or per unit), months without bookings 0.

    Parameters
    ----------
    bookings : pandas.DataFrame
        ``date``, ``amount_usd`` and ``unit_id`` (as in :attr:`planner.data.dataset.Dataset.bookings`).
    plan : Plan
        The plan whose territories the units are summed into; every territory of the plan
        gets a column, even one without any booking.
    by : {"territory", "unit"}
        Sum per territory of ``plan`` or keep one column per unit.

    Returns
    -------
    pandas.DataFrame
        Index ``month`` (month starts, no gaps), one float column per territory (or unit).

    Raises
    ------
    PlannerError
        When there are no bookings, or bookings of units the plan does not know.
    """
    missing = {"date", "amount_usd", "unit_id"} - set(bookings.columns)
    if missing:
        raise PlannerError(f"bookings lack column(s) {sorted(missing)}; load them with load_dataset")
    if by not in ("territory", "unit"):
        raise PlannerError(f"by must be 'territory' or 'unit', not {by!r}")
    if bookings.empty:
        raise PlannerError("there are no bookings to build a history from; add bookings.csv with some rows")
    unit_ids = bookings["unit_id"].astype(str)
    known = unit_ids.isin(plan.units)
    if not known.all():
        unknown = sorted(unit_ids[~known].unique())[:5]
        raise PlannerError(
            f"bookings of units {unknown} that are not in the plan; use the plan of this data set"
        )
    month = pd.to_datetime(bookings["date"]).dt.to_period("M").dt.to_timestamp()
    if by == "territory":
        key = unit_ids.map(plan.assignment)
        columns = pd.Index([str(t) for t in plan.territories], name="territory_id")
    else:
        key = unit_ids
        columns = pd.Index([str(u) for u in plan.units], name="unit_id")
    frame = pd.DataFrame(
        {
            "month": month.to_numpy(),
            "key": key.to_numpy(),
            "amount_usd": bookings["amount_usd"].to_numpy(np.float64),
        }
    )
    wide = frame.pivot_table(index="month", columns="key", values="amount_usd", aggfunc="sum", fill_value=0.0)
    months = month_index(month.min(), len(pd.period_range(month.min(), month.max(), freq="M")))
    return wide.reindex(index=months, columns=columns, fill_value=0.0).astype(np.float64)


def territory_history(dataset: Dataset, plan: Plan | None = None) -> pd.DataFrame:
    """Monthly bookings per territory of ``plan`` (default: the data set's current plan)."""
    return monthly_history(dataset.bookings, plan if plan is not None else dataset.plan)


def seasonal_weights(history: pd.DataFrame, months: list[str]) -> list[float]:
    """Weight of each month ``'YYYY-MM'`` by its calendar month's mean bookings in ``history``.

    Used to spread a yearly target like past bookings were spread (all territories
    together). Calendar months the history lacks get the mean of the others.
    """
    total = history.sum(axis=1)
    by_month = total.groupby(total.index.month).mean()
    fallback = float(by_month.mean()) if len(by_month) else 1.0
    return [float(by_month.get(int(m[5:7]), fallback)) for m in months]
