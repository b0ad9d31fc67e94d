"""Exponential smoothing (ETS) and Theta, fitted series by series with statsmodels.

statsmodels rather than statsforecast: statsforecast (2.1) pins pandas below 3, which
the rest of the project (and GerryChain, a benchmark baseline) has moved to, while
statsmodels is the reference implementation of both methods in Python (Hyndman et al.'s
state-space ETS, Assimakopoulos and Nikolopoulos's Theta as in Hyndman and Billah), kept
by a large project, and has no such pin.

:class:`ETSForecaster`
    Additive-error ETS with no or a damped trend and no, additive or (for positive
    series) multiplicative seasonality; the form is chosen per series by the corrected
    Akaike information criterion (AICc). Trends are damped: a straight trend extended
    a year ahead overshoots more often than not (Gardner and McKenzie; the M3 results).
    Initial states come from the classic heuristic (a decomposition of the first two
    seasons), which makes a fit a few milliseconds instead of tens; seasonal forms need
    two full seasons of history.
:class:`ThetaForecaster`
    The Theta method: the series is deseasonalized (classical decomposition,
    multiplicative for positive series) once two seasons are known, then forecast by
    simple exponential smoothing with drift. (The classic seasonality test before
    deseasonalizing is skipped: on growing series of three years it often missed a
    30% seasonal swing, and on the real series of the benchmark it changed nothing.)

Both work on each series divided by its level (scale-free, so the optimizer behaves
the same for a 1,000 and a 10,000,000 USD territory). A series with fewer than two
distinct values, or whose fit fails, is forecast by seasonal naive (or its last value
while shorter than a season); the forecaster records which series fell back.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from planner.forecast.frequency import Frequency
from planner.forecast.models.base import PointForecaster, series_levels
from planner.forecast.models.naive import seasonal_naive

MIN_ETS_PERIODS = 10


def _fallback(values: np.ndarray, horizon: int, season_length: int) -> np.ndarray:
    """Seasonal naive for one series, or its last value when shorter than a season."""
    if len(values) >= season_length:
        return seasonal_naive(values[:, None], horizon, season_length)[:, 0]
    return np.full(horizon, values[-1])


def _ets_configs(values: np.ndarray, season_length: int) -> list[tuple[str | None, bool, str | None]]:
    """(trend, damped, seasonal) forms that can be fitted to ``values``."""
    seasonals: list[str | None] = [None]
    if len(values) >= max(2 * season_length, MIN_ETS_PERIODS + 2 * (season_length // 2)):
        seasonals.append("add")
        if (values > 0).all():
            seasonals.append("mul")
    return [
        (trend, damped, seasonal)
        for trend, damped in ((None, False), ("add", True))
        for seasonal in seasonals
    ]


def ets_forecast(values: np.ndarray, horizon: int, season_length: int) -> tuple[np.ndarray, str | None]:
    """ETS forecast of one series (chosen by AICc) and the chosen form, e.g. ``'A,Ad,M'``."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    best: tuple[float, np.ndarray, str] | None = None
    for trend, damped, seasonal in _ets_configs(values, season_length):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted = ETSModel(
                    values,
                    error="add",
                    trend=trend,
                    damped_trend=damped,
                    seasonal=seasonal,
                    seasonal_periods=season_length if seasonal else None,
                    initialization_method="heuristic",
                ).fit(disp=False)
                aicc = float(fitted.aicc)
                forecast = np.asarray(fitted.forecast(horizon), dtype=np.float64)
        except (ValueError, np.linalg.LinAlgError):
            continue
        if np.isfinite(aicc) and np.isfinite(forecast).all() and (best is None or aicc < best[0]):
            name = ",".join(["A", {None: "N", "add": "A"}[trend] + ("d" if damped else ""), _short(seasonal)])
            best = (aicc, forecast, name)
    if best is None:
        return _fallback(values, horizon, season_length), None
    return best[1], best[2]


def _short(form: str | None) -> str:
    return {None: "N", "add": "A", "mul": "M"}[form]


def theta_forecast(values: np.ndarray, horizon: int, season_length: int) -> np.ndarray | None:
    """Theta forecast of one series (None when the fit fails)."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = ThetaModel(
                values,
                period=season_length,
                deseasonalize=len(values) >= 2 * season_length,
                use_test=False,
                method="auto",
            )
            forecast = np.asarray(model.fit().forecast(horizon), dtype=np.float64)
    except (ValueError, np.linalg.LinAlgError):
        return None
    return forecast if np.isfinite(forecast).all() else None


class _SeriesBySeries(PointForecaster):
    """A forecaster fitted to each series on its own, on the series divided by its level."""

    def _forecast_one(self, values: np.ndarray, horizon: int) -> tuple[np.ndarray | None, str | None]:
        raise NotImplementedError

    def fit(self, history: pd.DataFrame) -> _SeriesBySeries:
        """Fit every series of ``history``."""
        values, horizon = self._start(history)
        m = self.frequency_.season_length
        levels = series_levels(values, len(values), m)
        point = np.empty((horizon, values.shape[1]))
        forms, fell_back = [], []
        for k in range(values.shape[1]):
            series = values[:, k] / levels[k]
            forecast, form = (None, None)
            if np.ptp(series) > 0:
                forecast, form = self._forecast_one(series, horizon)
            if forecast is None:
                forecast = _fallback(series, horizon, m)
                fell_back.append(self.series_[k])
            point[:, k] = forecast * levels[k]
            forms.append(form)
        self.point_ = point
        self.forms_ = pd.Series(forms, index=self.series_, dtype=object)
        self.fell_back_ = fell_back
        return self


class ETSForecaster(_SeriesBySeries):
    """Exponential smoothing per series, the form chosen by AICc (see the module docstring).

    Parameters
    ----------
    horizon : int, optional
        Periods ahead to forecast; one season when not given.

    Attributes
    ----------
    forms_ : pandas.Series
        The chosen form per series, e.g. ``'A,Ad,M'`` (error, trend, season; None when
        the series fell back to seasonal naive).
    fell_back_ : list of str
        Series forecast by seasonal naive because they are constant or no form fitted.
    """

    @staticmethod
    def min_periods(frequency: Frequency) -> int:
        """ETS needs 10 periods (the heuristic initialization)."""
        return MIN_ETS_PERIODS

    def _forecast_one(self, values: np.ndarray, horizon: int) -> tuple[np.ndarray | None, str | None]:
        forecast, form = ets_forecast(values, horizon, self.frequency_.season_length)
        return (forecast, form) if form is not None else (None, None)


class ThetaForecaster(_SeriesBySeries):
    """The Theta method per series (see the module docstring).

    Parameters
    ----------
    horizon : int, optional
        Periods ahead to forecast; one season when not given.

    Attributes
    ----------
    fell_back_ : list of str
        Series forecast by seasonal naive because they are constant or the fit failed.
    """

    @staticmethod
    def min_periods(frequency: Frequency) -> int:
        """Theta needs 4 periods."""
        return 4

    def _forecast_one(self, values: np.ndarray, horizon: int) -> tuple[np.ndarray | None, str | None]:
        forecast = theta_forecast(values, horizon, self.frequency_.season_length)
        return forecast, "theta" if forecast is not None else None
