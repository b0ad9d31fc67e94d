"""What every candidate forecaster shares: parameters, checks and the shape of its forecast.

scikit-learn conventions: ``__init__`` only stores keyword parameters, ``fit`` returns
``self``, fitted attributes end in ``_``. ``fit`` takes a history (see
:mod:`planner.forecast.frequency`); ``predict`` returns a wide frame, one row per
forecast period (index ``period``), one column per series, in USD, 0 or more.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from planner.errors import PlannerError
from planner.forecast.frequency import Frequency, check_history, require_periods


def check_horizon(horizon: int) -> None:
    """Raise a :class:`PlannerError` unless ``horizon`` is a whole number of periods, 1 or more."""
    if int(horizon) != horizon or horizon < 1:
        raise PlannerError(f"horizon must be a whole number of periods, 1 or more, not {horizon}")


def series_levels(values: np.ndarray, origin: int, season_length: int) -> np.ndarray:
    """Level of each series after ``origin`` periods: mean of the last season.

    Falls back to the mean of all observed periods, then to 1, so the level is never 0.
    """
    recent = values[max(0, origin - season_length) : origin].mean(axis=0)
    overall = values[:origin].mean(axis=0)
    level = np.where(recent > 0, recent, overall)
    return np.where(level > 0, level, 1.0)


def season_positions(periods: pd.DatetimeIndex, frequency: Frequency) -> np.ndarray:
    """Position of each period in its season, 0 to ``season_length - 1``.

    Months count from January and quarters from the first quarter; weeks count from a
    fixed Monday, so a position recurs exactly every 52 weeks (as seasonal naive does).
    """
    if frequency.name == "month":
        return periods.month.to_numpy() - 1
    if frequency.name == "quarter":
        return (periods.month.to_numpy() - 1) // 3
    weeks = (periods - pd.Timestamp("1970-01-05")).days.to_numpy() // 7
    return weeks % frequency.season_length


class PointForecaster(BaseEstimator):
    """Base of the candidate forecasters.

    Parameters
    ----------
    horizon : int, optional
        Periods ahead to forecast; one season when not given.

    Attributes
    ----------
    frequency_ : Frequency
        The history's period.
    series_ : pandas.Index
        Series ids (the history's columns).
    periods_ : pandas.DatetimeIndex
        The forecast periods.
    point_ : numpy.ndarray
        The forecast, horizon x series, USD.
    """

    def __init__(self, *, horizon: int | None = None) -> None:
        self.horizon = horizon

    @staticmethod
    def min_periods(frequency: Frequency) -> int:
        """Periods of history the forecaster needs at least."""
        return frequency.season_length

    def _start(self, history: pd.DataFrame) -> tuple[np.ndarray, int]:
        """Check ``history``, set the common fitted attributes; return the values and the horizon."""
        values, frequency = check_history(history)
        require_periods(len(values), frequency, self.min_periods(frequency))
        horizon = frequency.season_length if self.horizon is None else self.horizon
        check_horizon(horizon)
        self.frequency_ = frequency
        self.series_ = history.columns.astype(str)
        self.periods_ = frequency.starts(history.index[-1], horizon + 1)[1:]
        return values, horizon

    def predict(self) -> pd.DataFrame:
        """The forecast: one row per period ahead, one column per series, USD."""
        return pd.DataFrame(np.maximum(self.point_, 0.0), index=self.periods_, columns=self.series_)
