r"""The global gradient-boosting forecaster: one model learns from every series at once.

Direct multi-horizon strategy: a ``HistGradientBoostingRegressor`` predicts
:math:`y_{o+h-1} / L_o` from features known at the forecast origin :math:`o` (the
number of periods observed), where :math:`L_o` is the series' mean over the last season.
Features: the last lags (a season, at most 13), the means of the last quarter and half
season (relative to :math:`L_o`), last season's level, the seasonal-naive value of the
target period, the series' own seasonal index of the target period, the target's
position in the season, the horizon, the periods observed and (up to 250 series) the
series as a categorical feature. It learns from every origin of the history (the most
recent ones when there would be over 60,000 rows). Every training row is weighted by :math:`L_o`, which
makes the loss the absolute error in USD (what WAPE sums), and the loss is the absolute
error (quantile 0.5): the forecast is a conditional median.

A global model shines when there are many similar series (a territory learns from its
neighbours' seasons); on one or a few series the statistical models usually win, which is
why :mod:`planner.forecast.choice` picks per series by held-out error.

scikit-learn's histogram gradient boosting handles missing lags (short histories)
natively, supports categorical features and is fast on a few thousand rows. Its OpenMP
threads are limited to one with threadpoolctl: on a small shared machine two contending
threads made a fit several times slower, not faster. Features are binned here, by
unweighted quantiles as the model itself would, because with sample weights the model's
own binning computes a weighted percentile per bin edge, which took most of a fit's time.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from planner.errors import PlannerError
from planner.forecast.frequency import Frequency
from planner.forecast.models.base import PointForecaster, season_positions, series_levels

MAX_CATEGORIES = 250
MAX_LAGS = 13
MIN_ORIGIN_PERIODS = 3
N_BINS = 255
#: Training rows (origins x horizons x series) at most: the most recent origins are kept.
MAX_TRAINING_ROWS = 60_000


def _bin_edges(features: np.ndarray) -> list[np.ndarray]:
    """Inner edges of at most :data:`N_BINS` quantile bins per column (NaN ignored)."""
    edges = []
    for column in features.T:
        seen = column[~np.isnan(column)]
        inner = np.quantile(seen, np.linspace(0, 1, N_BINS + 1)[1:-1]) if len(seen) else np.empty(0)
        edges.append(np.unique(inner))
    return edges


def _binned(features: np.ndarray, edges: list[np.ndarray]) -> np.ndarray:
    """Each value replaced by its bin number (NaN stays NaN)."""
    out = np.empty_like(features)
    for k, inner in enumerate(edges):
        column = features[:, k]
        out[:, k] = np.where(np.isnan(column), np.nan, np.searchsorted(inner, column, side="right"))
    return out


def _design(
    values: np.ndarray, positions: np.ndarray, m: int, origins: np.ndarray, horizon: int, categorical: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Feature rows for every (origin, horizon, series), relative targets (NaN past the data), levels, names.

    ``origins`` are counts of periods observed; period ``o + h - 1`` is the target of
    origin ``o`` at horizon ``h``; ``positions`` are the periods' places in the season.
    """
    n_periods, n_series = values.shape
    n_lags = min(m, MAX_LAGS)
    short, half = max(1, math.ceil(m / 4)), max(1, math.ceil(m / 2))
    pad = 2 * m
    padded = np.vstack([np.full((pad, n_series), np.nan), values])  # row r holds period r - 2m
    cumsum = np.vstack([np.zeros((1, n_series)), np.cumsum(values, axis=0)])
    # Running sums per season position: seasonal index = mean at that position / mean of all.
    by_position = np.zeros((n_periods + 1, m, n_series))
    count = np.zeros((n_periods + 1, m))
    for t in range(n_periods):
        by_position[t + 1] = by_position[t]
        count[t + 1] = count[t]
        by_position[t + 1, positions[t]] += values[t]
        count[t + 1, positions[t]] += 1
    rows, targets, levels = [], [], []
    for origin in origins:
        level = series_levels(values, origin, m)
        lags = padded[pad + origin - n_lags : pad + origin][::-1] / level  # lag 0 first
        mean_short = (cumsum[origin] - cumsum[origin - short]) / level / short if origin >= short else np.nan
        mean_half = (cumsum[origin] - cumsum[origin - half]) / level / half if origin >= half else np.nan
        last_season = (
            (cumsum[origin - m] - cumsum[origin - 2 * m]) / m / level
            if origin >= 2 * m
            else np.full(n_series, np.nan)
        )
        overall = cumsum[origin] / origin
        for step in range(1, horizon + 1):
            target_index = origin + step - 1
            target_position = (positions[origin - 1] + step) % m
            naive = padded[pad + target_index - m * math.ceil(step / m)] / level
            seen = count[origin, target_position]
            season = (
                by_position[origin, target_position] / seen / np.where(overall > 0, overall, 1.0)
                if seen
                else np.full(n_series, np.nan)
            )
            block = np.column_stack(
                [
                    *lags,
                    np.broadcast_to(mean_short, n_series),
                    np.broadcast_to(mean_half, n_series),
                    last_season,
                    naive,
                    season,
                    np.full(n_series, target_position),
                    np.full(n_series, step),
                    np.full(n_series, min(origin, 3 * m)),
                    *([np.arange(n_series)] if categorical else []),
                ]
            )
            rows.append(block)
            target = values[target_index] / level if target_index < n_periods else np.full(n_series, np.nan)
            targets.append(target)
            levels.append(level)
    names = [f"lag_{k}" for k in range(n_lags)] + [
        "mean_quarter_season",
        "mean_half_season",
        "last_season_level",
        "seasonal_naive",
        "season_index",
        "season_position",
        "horizon",
        "periods_observed",
    ]
    if categorical:
        names.append("series")
    return np.vstack(rows), np.concatenate(targets), np.concatenate(levels), names


class GlobalBoostingForecaster(PointForecaster):
    """Global gradient-boosting forecaster (see the module docstring).

    Parameters
    ----------
    horizon : int, optional
        Periods ahead to forecast; one season when not given.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization
        Passed to the ``HistGradientBoostingRegressor``.
    random_state : int or None
        Seed of the boosting model (only used if it subsamples).

    Attributes
    ----------
    model_ : HistGradientBoostingRegressor
        Fitted on every (origin, horizon, series) of the history whose target is known.
    feature_names_ : list of str
        Names of the model's features.
    """

    def __init__(
        self,
        *,
        horizon: int | None = None,
        max_iter: int = 50,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 40,
        l2_regularization: float = 1.0,
        random_state: int | None = None,
    ) -> None:
        self.horizon = horizon
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.random_state = random_state

    @staticmethod
    def min_periods(frequency: Frequency) -> int:
        """A season and three more periods (the first origins it learns from)."""
        return frequency.season_length + MIN_ORIGIN_PERIODS

    def fit(self, history: pd.DataFrame) -> GlobalBoostingForecaster:
        """Fit the global model on every origin of ``history`` and forecast from its end."""
        values, horizon = self._start(history)
        m = self.frequency_.season_length
        positions = season_positions(pd.DatetimeIndex(history.index), self.frequency_)
        categorical = values.shape[1] <= MAX_CATEGORIES
        recent = max(m, MAX_TRAINING_ROWS // (horizon * values.shape[1]))
        origins = np.arange(max(MIN_ORIGIN_PERIODS, len(values) - recent), len(values))
        features, targets, levels, _ = _design(values, positions, m, origins, horizon, categorical)
        known = ~np.isnan(targets)
        if known.sum() < 2 * self.min_samples_leaf:
            raise PlannerError(
                f"only {int(known.sum())} training rows from {len(values)} {self.frequency_.plural} of "
                "history; give at least two years of bookings"
            )
        features = features[known]
        # A feature never seen (e.g. last season's level in a history under two seasons) is constant
        # for the trees: they cannot split on it. (All-NaN columns break the binning.)
        unseen = np.isnan(features).all(axis=0)
        features[:, unseen] = 0.0
        model = HistGradientBoostingRegressor(
            loss="quantile",
            quantile=0.5,
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            categorical_features=[features.shape[1] - 1] if categorical else None,
            early_stopping=False,
            random_state=self.random_state,
        )
        forecast_rows, _, _, self.feature_names_ = _design(
            values, positions, m, np.array([len(values)]), horizon, categorical
        )
        forecast_rows[:, unseen] = 0.0
        level = series_levels(values, len(values), m)
        numeric = slice(0, features.shape[1] - 1 if categorical else features.shape[1])
        edges = _bin_edges(features[:, numeric])
        features[:, numeric] = _binned(features[:, numeric], edges)
        forecast_rows[:, numeric] = _binned(forecast_rows[:, numeric], edges)
        with threadpool_limits(limits=1, user_api="openmp"):
            self.model_ = model.fit(features, targets[known], sample_weight=levels[known])
            relative = self.model_.predict(forecast_rows).reshape(horizon, values.shape[1])
        self.point_ = np.maximum(relative, 0.0) * level[None, :]
        return self
