r"""The bookings forecaster: per series, the candidate that did best on held-out periods.

Candidates: seasonal naive, ETS, Theta and the global gradient-boosting model
(:mod:`planner.forecast.models`), and their mean ("combined"; averaging forecasts of
different kinds is the most reliable gain in the M-competitions). A history of
:math:`T` periods is judged at *validation origins* :math:`o_j = T - j s`
(:math:`j = 1 \ldots k`; by default :math:`s` is a quarter of a season and :math:`k`
reaches two seasons back): every candidate is fitted on the first :math:`o_j` periods
only and forecasts the periods up to :math:`T`, which are known. Nothing after
:math:`T` is ever read, so in a backtest the choice made at an origin uses only what
was known there.

Choice. Each series gets the candidate with the lowest held-out error: the mean
absolute error at each horizon, summed over horizons (so the short horizons, seen from
every validation origin, do not outweigh the long ones). With several series (a panel of
territories) each series' errors, relative to its mean over candidates, are averaged
with the same relative errors over all series (``pooling``, half by default), so a
territory with a short, noisy history borrows its neighbours' evidence. Ties go to the
simpler candidate (the order of ``candidates``). The choice and every candidate's
held-out WAPE are part of the result (:attr:`BookingsForecaster.validation_`), so a user
sees why a territory got the model it got.

Interval (split conformal, per series and horizon band). The errors used are those of
the choice itself, made again at each validation origin from the errors known by then
(the candidate that looks best in hindsight has errors too small to calibrate on). A
series' errors relative to its level at their origin (:math:`|y - \hat y| / L_o`) give,
per horizon band (:meth:`planner.forecast.frequency.Frequency.band_edges`), the value
:math:`q` at rank :math:`c (n+1)` of the :math:`n` sorted errors (interpolated), so a
new error falls below it with probability :math:`c` when errors are exchangeable (the
usual rounding up of the rank guarantees *at least* :math:`c`, which with the 8 errors of
a quarterly band means 89%); the interval is the forecast :math:`\pm q L_T`, cut at 0.
A band with no held-out error borrows the nearest shorter band's width.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, clone

from planner.errors import PlannerError
from planner.forecast.frequency import Frequency, check_history, require_periods
from planner.forecast.models import (
    ETSForecaster,
    GlobalBoostingForecaster,
    PointForecaster,
    SeasonalNaiveForecaster,
    ThetaForecaster,
)
from planner.forecast.models.base import check_horizon, series_levels
from planner.progress import ProgressCallback

NAIVE = "seasonal naive"
ETS = "ETS"
THETA = "Theta"
BOOSTING = "global boosting"
COMBINED = "combined"
MODELS: dict[str, PointForecaster] = {
    NAIVE: SeasonalNaiveForecaster(),
    ETS: ETSForecaster(),
    THETA: ThetaForecaster(),
    BOOSTING: GlobalBoostingForecaster(random_state=0),
}
#: Candidates that are the mean of others' forecasts.
COMBINATIONS: dict[str, tuple[str, ...]] = {COMBINED: (NAIVE, ETS, THETA, BOOSTING)}
CANDIDATES = (*MODELS, *COMBINATIONS)
#: Relative held-out errors closer than this are a tie, won by the simpler candidate.
TIE = 1e-3
#: Held-out WAPE below which every candidate counts as exact (float noise).
EXACT = 1e-6
#: Validation origins reach this many seasons back by default.
VALIDATION_SEASONS = 2


def candidate_min_periods(name: str, frequency: Frequency) -> int:
    """Periods of history candidate ``name`` needs at least."""
    parts = COMBINATIONS.get(name, (name,))
    return max(MODELS[part].min_periods(frequency) for part in parts)


def check_coverage(coverage: float) -> None:
    """Raise a :class:`PlannerError` unless 0 < ``coverage`` < 1."""
    if not 0 < coverage < 1:
        raise PlannerError(f"coverage must be between 0 and 1 (e.g. 0.8 for 80% intervals), not {coverage}")


class HeldOutForecasts:
    """Candidate forecasts from the end of prefixes of one history, each fitted once.

    A fit on the first ``origin`` periods depends on nothing else, so a backtest shares
    these between its forecast origins (the validation origins of a later forecast are
    often the forecast origins of earlier ones).

    Parameters
    ----------
    history : pandas.DataFrame
        The whole history (see :mod:`planner.forecast.frequency`).
    horizon : int
        Periods every fit forecasts.
    random_state : int or None
        Seed of the candidates that use one.
    """

    def __init__(self, history: pd.DataFrame, horizon: int, random_state: int | None = 0) -> None:
        self.known, self.frequency = check_history(history)
        self.history = history
        self.horizon = horizon
        self.random_state = random_state
        self._fits: dict[tuple[str, int], np.ndarray] = {}

    def at(self, name: str, origin: int) -> np.ndarray:
        """Forecast (horizon x series) of candidate ``name`` fitted on the first ``origin`` periods.

        All NaN when the candidate cannot be fitted there (e.g. too few training rows).
        """
        if name in COMBINATIONS:
            return np.mean([self.at(part, origin) for part in COMBINATIONS[name]], axis=0)
        if (name, origin) not in self._fits:
            self.fill([(name, origin)])
        return self._fits[name, origin]

    def fill(
        self,
        fits: Sequence[tuple[str, int]],
        n_jobs: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        """Make the (candidate, origin) fits not made yet, on ``n_jobs`` processes (-1: every core).

        ``progress`` is called with (fraction done, message) after each fit.
        """
        parts = {(part, o) for name, o in fits for part in COMBINATIONS.get(name, (name,))}
        todo = sorted((key for key in parts if key not in self._fits), key=lambda key: (-key[1], key[0]))
        tasks = [
            delayed(_fit_point)(name, self.history.iloc[:origin], self.horizon, self.random_state)
            for name, origin in todo
        ]
        if n_jobs in (None, 1) or len(todo) < 2:
            results = (function(*args, **kwargs) for function, args, kwargs in tasks)
        else:
            results = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks)
        empty = np.full((self.horizon, self.known.shape[1]), np.nan)
        for done, (key, point) in enumerate(results, start=1):
            self._fits[key] = point if point is not None else empty
            if progress is not None:
                progress(done / len(todo), f"{key[0]} on the first {key[1]} {self.frequency.plural}")


def _fit_point(
    name: str, history: pd.DataFrame, horizon: int, random_state: int | None
) -> tuple[tuple[str, int], np.ndarray | None]:
    """Fit candidate model ``name`` on ``history``: its forecast, or None when it cannot be fitted."""
    model = clone(MODELS[name]).set_params(horizon=horizon)
    if "random_state" in model.get_params():
        model.set_params(random_state=random_state)
    try:
        return (name, len(history)), model.fit(history).point_
    except PlannerError:
        return (name, len(history)), None


def validation_origins(n_periods: int, step: int, count: int) -> list[int]:
    """Validation origins ``n_periods - j * step`` for ``j = 1..count``, oldest first."""
    return sorted(n_periods - j * step for j in range(1, count + 1))


class BookingsForecaster(BaseEstimator):
    """Forecast each series with the candidate that did best on its held-out periods.

    The method is described in the module docstring.

    Parameters
    ----------
    horizon : int, optional
        Periods ahead to forecast; one season (12 months, 4 quarters, 52 weeks) when not given.
    coverage : float
        Nominal coverage of the interval (0.8: 80% of outcomes inside).
    candidates : sequence of str
        Names from :data:`CANDIDATES`, simplest first (ties go to the earlier one).
    validation_step : int, optional
        Periods between validation origins; a quarter of a season when not given.
    validation_origins : int, optional
        How many; enough to reach two seasons back when not given.
    pooling : float
        With several series, the weight (0-1) of the evidence of all series in each
        series' choice (see :func:`_choose`).
    n_jobs : int or None
        Processes the candidate fits run on (-1: one per core; None or 1: this one).
    random_state : int or None
        Seed of the candidates that use one.

    Attributes
    ----------
    frequency_ : Frequency
        The history's period.
    series_ : pandas.Index
        Series ids (the history's columns).
    periods_ : pandas.DatetimeIndex
        The forecast periods.
    choice_ : pandas.Series
        The chosen candidate per series.
    validation_ : pandas.DataFrame
        Held-out WAPE per series (rows) and candidate (columns), each horizon weighted alike.
    validation_origins_ : list of int
        Periods observed at each validation origin.
    point_, lower_, upper_ : numpy.ndarray
        Forecast and interval, horizon x series, USD.
    """

    def __init__(
        self,
        *,
        horizon: int | None = None,
        coverage: float = 0.8,
        candidates: Sequence[str] = (NAIVE, ETS, THETA, BOOSTING, COMBINED),
        validation_step: int | None = None,
        validation_origins: int | None = None,
        pooling: float = 0.5,
        n_jobs: int | None = -1,
        random_state: int | None = 0,
    ) -> None:
        self.horizon = horizon
        self.coverage = coverage
        self.candidates = candidates
        self.validation_step = validation_step
        self.validation_origins = validation_origins
        self.pooling = pooling
        self.n_jobs = n_jobs
        self.random_state = random_state

    def settings(self, frequency: Frequency) -> tuple[int, int, int]:
        """Horizon, validation step and number of validation origins for ``frequency``."""
        horizon = frequency.season_length if self.horizon is None else self.horizon
        check_horizon(horizon)
        step = self.validation_step or math.ceil(frequency.season_length / 4)
        count = self.validation_origins or math.ceil(VALIDATION_SEASONS * frequency.season_length / step)
        if step < 1 or count < 1:
            raise PlannerError(
                f"validation_step and validation_origins must be 1 or more, not {step} and {count}"
            )
        return horizon, step, count

    def min_periods(self, frequency: Frequency) -> int:
        """Periods needed: a season (or what the least demanding candidate needs) and a step to judge on."""
        _, step, _ = self.settings(frequency)
        known = [candidate_min_periods(c, frequency) for c in self.candidates if c in CANDIDATES]
        return max(frequency.season_length, min(known, default=0)) + step

    def judged(self, frequency: Frequency, n_periods: int) -> tuple[list[str], list[int]]:
        """The candidates that can be judged on a history of ``n_periods``, and the validation origins."""
        _, step, count = self.settings(frequency)
        usable = [c for c in self.candidates if candidate_min_periods(c, frequency) <= n_periods - step]
        if not usable:
            raise PlannerError(
                f"no candidate among {list(self.candidates)} can be judged on {n_periods} "
                f"{frequency.plural}; give a longer history or add 'seasonal naive'"
            )
        first = max(candidate_min_periods(c, frequency) for c in usable)
        return usable, [o for o in validation_origins(n_periods, step, count) if o >= first]

    def fit(
        self,
        history: pd.DataFrame,
        *,
        held_out: HeldOutForecasts | None = None,
        progress: ProgressCallback | None = None,
    ) -> BookingsForecaster:
        """Choose a candidate per series and calibrate the intervals on ``history``.

        Parameters
        ----------
        history : pandas.DataFrame
            Period starts as index, one column per series (see :mod:`planner.forecast.frequency`).
        held_out : HeldOutForecasts, optional
            Shared candidate fits of a longer history whose first periods are ``history``
            (a backtest passes one); made here when not given.
        progress : callable, optional
            Called with (fraction done, message) after each candidate fit and at the end.
        """
        check_coverage(self.coverage)
        unknown = [c for c in self.candidates if c not in CANDIDATES]
        if unknown or not self.candidates:
            raise PlannerError(f"candidates {unknown or '[]'} are not known; choose from {list(CANDIDATES)}")
        values, frequency = check_history(history)
        horizon, _, _ = self.settings(frequency)
        require_periods(len(values), frequency, self.min_periods(frequency))
        n_periods = len(values)
        if held_out is None:
            held_out = HeldOutForecasts(history, horizon, self.random_state)
        elif held_out.horizon != horizon or not np.array_equal(held_out.known[:n_periods], values):
            raise PlannerError(
                "held_out forecasts belong to another history or horizon; make them from this one"
            )
        usable, origins = self.judged(frequency, n_periods)
        report = None if progress is None else lambda done, message: progress(0.99 * done, message)
        held_out.fill([(c, o) for c in usable for o in [*origins, n_periods]], self.n_jobs, report)
        m = frequency.season_length
        fitted = [
            c for c in usable if not any(np.isnan(held_out.at(c, o)).all() for o in [*origins, n_periods])
        ]
        usable = fitted or [NAIVE]
        actual = _outcomes(origins, values, horizon)  # origin x horizon x series, NaN where not known yet
        stacked = np.stack(  # held-out errors: candidate x origin x horizon x series
            [actual - np.stack([held_out.at(c, o) for o in origins]) for c in usable]
        )
        actual_scale = _horizon_balanced(actual)
        actual_scale = np.where(actual_scale > 0, actual_scale, 1.0)
        scores = np.stack([_horizon_balanced(e) for e in stacked]) / actual_scale  # candidate x series
        self.validation_ = pd.DataFrame(
            scores.T,
            index=history.columns.astype(str),
            columns=usable,
        )
        chosen = _choose(scores, self.pooling)
        self.choice_ = pd.Series(np.asarray(usable)[chosen], index=self.validation_.index, name="model")
        final = np.stack([held_out.at(c, n_periods) for c in usable])  # candidate x horizon x series
        series = np.arange(values.shape[1])
        self.point_ = np.maximum(final[chosen, :, series].T, 0.0)
        default = usable.index(COMBINED) if COMBINED in usable else 0
        calibration = (
            _nested_choice_errors(stacked / actual_scale, origins, default, self.pooling)
            * actual_scale[:, None, None]
        )
        levels = np.stack([series_levels(values, o, m) for o in origins], axis=1)  # series x origin
        relative = np.abs(calibration) / levels[:, :, None]
        width = _conformal_widths(relative, frequency.band_edges(horizon), self.coverage)
        width *= series_levels(values, n_periods, m)[None, :]
        self.lower_ = np.maximum(self.point_ - width, 0.0)
        self.upper_ = self.point_ + width
        self.frequency_ = frequency
        self.series_ = history.columns.astype(str)
        self.periods_ = frequency.starts(history.index[-1], horizon + 1)[1:]
        self.validation_origins_ = origins
        if progress is not None:
            progress(1.0, "chosen per series")
        return self

    def predict(self) -> pd.DataFrame:
        """The forecast as a long frame.

        Returns
        -------
        pandas.DataFrame
            ``series_id``, ``period``, ``horizon``, ``forecast_usd``, ``lower_usd``,
            ``upper_usd``, ``model`` (the chosen candidate); one row per series and period.
        """
        horizon, n_series = self.point_.shape
        return pd.DataFrame(
            {
                "series_id": np.tile(self.series_.to_numpy(), horizon),
                "period": np.repeat(self.periods_.to_numpy(), n_series),
                "horizon": np.repeat(np.arange(1, horizon + 1), n_series),
                "forecast_usd": self.point_.ravel(),
                "lower_usd": self.lower_.ravel(),
                "upper_usd": self.upper_.ravel(),
                "model": np.tile(self.choice_.to_numpy(), horizon),
            }
        )


def _outcomes(origins: list[int], values: np.ndarray, horizon: int) -> np.ndarray:
    """What happened after each origin (origin x horizon x series), NaN past the end of ``values``."""
    n_periods, n_series = values.shape
    actual = np.full((len(origins), horizon, n_series), np.nan)
    for j, origin in enumerate(origins):
        known = min(horizon, n_periods - origin)
        actual[j, :known] = values[origin : origin + known]
    return actual


def _horizon_balanced(errors: np.ndarray) -> np.ndarray:
    """Per series: the mean absolute value at each horizon, summed over horizons seen."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a horizon no origin has seen yet
        by_horizon = np.nanmean(np.abs(errors), axis=0)  # horizon x series (NaN: horizon never seen)
    return np.nansum(by_horizon, axis=0)


def _choose(scores: np.ndarray, pooling: float) -> np.ndarray:
    """Index of the chosen candidate per series from held-out scores (candidate x series, WAPE-like).

    With several series, each series' scores relative to its mean over candidates are
    mixed with the same relative scores averaged over all series (weight ``pooling``):
    a short history borrows the panel's evidence. Ties go to the earlier candidate.
    """
    relative = scores / np.maximum(scores.mean(axis=0), EXACT)
    if scores.shape[1] > 1 and pooling > 0:
        relative = (1 - pooling) * relative + pooling * relative.mean(axis=1, keepdims=True)
    return np.argmax(relative <= relative.min(axis=0) + TIE, axis=0)  # the first of the (near-)best


def _nested_choice_errors(errors: np.ndarray, origins: list[int], default: int, pooling: float) -> np.ndarray:
    """Held-out errors of the choice itself (series x origin x horizon), for calibration.

    At each validation origin the candidate is chosen again from the errors known by
    then (outcomes before that origin; ``default`` while there are none), so the
    interval is calibrated on choices made as they would have been, not on the
    candidate that looked best in hindsight (whose errors are too small).
    """
    _, n_origins, horizon, n_series = errors.shape
    out = np.full((n_series, n_origins, horizon), np.nan)
    outcome = np.asarray(origins)[:, None] + np.arange(horizon)[None, :]  # origin x horizon: period index
    series = np.arange(n_series)
    for j, origin in enumerate(origins):
        known = outcome < origin
        if known.any():
            masked = np.where(known[None, :, :, None], errors, np.nan)
            chosen = _choose(np.stack([_horizon_balanced(e) for e in masked]), pooling)
        else:
            chosen = np.full(n_series, default)
        out[:, j, :] = errors[chosen, j, :, series]
    return out


def _conformal_widths(relative: np.ndarray, bands: list[tuple[int, int]], coverage: float) -> np.ndarray:
    """Relative half-widths (horizon x series) from held-out |errors| / level (series x origin x horizon)."""
    n_series, _, horizon = relative.shape
    width = np.zeros((horizon, n_series))
    previous = np.zeros(n_series)
    for low, high in bands:
        scores = relative[:, :, low - 1 : high].reshape(n_series, -1)
        for k in range(n_series):
            seen = np.sort(scores[k][~np.isnan(scores[k])])
            if len(seen):
                previous[k] = np.quantile(seen, coverage, method="weibull")  # rank c (n + 1), interpolated
        width[low - 1 : high] = previous
    return width
