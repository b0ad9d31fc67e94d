"""The forecaster choosing per series: choice by held-out error, pooling, nested calibration, intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import PlannerError
from planner.forecast.choice import (
    BOOSTING,
    COMBINED,
    ETS,
    NAIVE,
    THETA,
    BookingsForecaster,
    HeldOutForecasts,
    _choose,
    _nested_choice_errors,
)

FAST = (NAIVE, ETS, THETA)  # no boosting: the choice logic, quickly


def months(n: int) -> pd.DatetimeIndex:
    return pd.date_range("2021-01-01", periods=n, freq="MS")


def test_an_exact_seasonal_repeat_keeps_seasonal_naive_and_a_trend_does_not():
    t = np.arange(48.0)
    history = pd.DataFrame(
        {
            "repeat": 100 + 30 * np.sin(2 * np.pi * t / 12),  # every year the same: naive is exact
            "trend": 100 + 10 * t,  # a straight line: a year-old value is 120 behind
        },
        index=months(48),
    )
    fitted = BookingsForecaster(candidates=FAST, pooling=0.0, n_jobs=1).fit(history)
    assert fitted.choice_["repeat"] == NAIVE  # all exact: a tie, won by the simplest
    assert fitted.choice_["trend"] != NAIVE
    assert fitted.validation_.loc["repeat", NAIVE] == pytest.approx(0.0, abs=1e-12)
    assert (
        fitted.validation_.loc["trend", fitted.choice_["trend"]]
        < 0.2 * fitted.validation_.loc["trend", NAIVE]
    )
    assert list(fitted.validation_.columns) == list(FAST)
    assert fitted.validation_origins_ == list(range(24, 46, 3))  # 8 origins a quarter apart, 2 years back
    np.testing.assert_allclose(fitted.point_[:, 0], history["repeat"].iloc[36:48], atol=1e-9)
    forecast = fitted.predict()
    assert list(forecast.columns) == [
        "series_id",
        "period",
        "horizon",
        "forecast_usd",
        "lower_usd",
        "upper_usd",
        "model",
    ]
    assert (forecast["lower_usd"] <= forecast["forecast_usd"]).all()
    assert (forecast["forecast_usd"] <= forecast["upper_usd"]).all()
    assert forecast.loc[forecast["series_id"] == "trend", "model"].eq(fitted.choice_["trend"]).all()


def test_scores_relative_to_each_series_mix_with_the_panels():
    scores = np.array([[1.0, 10.0], [2.0, 5.0]])  # candidate x series
    assert _choose(scores, pooling=0.0).tolist() == [0, 1]
    # Relative to each series' mean: candidate 0 -> 2/3 and 4/3; candidate 1 -> 4/3 and 2/3; pooled 1 each.
    # Half pooled: 5/6 vs 7/6 for series 0 (candidate 0), 7/6 vs 5/6 for series 1 (candidate 1).
    assert _choose(scores, pooling=0.5).tolist() == [0, 1]
    lopsided = np.array([[1.0, 10.0, 10.0], [1.1, 5.0, 5.0]])
    assert _choose(lopsided, pooling=0.0).tolist() == [0, 1, 1]
    assert _choose(lopsided, pooling=0.5).tolist() == [1, 1, 1]  # a near-tie borrows the panel's verdict
    assert _choose(np.array([[3.0], [3.0]]), pooling=0.5).tolist() == [0]  # ties: the simpler candidate


def test_calibration_uses_the_choice_made_with_what_was_known_then():
    # 2 candidates, 3 validation origins 1 period apart, horizon 2, 1 series.
    errors = np.full((2, 3, 2, 1), np.nan)
    errors[0, :, :, 0] = [[1.0, 1.0], [9.0, 9.0], [9.0, 9.0]]  # candidate 0: good at origin 0 only
    errors[1, :, :, 0] = [[5.0, 5.0], [1.0, 1.0], [1.0, np.nan]]
    nested = _nested_choice_errors(errors, origins=[10, 11, 12], default=1, pooling=0.0)
    # Origin 10: nothing known yet -> default (candidate 1): 5, 5.
    # Origin 11: origin 10's horizon 1 is known (1 vs 5) -> candidate 0: 9, 9.
    # Origin 12: origin 10 h1-2 and origin 11 h1 are known: candidate 0 scores 1 + mean(1, 9) = 6,
    # candidate 1 scores 5 + mean(5, 1) = 8 -> candidate 0 again: 9, 9.
    assert nested[0].tolist() == [[5.0, 5.0], [9.0, 9.0], [9.0, 9.0]]


def test_interval_covers_about_the_nominal_share_of_stationary_noise():
    rng = np.random.default_rng(7)
    n = 96
    season = 100 * (1 + 0.3 * np.sin(2 * np.pi * np.arange(n) / 12))
    history = pd.DataFrame(season[:, None] + rng.normal(0, 8, (n, 6)), index=months(n))
    from planner.forecast.backtest import backtest

    result = backtest(
        history,
        {"chosen": BookingsForecaster(candidates=FAST, n_jobs=1)},
        n_origins=8,
        step=3,
    )
    coverage = result.metrics(None).loc[("chosen", "all"), "coverage"]
    assert 0.7 <= coverage <= 0.92, coverage


def test_bad_settings_and_short_histories_are_explained():
    history = pd.DataFrame({"T1": np.arange(1.0, 15.0)}, index=months(14))
    with pytest.raises(PlannerError, match="needs at least 15"):
        BookingsForecaster().fit(history)
    with pytest.raises(PlannerError, match=r"candidates \['arima'\] are not known"):
        BookingsForecaster(candidates=("arima",)).fit(history)
    with pytest.raises(PlannerError, match="coverage must be between 0 and 1"):
        BookingsForecaster(coverage=80).fit(history)
    with pytest.raises(PlannerError, match="horizon must be a whole number"):
        BookingsForecaster(horizon=0).fit(history)
    other = HeldOutForecasts(history * 2, 12)
    with pytest.raises(PlannerError, match="held_out forecasts belong to another history"):
        BookingsForecaster(candidates=(NAIVE,)).fit(
            pd.concat([history, history + 100]).set_axis(months(28)), held_out=other
        )


def test_a_boosting_model_that_cannot_learn_yet_is_left_out():
    # 16 months: the global model needs 15 to learn, so it cannot be judged 3 months back.
    history = pd.DataFrame({"T1": 100 + np.arange(16.0)}, index=months(16))
    fitted = BookingsForecaster(candidates=(NAIVE, BOOSTING, COMBINED), n_jobs=1).fit(history)
    assert list(fitted.validation_.columns) == [NAIVE]
    assert fitted.choice_["T1"] == NAIVE
    # 15 months of one series are 78 training rows, too few: the fit is recorded as impossible.
    held_out = HeldOutForecasts(history, horizon=12)
    assert np.isnan(held_out.at(BOOSTING, 15)).all()
    assert not np.isnan(held_out.at(NAIVE, 15)).any()


def test_parallel_fits_give_the_same_forecast_and_report_progress():
    t = np.arange(40.0)
    history = pd.DataFrame({"a": 50 + t + 10 * np.sin(t), "b": 80 + 5 * np.cos(t / 2)}, index=months(40))
    calls = []
    one = BookingsForecaster(candidates=FAST, n_jobs=1).fit(history, progress=lambda d, m: calls.append(d))
    two = BookingsForecaster(candidates=FAST, n_jobs=2).fit(history)
    pd.testing.assert_frame_equal(one.predict(), two.predict())
    assert calls[-1] == 1.0 and calls == sorted(calls) and len(calls) > 3


@settings(max_examples=10, deadline=None)
@given(
    values=st.lists(st.floats(0, 1e5), min_size=30, max_size=40),
    coverage=st.sampled_from([0.5, 0.8, 0.95]),
)
def test_intervals_hold_the_forecast_and_never_go_below_zero(values, coverage):
    history = pd.DataFrame({"x": values}, index=months(len(values)))
    fitted = BookingsForecaster(candidates=FAST, coverage=coverage, horizon=6, n_jobs=1).fit(history)
    assert (fitted.lower_ >= 0).all()
    assert (fitted.lower_ <= fitted.point_ + 1e-9).all() and (fitted.point_ <= fitted.upper_ + 1e-9).all()
    assert fitted.choice_["x"] in FAST
