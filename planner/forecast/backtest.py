r"""Rolling-origin backtest of forecasters: WAPE, MASE and interval coverage per horizon.

At each forecast origin :math:`o` (the number of months observed) every forecaster is
cloned and fitted on ``history.iloc[:o]`` only, then forecasts months
:math:`o \ldots o+H-1`, which are compared with what happened. Origins step back from
the last one that still has a full horizon of outcomes (like scikit-learn's
``TimeSeriesSplit`` with an expanding window and a fixed test size), so no forecast
ever sees the months it is judged on.

Metrics, for each method, per horizon and overall (pooled over origins and series):

- WAPE: :math:`\sum |y - \hat y| / \sum |y|`.
- MASE: mean of :math:`|y - \hat y| / s`, where :math:`s` is the series' in-sample
  mean absolute seasonal difference :math:`|y_t - y_{t-12}|` over the months before the
  origin (series with :math:`s = 0` are left out).
- coverage: share of outcomes inside the forecaster's interval (nominal ``coverage``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from planner.errors import PlannerError
from planner.forecast.model import SEASON_MONTHS, BookingsForecaster, SeasonalNaiveForecaster, check_history
from planner.progress import ProgressCallback

MODEL = "model"
BASELINE = "seasonal naive"
METRICS = ("wape", "mase", "coverage")


def rolling_origins(
    n_months: int, *, horizon: int = 12, n_origins: int = 4, step_months: int = 2, min_train_months: int = 18
) -> list[int]:
    """Forecast origins (months observed), oldest first, each with a full horizon of outcomes.

    The last origin is ``n_months - horizon``; earlier ones step back by ``step_months``
    while at least ``min_train_months`` remain to train on.

    Raises
    ------
    PlannerError
        When not even one origin fits, with the months that would be needed.
    """
    if n_origins < 1 or step_months < 1:
        raise PlannerError(f"n_origins and step_months must be 1 or more, not {n_origins} and {step_months}")
    last = n_months - horizon
    origins = [last - k * step_months for k in range(n_origins) if last - k * step_months >= min_train_months]
    if not origins:
        raise PlannerError(
            f"a backtest with horizon {horizon} and {min_train_months} training months needs at least "
            f"{min_train_months + horizon} months of history; there are {n_months}"
        )
    return sorted(origins)


def default_forecasters(
    horizon: int = 12, coverage: float = 0.8, random_state: int = 0
) -> dict[str, BaseEstimator]:
    """The model and its seasonal-naive baseline, as compared in every backtest."""
    return {
        MODEL: BookingsForecaster(horizon=horizon, coverage=coverage, random_state=random_state),
        BASELINE: SeasonalNaiveForecaster(horizon=horizon, coverage=coverage),
    }


@dataclass(frozen=True)
class BacktestResult:
    """Forecasts and errors of a rolling-origin backtest.

    Attributes
    ----------
    forecasts : pandas.DataFrame
        One row per method, origin, series and month: ``method``, ``origin`` (last month
        observed, ``'YYYY-MM'``), ``series_id``, ``month``, ``horizon``, ``actual_usd``,
        ``forecast_usd``, ``lower_usd``, ``upper_usd``, ``mase_scale_usd``.
    coverage : float
        Nominal coverage of the intervals.
    """

    forecasts: pd.DataFrame
    coverage: float

    @property
    def origins(self) -> list[str]:
        """Origins (last month observed) of the backtest."""
        return sorted(self.forecasts["origin"].unique())

    def metrics(self, by: str | None = "horizon") -> pd.DataFrame:
        """WAPE, MASE, coverage and number of forecasts per method (and per ``by`` column)."""
        frame = self.forecasts
        error = (frame["actual_usd"] - frame["forecast_usd"]).abs()
        parts = pd.DataFrame(
            {
                "method": frame["method"],
                "key": frame[by] if by else "all",
                "abs_error": error,
                "abs_actual": frame["actual_usd"].abs(),
                "scaled": (error / frame["mase_scale_usd"]).where(frame["mase_scale_usd"] > 0),
                "inside": (frame["actual_usd"] >= frame["lower_usd"])
                & (frame["actual_usd"] <= frame["upper_usd"]),
            }
        )
        grouped = parts.groupby(["method", "key"], sort=True)
        sums = grouped[["abs_error", "abs_actual"]].sum()
        table = pd.DataFrame(
            {
                "wape": sums["abs_error"] / sums["abs_actual"].where(sums["abs_actual"] > 0),
                "mase": grouped["scaled"].mean(),
                "coverage": grouped["inside"].mean(),
                "n": grouped.size(),
            }
        )
        return table.rename_axis(["method", by or "scope"])

    def table(self) -> pd.DataFrame:
        """Model and baseline side by side, per horizon and overall (last row ``all``).

        Columns ``<metric>_<method>`` for WAPE, MASE and coverage, plus
        ``wape_change_pct`` (the model's WAPE relative to the baseline's, negative is better)
        when both :data:`MODEL` and :data:`BASELINE` were run.
        """
        per_horizon = self.metrics("horizon")
        overall = self.metrics(None)
        frames = []
        for metrics, keys in ((per_horizon, None), (overall, "all")):
            wide = (
                metrics[list(METRICS)]
                .reset_index()
                .pivot_table(index=metrics.index.names[1], columns="method", dropna=False)
            )
            wide.columns = [f"{metric}_{method}" for metric, method in wide.columns]
            if keys is not None:
                wide.index = pd.Index([keys])
            frames.append(wide)
        table = pd.concat(frames)
        table.index = pd.Index([str(k) for k in table.index], name="horizon")
        methods = list(dict.fromkeys(self.forecasts["method"]))  # in the order they were run
        table = table[[f"{metric}_{method}" for metric in METRICS for method in methods]]
        if f"wape_{MODEL}" in table and f"wape_{BASELINE}" in table:
            table["wape_change_pct"] = 100 * (table[f"wape_{MODEL}"] / table[f"wape_{BASELINE}"] - 1)
        return table


def _mase_scale(values: np.ndarray) -> np.ndarray:
    """In-sample mean absolute seasonal difference per series (NaN when too short)."""
    if len(values) <= SEASON_MONTHS:
        return np.full(values.shape[1], np.nan)
    return np.abs(values[SEASON_MONTHS:] - values[:-SEASON_MONTHS]).mean(axis=0)


def backtest(
    history: pd.DataFrame,
    forecasters: Mapping[str, BaseEstimator] | None = None,
    *,
    horizon: int = 12,
    coverage: float = 0.8,
    origins: list[int] | None = None,
    n_origins: int = 4,
    step_months: int = 2,
    min_train_months: int = 18,
    progress: ProgressCallback | None = None,
) -> BacktestResult:
    """Rolling-origin backtest of ``forecasters`` (default: the model and seasonal naive).

    Parameters
    ----------
    history : pandas.DataFrame
        Monthly history (see :func:`planner.forecast.history.monthly_history`).
    forecasters : mapping of str to estimator, optional
        Unfitted forecasters by name; each is cloned for every origin. Their ``horizon``
        and ``coverage`` are set to the ones given here.
    horizon : int
        Months ahead judged at every origin.
    coverage : float
        Nominal interval coverage.
    origins : list of int, optional
        Months observed at each origin; default from :func:`rolling_origins`.
    n_origins, step_months, min_train_months : int
        Passed to :func:`rolling_origins` when ``origins`` is not given.
    progress : callable, optional
        Called with (fraction done, message) after each fit.

    Returns
    -------
    BacktestResult
    """
    values = check_history(history)
    n_months = len(values)
    if origins is None:
        origins = rolling_origins(
            n_months,
            horizon=horizon,
            n_origins=n_origins,
            step_months=step_months,
            min_train_months=min_train_months,
        )
    bad = [o for o in origins if o < SEASON_MONTHS or o + horizon > n_months]
    if bad:
        raise PlannerError(
            f"origins {bad} leave fewer than {SEASON_MONTHS} months to train on or lack {horizon} months "
            f"of outcomes in a {n_months}-month history"
        )
    methods = dict(forecasters) if forecasters is not None else default_forecasters(horizon, coverage)
    series = history.columns.astype(str)
    frames = []
    total, done = len(origins) * len(methods), 0
    for origin in origins:
        train = history.iloc[:origin]
        scale = pd.Series(_mase_scale(values[:origin]), index=series)
        actual = history.iloc[origin : origin + horizon]
        actual_long = (
            actual.set_axis(series, axis=1)
            .rename_axis("month")
            .reset_index()
            .melt("month", var_name="series_id")
        )
        for name, template in methods.items():
            model = clone(template).set_params(horizon=horizon, coverage=coverage)
            frame = model.fit(train).predict()
            frame = frame.merge(
                actual_long.rename(columns={"value": "actual_usd"}), on=["series_id", "month"]
            )
            frame["mase_scale_usd"] = frame["series_id"].map(scale).to_numpy()
            frame.insert(0, "origin", history.index[origin - 1].strftime("%Y-%m"))
            frame.insert(0, "method", name)
            frames.append(frame)
            done += 1
            if progress is not None:
                progress(done / total, f"origin {history.index[origin - 1]:%Y-%m}: {name}")
    return BacktestResult(forecasts=pd.concat(frames, ignore_index=True), coverage=coverage)
