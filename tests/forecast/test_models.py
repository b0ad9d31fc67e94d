"""The candidate models: seasonal naive (hand-computed), ETS, Theta and the global boosting model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from planner.errors import PlannerError
from planner.forecast.models import (
    ETSForecaster,
    GlobalBoostingForecaster,
    SeasonalNaiveForecaster,
    ThetaForecaster,
)


def panel(
    n_series: int = 4, n_periods: int = 48, freq: str = "MS", season: int = 12, seed: int = 0
) -> pd.DataFrame:
    """Series with growth, a shared seasonal pattern and multiplicative noise, on scales 1,000 to 4,000."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2022-01-01" if freq != "W-MON" else "2022-01-03", periods=n_periods, freq=freq)
    shape = 1 + 0.3 * np.sin(2 * np.pi * np.arange(n_periods) / season)
    values = np.outer(shape * 1.01 ** np.arange(n_periods), 1000.0 * (1 + np.arange(n_series)))
    return pd.DataFrame(
        values * rng.lognormal(0, 0.05, values.shape),
        index=periods.rename("period"),
        columns=[f"T{k}" for k in range(n_series)],
    )


def test_seasonal_naive_reproduces_hand_computed_values():
    months = pd.date_range("2025-01-01", periods=14, freq="MS")
    history = pd.DataFrame({"T1": np.arange(1.0, 15.0)}, index=months)
    forecast = SeasonalNaiveForecaster(horizon=14).fit(history).predict()
    # h = 1..12: the same month a year before (months 3..14 hold 3..14); h = 13, 14: two years before.
    assert forecast["T1"].tolist() == [*range(3, 15), 3, 4]
    assert forecast.index[0] == pd.Timestamp("2026-03-01")
    quarters = pd.date_range("2024-01-01", periods=6, freq="QS-JAN")
    by_quarter = SeasonalNaiveForecaster().fit(pd.DataFrame({"T1": [1.0, 2, 3, 4, 5, 6]}, index=quarters))
    assert by_quarter.predict()["T1"].tolist() == [3.0, 4.0, 5.0, 6.0]  # one season: 4 quarters
    assert by_quarter.periods_[0] == pd.Timestamp("2025-07-01")


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.floats(0, 1e6), min_size=12, max_size=30), horizon=st.integers(1, 24))
def test_seasonal_naive_repeats_the_last_season(values, horizon):
    months = pd.date_range("2020-01-01", periods=len(values), freq="MS")
    forecast = (
        SeasonalNaiveForecaster(horizon=horizon).fit(pd.DataFrame({"x": values}, index=months)).predict()
    )
    expected = [values[len(values) - 12 + (h - 1) % 12] for h in range(1, horizon + 1)]
    np.testing.assert_allclose(forecast["x"], expected)


@pytest.mark.parametrize("model", [ETSForecaster(), ThetaForecaster()])
def test_statistical_models_follow_a_seasonal_series_on_its_own_scale(model):
    history = panel(n_series=2)
    actual = history.iloc[36:48].to_numpy()

    def wape(forecaster) -> float:
        forecast = forecaster.set_params(horizon=12).fit(history.iloc[:36]).predict().to_numpy()
        return float(np.abs(forecast - actual).sum() / actual.sum())

    # The series grow 1% a month: a year-old value is 12% short, a model of level, trend and season is not.
    assert wape(clone(model)) < min(0.1, 0.8 * wape(SeasonalNaiveForecaster()))
    assert clone(model).fit(history.iloc[:36]).fell_back_ == []


def test_ets_names_its_form_and_falls_back_on_a_constant_series():
    history = panel(n_series=1)
    history["flat"] = 500.0
    fitted = ETSForecaster(horizon=6).fit(history)
    assert fitted.forms_["T0"].startswith("A,") and fitted.forms_["T0"].endswith(("A", "M"))
    assert fitted.fell_back_ == ["flat"]
    np.testing.assert_allclose(fitted.predict()["flat"], 500.0)


def test_short_history_drops_seasonal_forms():
    fitted = ETSForecaster(horizon=3).fit(panel(n_series=1, n_periods=18))
    assert fitted.forms_["T0"].endswith(",N")  # two full seasons are needed for a seasonal form


def test_global_model_learns_each_series_scale_and_season():
    history = panel()
    model = GlobalBoostingForecaster(horizon=6, max_iter=30, random_state=0).fit(history)
    forecast = model.predict()
    t = np.arange(48, 54)
    truth = np.outer((1 + 0.3 * np.sin(2 * np.pi * t / 12)) * 1.01**t, 1000.0 * np.arange(1, 5))
    ratio = forecast.to_numpy().sum(axis=0) / truth.sum(axis=0)
    assert (np.abs(ratio - 1) < 0.1).all(), ratio
    assert "seasonal_naive" in model.feature_names_ and "series" in model.feature_names_
    again = clone(model).fit(history).predict()
    pd.testing.assert_frame_equal(forecast, again)
    assert not hasattr(clone(model), "model_")
    with pytest.raises(PlannerError, match="at least 15"):
        GlobalBoostingForecaster().fit(history.iloc[:14])


def test_global_model_runs_on_quarters_and_weeks():
    quarters = GlobalBoostingForecaster(max_iter=20).fit(panel(n_periods=24, freq="QS-JAN", season=4))
    assert quarters.predict().shape == (4, 4)
    weeks = GlobalBoostingForecaster(horizon=13, max_iter=20).fit(
        panel(n_periods=120, freq="W-MON", season=52)
    )
    assert weeks.predict().shape == (13, 4) and (weeks.predict() > 0).all().all()
