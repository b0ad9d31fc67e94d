"""Bookings history per territory (or per unit) of a plan, by month, quarter or week.

Bookings carry the unit of their account, so a plan's territory history is the sum of
its units' bookings: when the plan changes, the history is re-aggregated to the new
territories by unit, and a forecast always matches the plan being looked at.

A history is a wide frame: one row per period (index ``period``, the period's start,
every whole period from the first to the last booked month, periods without bookings
are 0), one column per territory (or unit), values in USD. See
:mod:`planner.forecast.frequency`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from planner.data.dataset import Dataset
from planner.errors import PlannerError
from planner.forecast.frequency import MONTH, Frequency, frequency_named
from planner.plans.plan import Plan


def bookings_history(
    bookings: pd.DataFrame,
    plan: Plan,
    *,
    by: Literal["territory", "unit"] = "territory",
    frequency: str | Frequency = MONTH,
) -> pd.DataFrame:
    """Bookings (USD) per period and territory of ``plan`` (or per unit), periods without bookings 0.

    Parameters
    ----------
    bookings : pandas.DataFrame
        ``date``, ``amount_usd`` and ``unit_id`` (as in :attr:`planner.data.dataset.Dataset.bookings`).
    plan : Plan
        The plan whose territories the units are summed into; every territory of the plan
        gets a column, even one without any booking.
    by : {"territory", "unit"}
        Sum per territory of ``plan`` or keep one column per unit.
    frequency : {"month", "quarter", "week"} or Frequency
        The period bookings are summed by.

    Returns
    -------
    pandas.DataFrame
        Index ``period`` (period starts, no gaps), one float column per territory (or unit).

    Raises
    ------
    PlannerError
        When there are no bookings, or bookings of units the plan does not know.
    """
    missing = {"date", "amount_usd", "unit_id"} - set(bookings.columns)
    if missing:
        raise PlannerError(f"bookings lack column(s) {sorted(missing)}; load them with load_dataset")
    frequency = frequency_named(frequency)
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
    period = frequency.start_of(pd.to_datetime(bookings["date"]))
    if by == "territory":
        key = unit_ids.map(plan.assignment)
        columns = pd.Index([str(t) for t in plan.territories], name="territory_id")
    else:
        key = unit_ids
        columns = pd.Index([str(u) for u in plan.units], name="unit_id")
    frame = pd.DataFrame(
        {
            "period": period.to_numpy(),
            "key": key.to_numpy(),
            "amount_usd": bookings["amount_usd"].to_numpy(np.float64),
        }
    )
    wide = frame.pivot_table(
        index="period", columns="key", values="amount_usd", aggfunc="sum", fill_value=0.0
    )
    periods = whole_periods(pd.to_datetime(bookings["date"]), frequency)
    return wide.reindex(index=periods, columns=columns, fill_value=0.0).astype(np.float64)


def whole_periods(dates: pd.Series, frequency: Frequency) -> pd.DatetimeIndex:
    """Starts of the periods wholly inside the months from the first to the last booking.

    Bookings are taken as complete from the first day of the first booked month to the
    last day of the last booked month. A quarter or week only partly inside that span is
    left out: its sum would look like a drop in bookings.

    Raises
    ------
    PlannerError
        When not one whole period fits.
    """
    first = dates.min().to_period("M").start_time
    end = dates.max().to_period("M").end_time.normalize() + pd.Timedelta(days=1)  # day after the last
    starts = pd.date_range(frequency.start_of(first), end, freq=frequency.alias)
    ends = starts + pd.tseries.frequencies.to_offset(frequency.alias)
    whole = starts[(starts >= first) & (ends <= end)].rename("period")
    if whole.empty:
        raise PlannerError(
            f"bookings from {first:%Y-%m-%d} to {end - pd.Timedelta(days=1):%Y-%m-%d} do not span one whole "
            f"{frequency.name}; add more bookings or forecast by month"
        )
    return whole


def territory_history(
    dataset: Dataset, plan: Plan | None = None, *, frequency: str | Frequency = MONTH
) -> pd.DataFrame:
    """Bookings per period and territory of ``plan`` (default: the data set's current plan)."""
    return bookings_history(dataset.bookings, plan if plan is not None else dataset.plan, frequency=frequency)


def seasonal_weights(history: pd.DataFrame, months: list[str]) -> list[float]:
    """Weight of each month ``'YYYY-MM'`` by its calendar month's mean bookings in ``history``.

    Used to spread a yearly target like past bookings were spread (all territories
    together). Calendar months the history lacks get the mean of the others.
    """
    total = history.sum(axis=1)  # a monthly history
    by_month = total.groupby(total.index.month).mean()
    fallback = float(by_month.mean()) if len(by_month) else 1.0
    return [float(by_month.get(int(m[5:7]), fallback)) for m in months]
