"""The period of a history (month, quarter or week), its season length and the checks a history must pass.

A history is a wide frame: one row per period (index of period starts, consecutive,
no gaps), one column per series (territory or unit), values in USD, 0 or more.
Monthly periods start on the 1st, quarterly ones on 1 January, April, July and
October, weekly ones on Monday. The season follows the period: 12 months, 4 quarters
or 52 weeks. Horizon bands split one season ahead into its first quarter, second
quarter and second half (months 1-3, 4-6 and 7-12; quarters 1, 2 and 3-4; weeks
1-13, 14-26 and 27-52), so results at different frequencies read alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from planner.errors import PlannerError

FrequencyName = Literal["month", "quarter", "week"]


@dataclass(frozen=True)
class Frequency:
    """A regular period of bookings history.

    Attributes
    ----------
    name : {"month", "quarter", "week"}
        What one period is.
    alias : str
        The pandas frequency of the period starts (``"MS"``, ``"QS-JAN"``, ``"W-MON"``).
    season_length : int
        Periods in one seasonal cycle (a year).
    """

    name: FrequencyName
    alias: str
    season_length: int

    @property
    def plural(self) -> str:
        """``'months'``, ``'quarters'`` or ``'weeks'``."""
        return f"{self.name}s"

    def starts(self, first: pd.Timestamp, periods: int) -> pd.DatetimeIndex:
        """``periods`` consecutive period starts from the period holding ``first`` (named ``period``)."""
        return pd.date_range(self.start_of(pd.Timestamp(first)), periods=periods, freq=self.alias).rename(
            "period"
        )

    def start_of(self, dates: pd.Timestamp | pd.Series) -> pd.Timestamp | pd.Series:
        """The start of the period holding each date."""
        period = {"month": "M", "quarter": "Q", "week": "W-SUN"}[self.name]
        if isinstance(dates, pd.Series):
            return dates.dt.to_period(period).dt.start_time.dt.normalize()
        return dates.to_period(period).start_time.normalize()

    def labels(self, starts: pd.DatetimeIndex) -> list[str]:
        """Period starts as ``'YYYY-MM'``, ``'YYYY-Qn'`` or ``'YYYY-MM-DD'`` (the Monday)."""
        if self.name == "month":
            return [s.strftime("%Y-%m") for s in starts]
        if self.name == "quarter":
            return [f"{s.year}-Q{(s.month - 1) // 3 + 1}" for s in starts]
        return [s.strftime("%Y-%m-%d") for s in starts]

    def band_edges(self, horizon: int) -> list[tuple[int, int]]:
        """Horizon bands (first, last period ahead, inclusive) covering 1 to ``horizon``.

        Quarter of a season, second quarter, second half, and then whole further seasons.
        """
        m = self.season_length
        cuts = [math.ceil(m / 4), math.ceil(m / 2), m]
        cuts += [m * k for k in range(2, math.ceil(horizon / m) + 1)]
        edges, low = [], 1
        for cut in cuts:
            high = min(cut, horizon)
            if high >= low:
                edges.append((low, high))
            low = max(low, cut + 1)
        return edges

    def band_labels(self, horizon: int) -> list[str]:
        """Band names such as ``'1-3'``, ``'4-6'``, ``'7-12'``."""
        return [f"{a}" if a == b else f"{a}-{b}" for a, b in self.band_edges(horizon)]

    def band_of(self, horizon: int) -> np.ndarray:
        """Band label of each horizon 1..``horizon``."""
        labels = np.empty(horizon, dtype=object)
        for (low, high), label in zip(self.band_edges(horizon), self.band_labels(horizon), strict=True):
            labels[low - 1 : high] = label
        return labels


MONTH = Frequency("month", "MS", 12)
QUARTER = Frequency("quarter", "QS-JAN", 4)
WEEK = Frequency("week", "W-MON", 52)
FREQUENCIES: dict[str, Frequency] = {f.name: f for f in (MONTH, QUARTER, WEEK)}


def frequency_named(name: str | Frequency) -> Frequency:
    """The :class:`Frequency` called ``name`` (``'month'``, ``'quarter'`` or ``'week'``)."""
    if isinstance(name, Frequency):
        return name
    if name not in FREQUENCIES:
        raise PlannerError(f"frequency is {name!r}; use one of {sorted(FREQUENCIES)}")
    return FREQUENCIES[name]


def infer_frequency(index: pd.Index) -> Frequency:
    """The frequency of a history's period starts, with a clear error for gaps and odd dates.

    Raises
    ------
    PlannerError
        For an index that is not dates, dates that are not period starts, or a gap
        (naming the first one and the fix).
    """
    if not isinstance(index, pd.DatetimeIndex):
        raise PlannerError("history must be indexed by period starts (dates); build it with bookings_history")
    if len(index) < 2:
        raise PlannerError(
            f"history has {len(index)} period(s); a forecast needs more than a year of bookings: "
            "add older bookings"
        )
    if not index.is_monotonic_increasing or index.has_duplicates:
        raise PlannerError("history dates must be increasing, each period once; sort it and drop duplicates")
    step_days = int(np.median(np.diff(index.to_numpy().astype("datetime64[D]").astype(np.int64))))
    if step_days == 7:
        frequency = WEEK
    elif 28 <= step_days <= 31:
        frequency = MONTH
    elif 89 <= step_days <= 92:
        frequency = QUARTER
    else:
        raise PlannerError(
            f"history dates are {step_days} days apart; give monthly, quarterly or weekly periods"
        )
    expected = frequency.starts(index[0], len(index))
    if index[0] != expected[0]:
        raise PlannerError(
            f"history starts on {index[0]:%Y-%m-%d}, which is not the start of a {frequency.name}; "
            f"give {frequency.name} starts ({_start_rule(frequency)})"
        )
    mismatch = np.flatnonzero(index != expected)
    if len(mismatch):
        k = int(mismatch[0])
        raise PlannerError(
            f"history is {frequency.name}ly but has a gap or an irregular date after "
            f"{index[k - 1]:%Y-%m-%d}: the next {frequency.name} is {expected[k]:%Y-%m-%d}, the history "
            f"has {index[k]:%Y-%m-%d}; add the missing {frequency.plural} with 0 bookings"
        )
    return frequency


def _start_rule(frequency: Frequency) -> str:
    return {
        "month": "the 1st of each month",
        "quarter": "1 January, April, July, October",
        "week": "Mondays",
    }[frequency.name]


def require_periods(n_periods: int, frequency: Frequency, min_periods: int) -> None:
    """Raise a :class:`PlannerError` when a history of ``n_periods`` is shorter than ``min_periods``."""
    if n_periods < min_periods:
        raise PlannerError(
            f"history has {n_periods} {frequency.plural}; this needs at least {min_periods}: "
            "add older bookings"
        )


def check_history(
    history: pd.DataFrame, *, min_periods: int = 1, frequency: str | Frequency | None = None
) -> tuple[np.ndarray, Frequency]:
    """Validate a history and return its values (periods x series, float) and its frequency.

    Parameters
    ----------
    history : pandas.DataFrame
        Period starts as index, one column per series.
    min_periods : int
        Periods the caller needs at least.
    frequency : str or Frequency, optional
        The expected frequency; inferred from the dates when not given.

    Raises
    ------
    PlannerError
        For an empty frame, irregular or gappy dates (naming the first gap), a frequency
        other than the one given, missing, infinite or negative values, or a history
        shorter than ``min_periods``.
    """
    if not isinstance(history, pd.DataFrame) or history.shape[1] == 0:
        raise PlannerError("history must be a DataFrame with one column per territory (or unit)")
    found = infer_frequency(history.index)
    if frequency is not None and frequency_named(frequency) != found:
        raise PlannerError(
            f"history is {found.name}ly but {frequency_named(frequency).name}ly was asked for; "
            f"aggregate the bookings by {frequency_named(frequency).name}"
        )
    require_periods(len(history), found, min_periods)
    values = history.to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        row, column = np.argwhere(~np.isfinite(values))[0]
        raise PlannerError(
            f"history holds a missing or infinite value ({history.columns[column]}, "
            f"{history.index[row]:%Y-%m-%d}); fill periods without bookings with 0"
        )
    if (values < 0).any():
        row, column = np.argwhere(values < 0)[0]
        raise PlannerError(
            f"history holds negative bookings ({history.columns[column]}, {history.index[row]:%Y-%m-%d}: "
            f"{values[row, column]:g}); bookings per period must be 0 or more"
        )
    return values, found
