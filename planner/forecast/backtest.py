r"""Rolling-origin backtest of forecasters: WAPE, MASE and interval coverage per horizon.

At each forecast origin :math:`o` (the number of periods observed) every method is fitted
on ``history.iloc[:o]`` only (its own model choice included), then forecasts periods
:math:`o \ldots o+H-1`, which are compared with what happened. Origins step back from the
last one that still has a full horizon of outcomes (like scikit-learn's
``TimeSeriesSplit`` with an expanding window and a fixed test size), so no forecast ever
sees the periods it is judged on. Candidate fits are shared between methods and origins
(:class:`planner.forecast.choice.HeldOutForecasts`): a fit on the first :math:`o`
periods is the same whoever asks for it.

Metrics, for each method, per horizon, per horizon band and overall (pooled over
origins and series), and per series:

- WAPE: :math:`\sum |y - \hat y| / \sum |y|`.
- MASE: mean of :math:`|y - \hat y| / s`, where :math:`s` is the series' in-sample
  mean absolute seasonal difference :math:`|y_t - y_{t-m}|` over the periods before the
  origin (series with :math:`s = 0` are left out).
- coverage: share of outcomes inside the method's interval (nominal ``coverage``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone

from planner.errors import PlannerError
from planner.forecast.choice import (
    BOOSTING,
    COMBINED,
    ETS,
    NAIVE,
    THETA,
    BookingsForecaster,
    HeldOutForecasts,
)
from planner.forecast.frequency import Frequency, check_history
from planner.progress import ProgressCallback

CHOSEN = "chosen"
BASELINE = NAIVE
METRICS = ("wape", "mase", "coverage")


def rolling_origins(
    n_periods: int, *, horizon: int, n_origins: int = 4, step: int = 2, min_train: int
) -> list[int]:
    """Forecast origins (periods observed), oldest first, each with a full horizon of outcomes.

    The last origin is ``n_periods - horizon``; earlier ones step back by ``step``
    while at least ``min_train`` periods remain to train on.

    Raises
    ------
    PlannerError
        When not even one origin fits, with the periods that would be needed.
    """
    if n_origins < 1 or step < 1:
        raise PlannerError(f"n_origins and step must be 1 or more, not {n_origins} and {step}")
    last = n_periods - horizon
    origins = [last - k * step for k in range(n_origins) if last - k * step >= min_train]
    if not origins:
        raise PlannerError(
            f"a backtest with horizon {horizon} and {min_train} training periods needs at least "
            f"{min_train + horizon} periods of history; there are {n_periods}"
        )
    return sorted(origins)


def default_methods(
    coverage: float = 0.8, random_state: int | None = 0, **settings
) -> dict[str, BookingsForecaster]:
    """The forecaster (choosing per series) and each of its candidates alone, seasonal naive first."""
    alone = {
        name: BookingsForecaster(coverage=coverage, candidates=(name,), random_state=random_state, **settings)
        for name in (NAIVE, ETS, THETA, BOOSTING, COMBINED)
    }
    return {CHOSEN: BookingsForecaster(coverage=coverage, random_state=random_state, **settings), **alone}


@dataclass(frozen=True)
class BacktestResult:
    """Forecasts and errors of a rolling-origin backtest.

    Attributes
    ----------
    forecasts : pandas.DataFrame
        One row per method, origin, series and period: ``method``, ``origin`` (last
        period observed), ``series_id``, ``period``, ``horizon``, ``band``, ``model``
        (the candidate used), ``actual_usd``, ``forecast_usd``, ``lower_usd``,
        ``upper_usd``, ``mase_scale_usd``.
    coverage : float
        Nominal coverage of the intervals.
    frequency : Frequency
        The history's period.
    """

    forecasts: pd.DataFrame
    coverage: float
    frequency: Frequency

    @property
    def origins(self) -> list[str]:
        """Origins (last period observed) of the backtest."""
        return self.frequency.labels(pd.DatetimeIndex(sorted(self.forecasts["origin"].unique())))

    @property
    def methods(self) -> list[str]:
        """Methods in the order they were run."""
        return list(dict.fromkeys(self.forecasts["method"]))

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

    def table(self, by: str = "horizon") -> pd.DataFrame:
        """Every method side by side, per ``by`` (``horizon`` or ``band``) and overall (last row ``all``).

        Columns ``<metric>_<method>`` for WAPE, MASE and coverage, plus
        ``wape_change_pct`` (the chosen forecaster's WAPE relative to seasonal naive's,
        negative is better) when both were run.
        """
        frames = []
        for metrics, key in ((self.metrics(by), None), (self.metrics(None), "all")):
            wide = (
                metrics[list(METRICS)]
                .reset_index()
                .pivot_table(index=metrics.index.names[1], columns="method", dropna=False)
            )
            wide.columns = [f"{metric}_{method}" for metric, method in wide.columns]
            if key is not None:
                wide.index = pd.Index([key])
            frames.append(wide)
        table = pd.concat(frames)
        table.index = pd.Index([str(k) for k in table.index], name=by)
        if by == "band":
            order = [*self.frequency.band_labels(int(self.forecasts["horizon"].max())), "all"]
            table = table.reindex([k for k in order if k in table.index])
        table = table[[f"{metric}_{method}" for metric in METRICS for method in self.methods]]
        if f"wape_{CHOSEN}" in table and f"wape_{BASELINE}" in table:
            table["wape_change_pct"] = 100 * (table[f"wape_{CHOSEN}"] / table[f"wape_{BASELINE}"] - 1)
        return table

    def choices(self) -> pd.DataFrame:
        """How often each candidate was chosen per method (series x origins)."""
        first = self.forecasts[self.forecasts["horizon"] == 1]
        return pd.crosstab(first["method"], first["model"])


def _mase_scale(values: np.ndarray, season_length: int) -> np.ndarray:
    """In-sample mean absolute seasonal difference per series (NaN when too short)."""
    if len(values) <= season_length:
        return np.full(values.shape[1], np.nan)
    return np.abs(values[season_length:] - values[:-season_length]).mean(axis=0)


def backtest(
    history: pd.DataFrame,
    methods: Mapping[str, BookingsForecaster] | None = None,
    *,
    horizon: int | None = None,
    coverage: float = 0.8,
    origins: list[int] | None = None,
    n_origins: int = 4,
    step: int | None = None,
    progress: ProgressCallback | None = None,
) -> BacktestResult:
    """Rolling-origin backtest of ``methods`` (default: :func:`default_methods`).

    Parameters
    ----------
    history : pandas.DataFrame
        Period starts as index, one column per series (see :mod:`planner.forecast.frequency`).
    methods : mapping of str to BookingsForecaster, optional
        Unfitted forecasters by name; each is cloned for every origin with the
        ``horizon`` and ``coverage`` given here.
    horizon : int, optional
        Periods ahead judged at every origin; one season when not given.
    coverage : float
        Nominal interval coverage.
    origins : list of int, optional
        Periods observed at each origin; default from :func:`rolling_origins`.
    n_origins : int
        Origins when ``origins`` is not given.
    step : int, optional
        Periods between origins when ``origins`` is not given; a sixth of a season
        (2 months) when not given.
    progress : callable, optional
        Called with (fraction done, message) after each candidate fit.

    Returns
    -------
    BacktestResult
    """
    values, frequency = check_history(history)
    m = frequency.season_length
    horizon = m if horizon is None else horizon
    methods = dict(methods) if methods is not None else default_methods(coverage)
    templates = {
        name: clone(model).set_params(horizon=horizon, coverage=coverage) for name, model in methods.items()
    }
    min_train = max(model.min_periods(frequency) for model in templates.values())
    if origins is None:
        origins = rolling_origins(
            len(values),
            horizon=horizon,
            n_origins=n_origins,
            step=step or max(1, m // 6),
            min_train=min_train,
        )
    bad = [o for o in origins if o < min_train or o + horizon > len(values)]
    if bad:
        raise PlannerError(
            f"origins {bad} leave fewer than {min_train} {frequency.plural} to train on or lack {horizon} "
            f"{frequency.plural} of outcomes in a {len(values)}-{frequency.name} history"
        )
    first = next(iter(templates.values()))
    held_out = HeldOutForecasts(history, horizon, first.random_state)
    fits = set()
    for origin in origins:
        for model in templates.values():
            usable, judged = model.judged(frequency, origin)
            fits.update((c, o) for c in usable for o in [*judged, origin])

    def report(fraction: float, message: str) -> None:
        if progress is not None:
            progress(0.99 * fraction, message)

    held_out.fill(sorted(fits), first.n_jobs, report)
    bands = frequency.band_of(horizon)
    frames = []
    for origin in origins:
        scale = _mase_scale(values[:origin], m)
        actual = values[origin : origin + horizon]
        for name, template in templates.items():
            frame = clone(template).fit(history.iloc[:origin], held_out=held_out).predict()
            frame["band"] = bands[frame["horizon"].to_numpy() - 1]
            frame["actual_usd"] = actual.ravel()
            frame["mase_scale_usd"] = np.tile(scale, horizon)
            frame.insert(0, "origin", history.index[origin - 1])
            frame.insert(0, "method", name)
            frames.append(frame)
    if progress is not None:
        progress(1.0, "backtest done")
    return BacktestResult(
        forecasts=pd.concat(frames, ignore_index=True), coverage=coverage, frequency=frequency
    )
