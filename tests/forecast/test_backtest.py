"""Rolling-origin backtest: no look-ahead, hand-computed metrics, origins."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import PlannerError
from planner.forecast.backtest import BASELINE, CHOSEN, BacktestResult, backtest, rolling_origins
from planner.forecast.choice import BOOSTING, ETS, NAIVE, BookingsForecaster
from planner.forecast.frequency import MONTH


def panel(n_series: int, n_months: int) -> pd.DataFrame:
    """Seasonal series with trend and noise, on scales 1,000 to n_series x 1,000."""
    rng = np.random.default_rng(0)
    months = pd.date_range("2022-01-01", periods=n_months, freq="MS", name="period")
    season = 1 + 0.3 * np.sin(2 * np.pi * months.month.to_numpy() / 12)
    values = np.outer(season * 1.01 ** np.arange(n_months), 1000.0 * (1 + np.arange(n_series)))
    return pd.DataFrame(
        values * rng.lognormal(0, 0.1, values.shape), index=months, columns=[f"T{k}" for k in range(n_series)]
    )


QUICK = {
    CHOSEN: BookingsForecaster(candidates=(NAIVE, ETS, BOOSTING), validation_origins=2, n_jobs=1),
    BASELINE: BookingsForecaster(candidates=(NAIVE,), validation_origins=2, n_jobs=1),
}


def test_origins_step_back_from_the_last_full_horizon():
    assert rolling_origins(36, horizon=12, n_origins=4, step=2, min_train=18) == [
        18,
        20,
        22,
        24,
    ]
    assert rolling_origins(36, horizon=12, n_origins=4, step=3, min_train=18) == [18, 21, 24]
    with pytest.raises(PlannerError, match="needs at least 30 periods of history; there are 20"):
        rolling_origins(20, horizon=12, min_train=18)


def test_a_spike_after_the_origin_cannot_leak_into_the_forecast():
    history = panel(n_series=3, n_months=34)
    origin = 22
    spiked = history.copy()
    spiked.iloc[origin:] *= 50.0  # every month the forecasts are judged on, and later
    clean = backtest(history, QUICK, horizon=6, origins=[origin]).forecasts
    leaked = backtest(spiked, QUICK, horizon=6, origins=[origin]).forecasts
    columns = ["method", "origin", "series_id", "period", "forecast_usd", "lower_usd", "upper_usd", "model"]
    pd.testing.assert_frame_equal(clean[columns], leaked[columns])
    assert (leaked["actual_usd"].to_numpy() == 50 * clean["actual_usd"].to_numpy()).all()
    assert clean["origin"].unique().tolist() == [history.index[origin - 1]]
    assert clean["period"].min() == history.index[origin]


def test_a_spike_before_the_origin_does_reach_the_forecast():
    """The check above can fail: the same spike one month earlier moves both forecasts."""
    history = panel(n_series=3, n_months=34)
    origin = 22
    spiked = history.copy()
    spiked.iloc[origin - 12] *= 50.0  # the month seasonal naive repeats at horizon 1
    spiked.iloc[origin - 1] *= 50.0
    clean = backtest(history, QUICK, horizon=6, origins=[origin]).forecasts
    moved = backtest(spiked, QUICK, horizon=6, origins=[origin]).forecasts
    for method in (CHOSEN, BASELINE):
        before = clean.loc[clean["method"] == method, "forecast_usd"].to_numpy()
        after = moved.loc[moved["method"] == method, "forecast_usd"].to_numpy()
        assert (after != before).any(), method


@settings(max_examples=6, deadline=None)
@given(
    seed=st.integers(0, 1000),
    origin=st.integers(18, 28),
    factor=st.floats(0.0, 100.0),
    month=st.integers(0, 5),
)
def test_nothing_after_the_origin_changes_any_forecast(seed, origin, factor, month):
    rng = np.random.default_rng(seed)
    history = panel(n_series=2, n_months=34) * rng.lognormal(0, 0.2, (34, 2))
    changed = history.copy()
    changed.iloc[origin + month :] *= factor  # from some month after the origin on, scaled (or zeroed)
    columns = ["method", "series_id", "period", "forecast_usd", "lower_usd", "upper_usd", "model"]
    first = backtest(history, QUICK, horizon=6, origins=[origin]).forecasts[columns]
    second = backtest(changed, QUICK, horizon=6, origins=[origin]).forecasts[columns]
    pd.testing.assert_frame_equal(first, second)


def test_metrics_match_hand_computation():
    forecasts = pd.DataFrame(
        {
            "method": [CHOSEN] * 4 + [BASELINE] * 4,
            "origin": pd.Timestamp("2026-01-01"),
            "series_id": ["a", "a", "b", "b"] * 2,
            "period": pd.to_datetime(["2026-02-01", "2026-03-01"] * 4),
            "horizon": [1, 2, 1, 2] * 2,
            "band": "1-3",
            "model": "ETS",
            "actual_usd": [100.0, 200.0, 50.0, 0.0] * 2,
            "forecast_usd": [110.0, 180.0, 50.0, 10.0, 100.0, 100.0, 100.0, 100.0],
            "lower_usd": [90.0, 190.0, 40.0, 5.0, 0.0, 0.0, 0.0, 0.0],
            "upper_usd": [120.0, 210.0, 60.0, 20.0, 1e9, 1e9, 1e9, 1e9],
            "mase_scale_usd": [10.0, 10.0, 5.0, 5.0] * 2,
        }
    )
    result = BacktestResult(forecasts=forecasts, coverage=0.8, frequency=MONTH)
    overall = result.metrics(None)
    # Model: |errors| 10, 20, 0, 10 over actuals 350; scaled 1, 2, 0, 2; inside: yes, yes, yes, no.
    assert overall.loc[(CHOSEN, "all"), "wape"] == pytest.approx(40 / 350)
    assert overall.loc[(CHOSEN, "all"), "mase"] == pytest.approx(5 / 4)
    assert overall.loc[(CHOSEN, "all"), "coverage"] == pytest.approx(0.75)
    # Baseline: |errors| 0, 100, 50, 100 -> 250 / 350; scaled 0, 10, 10, 20.
    assert overall.loc[(BASELINE, "all"), "wape"] == pytest.approx(250 / 350)
    assert overall.loc[(BASELINE, "all"), "mase"] == pytest.approx(10.0)
    per_horizon = result.metrics("horizon")
    assert per_horizon.loc[(CHOSEN, 1), "wape"] == pytest.approx(10 / 150)
    assert per_horizon.loc[(CHOSEN, 2), "wape"] == pytest.approx(30 / 200)
    table = result.table()
    assert table.index.tolist() == ["1", "2", "all"]
    assert table.columns.tolist() == [
        f"wape_{CHOSEN}",
        f"wape_{BASELINE}",
        f"mase_{CHOSEN}",
        f"mase_{BASELINE}",
        f"coverage_{CHOSEN}",
        f"coverage_{BASELINE}",
        "wape_change_pct",
    ]
    assert table.loc["all", "wape_change_pct"] == pytest.approx(100 * (40 / 250 - 1))
    assert result.origins == ["2026-01"]


def test_backtest_runs_every_origin_and_reports_progress():
    history = panel(n_series=2, n_months=36)
    calls = []
    naive = {BASELINE: BookingsForecaster(candidates=(NAIVE,), n_jobs=1)}
    result = backtest(
        history,
        naive,
        horizon=3,
        origins=[24, 30],
        progress=lambda done, message: calls.append((done, message)),
    )
    assert result.origins == ["2023-12", "2024-06"]
    assert len(result.forecasts) == 2 * 2 * 3
    fractions = [done for done, _ in calls]
    assert fractions[-1] == 1.0 and fractions == sorted(fractions) and len(calls) > 2
    assert "seasonal naive on the first" in calls[0][1]
    table = result.table("band")
    assert table.index.tolist() == ["1-3", "all"]
    assert table.loc["all", f"coverage_{BASELINE}"] <= 1.0
    with pytest.raises(PlannerError, match="lack 3 months of outcomes"):
        backtest(history, naive, horizon=3, origins=[35])


def test_a_quarterly_backtest_judges_a_year_ahead_by_quarter():
    quarters = pd.date_range("2015-01-01", periods=40, freq="QS-JAN")
    rng = np.random.default_rng(2)
    history = pd.DataFrame(
        {
            "x": 100
            * (1 + 0.2 * np.tile([1, -1, 0.5, -0.5], 10))
            * 1.01 ** np.arange(40)
            * rng.lognormal(0, 0.03, 40)
        },
        index=quarters,
    )
    result = backtest(history, n_origins=4)
    assert result.frequency.name == "quarter"
    assert result.origins == ["2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4"]  # one quarter apart
    assert result.forecasts["horizon"].max() == 4
    assert result.table("band").index.tolist() == ["1", "2", "3-4", "all"]
    assert set(result.methods) == {CHOSEN, "seasonal naive", "ETS", "Theta", "global boosting", "combined"}
    assert result.choices().loc[CHOSEN].sum() == 4
