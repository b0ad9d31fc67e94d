r"""Forecast monthly bookings per territory, with prediction intervals, and a seasonal-naive baseline.

Two forecasters with one interface (scikit-learn conventions: ``__init__`` only stores
keyword parameters, ``fit`` returns ``self``, fitted attributes end in ``_``, randomness
through ``random_state``). ``fit`` takes a *history*: a wide frame, one row per month
(consecutive month starts), one column per series (territory or unit), as built by
:func:`planner.forecast.history.monthly_history`. ``predict`` returns a long frame with columns
``series_id``, ``month``, ``horizon``, ``forecast_usd``, ``lower_usd``, ``upper_usd``.

:class:`SeasonalNaiveForecaster` (the baseline)
    :math:`\hat y_{T+h} = y_{T+h-12k}` with :math:`k = \lceil h/12 \rceil`: the same
    month of the last observed year. Its interval comes from the empirical quantiles of
    the in-sample seasonal differences :math:`y_t - y_{t-12}`, relative to each series'
    level, widened by :math:`\sqrt{k}`.

:class:`BookingsForecaster` (the model)
    One *global* model for all series (direct multi-horizon strategy): a
    ``HistGradientBoostingRegressor`` predicts :math:`y_{o+h-1} / L_o` from features
    known at the forecast origin :math:`o` (the number of months observed), where
    :math:`L_o` is the series' mean over the last 12 observed months. Features: the last
    12 months and the 3- and 6-month means (relative to :math:`L_o`), last year's level,
    the seasonal-naive value of the target month, the series' own seasonal index of the
    target month, the month of year, the horizon, the months observed and (up to 250
    series) the series as a categorical feature. For the point forecast every row is
    weighted by :math:`L_o`, which makes its loss the absolute error in USD (what WAPE
    sums); the interval models weigh every outcome the same (coverage counts outcomes).
    Weights cost time (boosting loses its constant-hessian shortcut), so only the point
    model has them.

    The point forecast is the conditional median (quantile loss 0.5). The interval is
    conformalized quantile regression (Romano, Patterson and Candès, 2019): two more
    models give the :math:`(1 \pm c)/2` quantiles, and a correction, the conformal
    quantile of :math:`\max(\hat q_{lo} - y, y - \hat q_{hi}) / L_o` over held-out
    forecasts from a few earlier origins (models fitted only on data before each of
    them), widens (or narrows) the interval so that it covers about ``coverage`` of
    outcomes. Without enough history for a held-out origin the raw quantiles are used.

scikit-learn's histogram gradient boosting is used rather than a hand-written model: it
handles missing lags (short histories) natively, supports quantile loss and categorical
features, and is fast on a few thousand rows. Its OpenMP threads are limited to one with
threadpoolctl while fitting: on a small shared machine, two contending threads made a
fit several times slower, not faster.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from planner.data.dataset import Dataset
from planner.errors import PlannerError
from planner.forecast.history import month_index, month_labels, territory_history
from planner.plans.plan import Plan

SEASON_MONTHS = 12
MAX_CATEGORIES = 250
N_LAGS = 12
MIN_ORIGIN_MONTHS = 3


def check_history(history: pd.DataFrame, *, min_months: int = 1) -> np.ndarray:
    """Validate a history frame and return its values as a float array (months x series).

    Raises :class:`PlannerError` for an empty frame, a non-monthly or gapped index,
    non-finite or negative values, or fewer than ``min_months`` months.
    """
    if not isinstance(history, pd.DataFrame) or history.shape[1] == 0:
        raise PlannerError("history must be a DataFrame with one column per territory (or unit)")
    if len(history) < min_months:
        raise PlannerError(
            f"history has {len(history)} month(s); this needs at least {min_months}: add older bookings"
        )
    index = history.index
    if not isinstance(index, pd.DatetimeIndex):
        raise PlannerError("history must be indexed by month starts (a DatetimeIndex); see monthly_history")
    expected = month_index(index[0], len(index))
    if not index.equals(expected):
        raise PlannerError(
            "history months must be consecutive month starts without gaps; see monthly_history"
        )
    values = history.to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise PlannerError("history holds missing or infinite values; fill months without bookings with 0")
    if (values < 0).any():
        raise PlannerError("history holds negative bookings; monthly bookings must be 0 or more")
    return values


def _check_coverage(coverage: float) -> None:
    if not 0 < coverage < 1:
        raise PlannerError(f"coverage must be between 0 and 1 (e.g. 0.8 for 80% intervals), not {coverage}")


def _check_horizon(horizon: int) -> None:
    if int(horizon) != horizon or horizon < 1:
        raise PlannerError(f"horizon must be a whole number of months, 1 or more, not {horizon}")


def series_levels(values: np.ndarray, origin: int) -> np.ndarray:
    """Level of each series at ``origin`` (months observed): mean of the last 12 months.

    Falls back to the mean of all observed months, then to 1, so the level is never 0.
    """
    recent = values[max(0, origin - SEASON_MONTHS) : origin].mean(axis=0)
    overall = values[:origin].mean(axis=0)
    level = np.where(recent > 0, recent, overall)
    return np.where(level > 0, level, 1.0)


def _forecast_frame(
    series: pd.Index, months: pd.DatetimeIndex, point: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> pd.DataFrame:
    """Long forecast frame from (horizon x series) arrays."""
    horizon, n_series = point.shape
    return pd.DataFrame(
        {
            "series_id": np.tile(series.astype(str).to_numpy(), horizon),
            "month": np.repeat(months.to_numpy(), n_series),
            "horizon": np.repeat(np.arange(1, horizon + 1), n_series),
            "forecast_usd": point.ravel(),
            "lower_usd": np.minimum(lower, point).ravel(),
            "upper_usd": np.maximum(upper, point).ravel(),
        }
    )


class SeasonalNaiveForecaster(BaseEstimator):
    """Seasonal naive: each month is forecast by the same month of the last observed year.

    Parameters
    ----------
    horizon : int
        Months ahead to forecast.
    coverage : float
        Nominal coverage of the prediction interval, 0-1.

    Attributes
    ----------
    series_ : pandas.Index
        Series ids (the history's columns).
    last_year_ : numpy.ndarray
        The last 12 observed months (12 x series).
    levels_ : numpy.ndarray
        Mean of the last 12 months per series.
    residual_quantiles_ : tuple of float
        Lower and upper quantile of the relative in-sample seasonal differences.
    months_ : pandas.DatetimeIndex
        The forecast months.

    Examples
    --------
    >>> import pandas as pd
    >>> months = pd.date_range("2025-01-01", periods=14, freq="MS", name="month")
    >>> history = pd.DataFrame({"T1": [float(m) for m in range(1, 15)]}, index=months)
    >>> SeasonalNaiveForecaster(horizon=2).fit(history).predict()["forecast_usd"].tolist()
    [3.0, 4.0]
    """

    def __init__(self, *, horizon: int = 12, coverage: float = 0.8) -> None:
        self.horizon = horizon
        self.coverage = coverage

    def fit(self, history: pd.DataFrame) -> SeasonalNaiveForecaster:
        """Remember the last observed year and the spread of seasonal differences."""
        _check_horizon(self.horizon)
        _check_coverage(self.coverage)
        values = check_history(history, min_months=SEASON_MONTHS)
        n_months = len(values)
        self.series_ = history.columns.astype(str)
        self.last_year_ = values[-SEASON_MONTHS:]
        self.levels_ = series_levels(values, n_months)
        alpha = 1 - self.coverage
        if n_months > SEASON_MONTHS:
            relative = (values[SEASON_MONTHS:] - values[:-SEASON_MONTHS]) / self.levels_
            self.residual_quantiles_ = tuple(np.quantile(relative, [alpha / 2, 1 - alpha / 2]).tolist())
        else:
            self.residual_quantiles_ = (0.0, 0.0)
        self.months_ = month_index(history.index[-1] + pd.DateOffset(months=1), self.horizon)
        return self

    def predict(self) -> pd.DataFrame:
        """Forecast ``horizon`` months (long frame, see the module docstring)."""
        steps = np.arange(1, self.horizon + 1)
        point = self.last_year_[(steps - 1) % SEASON_MONTHS]
        widen = np.sqrt(np.ceil(steps / SEASON_MONTHS))[:, None]
        low_q, high_q = self.residual_quantiles_
        lower = np.maximum(point + low_q * widen * self.levels_, 0.0)
        upper = point + high_q * widen * self.levels_
        return _forecast_frame(self.series_, self.months_, point, lower, upper)


def _design(
    values: np.ndarray, months: pd.DatetimeIndex, origins: np.ndarray, horizon: int, categorical: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Feature rows for every (origin, horizon, series), relative targets (NaN past the data), levels, names.

    ``origins`` are counts of months observed; month ``o + h - 1`` is the target of
    origin ``o`` at horizon ``h``.
    """
    n_months, n_series = values.shape
    padded = np.vstack([np.full((2 * SEASON_MONTHS, n_series), np.nan), values])  # row r holds month r - 24
    cumsum = np.vstack([np.zeros((1, n_series)), np.cumsum(values, axis=0)])
    month_of_year = months.month.to_numpy()
    # Running sums per calendar month: seasonal index = mean of that month / mean of all.
    by_month = np.zeros((n_months + 1, SEASON_MONTHS, n_series))
    count = np.zeros((n_months + 1, SEASON_MONTHS))
    for t in range(n_months):
        by_month[t + 1] = by_month[t]
        count[t + 1] = count[t]
        by_month[t + 1, month_of_year[t] - 1] += values[t]
        count[t + 1, month_of_year[t] - 1] += 1
    rows, targets, levels = [], [], []
    pad = 2 * SEASON_MONTHS
    for origin in origins:
        level = series_levels(values, origin)
        lags = padded[pad + origin - N_LAGS : pad + origin][::-1] / level  # lag 0 first
        mean3 = (cumsum[origin] - cumsum[max(origin - 3, 0)]) / level / 3 if origin >= 3 else np.nan
        mean6 = (cumsum[origin] - cumsum[max(origin - 6, 0)]) / level / 6 if origin >= 6 else np.nan
        last_year = (
            (cumsum[origin - SEASON_MONTHS] - cumsum[origin - 2 * SEASON_MONTHS]) / SEASON_MONTHS / level
            if origin >= 2 * SEASON_MONTHS
            else np.full(n_series, np.nan)
        )
        overall = cumsum[origin] / origin
        for step in range(1, horizon + 1):
            target_index = origin + step - 1
            target_month = (month_of_year[origin - 1] + step - 1) % SEASON_MONTHS + 1
            back = SEASON_MONTHS * math.ceil(step / SEASON_MONTHS)
            naive = padded[pad + target_index - back] / level
            seen = count[origin, target_month - 1]
            season = (
                by_month[origin, target_month - 1] / seen / np.where(overall > 0, overall, 1.0)
                if seen
                else np.full(n_series, np.nan)
            )
            block = np.column_stack(
                [
                    *lags,
                    np.broadcast_to(mean3, n_series),
                    np.broadcast_to(mean6, n_series),
                    last_year,
                    naive,
                    season,
                    np.full(n_series, target_month),
                    np.full(n_series, step),
                    np.full(n_series, min(origin, 3 * SEASON_MONTHS)),
                    *([np.arange(n_series)] if categorical else []),
                ]
            )
            rows.append(block)
            target = values[target_index] / level if target_index < n_months else np.full(n_series, np.nan)
            targets.append(target)
            levels.append(level)
    names = [f"lag_{k}" for k in range(N_LAGS)] + [
        "mean_3",
        "mean_6",
        "last_year_level",
        "seasonal_naive",
        "season_index",
        "month_of_year",
        "horizon",
        "months_observed",
    ]
    if categorical:
        names.append("series")
    return np.vstack(rows), np.concatenate(targets), np.concatenate(levels), names


class BookingsForecaster(BaseEstimator):
    """Global gradient-boosting forecaster of monthly bookings with conformal intervals.

    The model is described in the module docstring.

    Parameters
    ----------
    horizon : int
        Months ahead to forecast (1 to ``horizon``).
    coverage : float
        Nominal coverage of the prediction interval, 0-1 (0.8: 80% intervals).
    calibration_origins : int
        Earlier origins whose held-out forecasts calibrate the interval (0: raw quantiles).
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization
        Passed to each ``HistGradientBoostingRegressor``.
    random_state : int, numpy.random.Generator or None
        Seed of the boosting models (only used if they subsample).

    Attributes
    ----------
    series_ : pandas.Index
        Series ids (the history's columns).
    months_ : pandas.DatetimeIndex
        The forecast months.
    models_ : dict of str to HistGradientBoostingRegressor
        ``"median"``, ``"lower"``, ``"upper"``, fitted on every month of the history.
    conformity_ : float
        Conformal correction added to both ends of the interval (relative to the level).
    n_calibration_scores_ : int
        Held-out forecasts the correction was computed from.
    feature_names_ : list of str
        Names of the model's features.
    features_ : numpy.ndarray
        Feature rows of the forecast (horizon x series rows).
    levels_ : numpy.ndarray
        Level of each series at the end of the history (the forecasts' scale).
    """

    def __init__(
        self,
        *,
        horizon: int = 12,
        coverage: float = 0.8,
        calibration_origins: int = 3,
        max_iter: int = 100,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 40,
        l2_regularization: float = 1.0,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.horizon = horizon
        self.coverage = coverage
        self.calibration_origins = calibration_origins
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.random_state = random_state

    def _seed(self) -> int | None:
        if isinstance(self.random_state, np.random.Generator):
            return int(self.random_state.integers(2**31 - 1))
        return self.random_state

    def _boost(
        self, quantile: float, categorical: bool, n_features: int, seed: int | None
    ) -> HistGradientBoostingRegressor:
        return HistGradientBoostingRegressor(
            loss="quantile",
            quantile=quantile,
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            categorical_features=[n_features - 1] if categorical else None,
            early_stopping=False,
            random_state=seed,
        )

    def _fit_models(
        self,
        values: np.ndarray,
        months: pd.DatetimeIndex,
        categorical: bool,
        seed: int | None,
        names: tuple[str, ...] = ("median", "lower", "upper"),
    ) -> dict[str, HistGradientBoostingRegressor]:
        """Fit the quantile models ``names`` on every (origin, horizon) whose target is observed."""
        origins = np.arange(MIN_ORIGIN_MONTHS, len(values))
        features, targets, levels, _ = _design(values, months, origins, self.horizon, categorical)
        known = ~np.isnan(targets)
        if known.sum() < 2 * self.min_samples_leaf:
            raise PlannerError(
                f"only {int(known.sum())} training rows from {len(values)} months of history; "
                "give at least two years of monthly bookings"
            )
        features = features[known]
        # A feature never seen (e.g. last year's level in a history under two years) is constant
        # for the trees: they cannot split on it. (All-NaN columns break the binning.)
        features[:, np.isnan(features).all(axis=0)] = 0.0
        alpha = 1 - self.coverage
        quantiles = {"median": 0.5, "lower": alpha / 2, "upper": 1 - alpha / 2}
        models = {}
        for name in names:
            model = self._boost(quantiles[name], categorical, features.shape[1], seed)
            weight = levels[known] if name == "median" else None
            models[name] = model.fit(features, targets[known], sample_weight=weight)
        return models

    def _calibrate(
        self, values: np.ndarray, months: pd.DatetimeIndex, categorical: bool, seed: int | None
    ) -> np.ndarray:
        """Relative conformity scores of held-out forecasts from earlier origins."""
        n_months = len(values)
        offsets = np.unique(
            np.round(np.linspace(self.horizon, 1, max(self.calibration_origins, 1))).astype(int)
        )
        scores = []
        for offset in offsets[: self.calibration_origins]:
            origin = n_months - int(offset)
            if origin < SEASON_MONTHS + MIN_ORIGIN_MONTHS:
                continue
            try:
                models = self._fit_models(
                    values[:origin], months[:origin], categorical, seed, ("lower", "upper")
                )
            except PlannerError:
                continue
            features, _, _, _ = _design(
                values[:origin], months[:origin], np.array([origin]), self.horizon, categorical
            )
            steps = min(self.horizon, n_months - origin)
            n_series = values.shape[1]
            level = series_levels(values, origin)
            actual = values[origin : origin + steps] / level
            rows = features[: steps * n_series]
            low = models["lower"].predict(rows).reshape(steps, n_series)
            high = models["upper"].predict(rows).reshape(steps, n_series)
            scores.append(np.maximum(low - actual, actual - high).ravel())
        return np.concatenate(scores) if scores else np.empty(0)

    def fit(self, history: pd.DataFrame) -> BookingsForecaster:
        """Fit the global model (and calibrate its interval) on a monthly history."""
        _check_horizon(self.horizon)
        _check_coverage(self.coverage)
        values = check_history(history, min_months=SEASON_MONTHS + MIN_ORIGIN_MONTHS)
        months = pd.DatetimeIndex(history.index)
        categorical = values.shape[1] <= MAX_CATEGORIES
        seed = self._seed()
        with threadpool_limits(limits=1, user_api="openmp"):
            scores = self._calibrate(values, months, categorical, seed)
            self.models_ = self._fit_models(values, months, categorical, seed)
        self.n_calibration_scores_ = len(scores)
        if len(scores):
            rank = min(math.ceil((len(scores) + 1) * self.coverage) / len(scores), 1.0)
            self.conformity_ = float(np.quantile(scores, rank, method="higher"))
        else:
            self.conformity_ = 0.0
        features, _, _, self.feature_names_ = _design(
            values, months, np.array([len(values)]), self.horizon, categorical
        )
        self.features_ = features
        self.levels_ = series_levels(values, len(values))
        self.series_ = history.columns.astype(str)
        self.months_ = month_index(months[-1] + pd.DateOffset(months=1), self.horizon)
        return self

    def predict(self) -> pd.DataFrame:
        """Forecast ``horizon`` months (long frame, see the module docstring)."""
        shape = (self.horizon, len(self.series_))
        scale = self.levels_[None, :]
        with threadpool_limits(limits=1, user_api="openmp"):
            point = np.maximum(self.models_["median"].predict(self.features_).reshape(shape), 0.0)
            lower = self.models_["lower"].predict(self.features_).reshape(shape) - self.conformity_
            upper = self.models_["upper"].predict(self.features_).reshape(shape) + self.conformity_
        return _forecast_frame(
            self.series_, self.months_, point * scale, np.maximum(lower * scale, 0.0), upper * scale
        )


def forecast_territories(
    dataset: Dataset,
    plan: Plan | None = None,
    *,
    horizon: int = 12,
    coverage: float = 0.8,
    random_state: int | None = 0,
    model: BookingsForecaster | None = None,
) -> pd.DataFrame:
    """Forecast each territory's monthly bookings for the next ``horizon`` months.

    The bookings history is re-aggregated to the territories of ``plan`` (default: the
    data set's current plan) by unit, so the forecast matches the plan being looked at.

    Parameters
    ----------
    dataset : Dataset
        A loaded data set with bookings.
    plan : Plan, optional
        The plan whose territories to forecast.
    horizon : int
        Months ahead, starting the month after the last booking.
    coverage : float
        Nominal coverage of the interval (0.8: 80% of outcomes inside).
    random_state : int or None
        Seed of the model.
    model : BookingsForecaster, optional
        An unfitted forecaster whose other settings to use (it is cloned; ``horizon``,
        ``coverage`` and ``random_state`` are set from the arguments above).

    Returns
    -------
    pandas.DataFrame
        ``territory_id``, ``month`` (``'YYYY-MM'``), ``forecast_usd``, ``lower_usd``,
        ``upper_usd``; one row per territory and month, sorted by territory and month.
    """
    history = territory_history(dataset, plan)
    template = model if model is not None else BookingsForecaster()
    fitted = clone(template).set_params(horizon=horizon, coverage=coverage, random_state=random_state)
    frame = fitted.fit(history).predict()
    frame["month"] = month_labels(pd.DatetimeIndex(frame["month"]))
    frame = frame.rename(columns={"series_id": "territory_id"})
    columns = ["territory_id", "month", "forecast_usd", "lower_usd", "upper_usd"]
    return frame.sort_values(["territory_id", "month"], kind="stable").reset_index(drop=True)[columns]
