r"""Seasonal naive, the baseline every other forecaster must beat.

:math:`\hat y_{T+h} = y_{T+h-mk}` with :math:`k = \lceil h/m \rceil` and :math:`m` the
season length: each period is forecast by the same period of the last observed season.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.forecast.models.base import PointForecaster


def seasonal_naive(values: np.ndarray, horizon: int, season_length: int) -> np.ndarray:
    """Seasonal-naive forecast (horizon x series) of a history's values (periods x series)."""
    steps = np.arange(horizon)
    return values[-season_length:][steps % season_length]


class SeasonalNaiveForecaster(PointForecaster):
    """Seasonal naive: each period is forecast by the same period of the last observed season.

    Parameters
    ----------
    horizon : int, optional
        Periods ahead to forecast; one season when not given.

    Examples
    --------
    >>> import pandas as pd
    >>> months = pd.date_range("2025-01-01", periods=14, freq="MS")
    >>> history = pd.DataFrame({"T1": [float(m) for m in range(1, 15)]}, index=months)
    >>> SeasonalNaiveForecaster(horizon=2).fit(history).predict()["T1"].tolist()
    [3.0, 4.0]
    """

    def fit(self, history: pd.DataFrame) -> SeasonalNaiveForecaster:
        """Remember the last observed season."""
        values, horizon = self._start(history)
        self.point_ = seasonal_naive(values, horizon, self.frequency_.season_length)
        return self
