"""History by plan, seasonal naive (hand-computed), the global forecaster and forecast_territories."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from planner.data.dataset import Dataset
from planner.errors import PlannerError
from planner.forecast.history import monthly_history, territory_history
from planner.forecast.model import BookingsForecaster, SeasonalNaiveForecaster, forecast_territories
from planner.plans.plan import Plan


def panel(n_series: int = 4, n_months: int = 40, seed: int = 0) -> pd.DataFrame:
    """Monthly series with trend, a shared seasonal pattern and multiplicative noise."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2022-01-01", periods=n_months, freq="MS", name="month")
    season = 1 + 0.3 * np.sin(2 * np.pi * months.month.to_numpy() / 12)
    trend = 1.01 ** np.arange(n_months)
    scale = 1000.0 * (1 + np.arange(n_series))
    noise = rng.lognormal(0, 0.1, size=(n_months, n_series))
    values = np.outer(season * trend, scale) * noise
    return pd.DataFrame(values, index=months, columns=[f"T{k}" for k in range(n_series)])


def small_dataset(n_months: int = 30) -> Dataset:
    """Four units in two territories, one account each, a booking every month."""
    rng = np.random.default_rng(1)
    months = pd.date_range("2024-01-01", periods=n_months, freq="MS")
    units = ["u1", "u2", "u3", "u4"]
    rows = [
        {"account_id": f"A{u}", "date": m + pd.Timedelta(days=9), "amount_usd": 100.0 * (k + 1), "unit_id": u}
        for m in months
        for k, u in enumerate(units)
    ]
    bookings = pd.DataFrame(rows)
    bookings["amount_usd"] *= rng.lognormal(0, 0.05, len(bookings)) * (
        1 + 0.2 * (bookings["date"].dt.month == 12)
    )
    plan = Plan(pd.Series(["East", "East", "West", "West"], index=units))
    empty = gpd.GeoDataFrame({"geometry": gpd.GeoSeries([], crs="EPSG:4326")})
    return Dataset(units=empty, accounts=pd.DataFrame(), reps=pd.DataFrame(), bookings=bookings, plan=plan)


# History -----------------------------------------------------------------------------


def test_history_follows_the_plan_by_unit():
    bookings = pd.DataFrame(
        {
            "account_id": ["a", "b", "c", "a"],
            "date": pd.to_datetime(["2026-01-05", "2026-01-20", "2026-03-02", "2026-03-31"]),
            "amount_usd": [10.0, 20.0, 5.0, 1.0],
            "unit_id": ["u1", "u2", "u3", "u1"],
        }
    )
    plan = Plan(pd.Series({"u1": "T1", "u2": "T2", "u3": "T2", "u4": "T3"}))
    history = monthly_history(bookings, plan)
    assert list(history.columns) == ["T1", "T2", "T3"]  # T3 has no bookings but is in the plan
    assert [m.strftime("%Y-%m") for m in history.index] == ["2026-01", "2026-02", "2026-03"]
    assert history.to_numpy().tolist() == [[10, 20, 0], [0, 0, 0], [1, 5, 0]]
    moved = monthly_history(bookings, plan.move("u2", "T1"))
    assert moved["T1"].tolist() == [30, 0, 1]
    assert moved["T2"].tolist() == [0, 0, 5]
    by_unit = monthly_history(bookings, plan, by="unit")
    assert by_unit["u1"].tolist() == [10, 0, 1] and by_unit["u4"].sum() == 0


def test_history_errors_name_the_problem():
    plan = Plan(pd.Series({"u1": "T1"}))
    with pytest.raises(PlannerError, match="no bookings"):
        monthly_history(pd.DataFrame(columns=["date", "amount_usd", "unit_id"]), plan)
    unknown = pd.DataFrame({"date": ["2026-01-01"], "amount_usd": [1.0], "unit_id": ["zz"]})
    with pytest.raises(PlannerError, match=r"units \['zz'\] that are not in the plan"):
        monthly_history(unknown, plan)
    with pytest.raises(PlannerError, match="lack column"):
        monthly_history(unknown.drop(columns="unit_id"), plan)


@settings(max_examples=25, deadline=None)
@given(
    territories=st.lists(st.sampled_from(["T1", "T2", "T3"]), min_size=5, max_size=5),
    amounts=st.lists(st.floats(0, 1e6), min_size=12, max_size=12),
)
def test_any_plan_keeps_every_months_total(territories, amounts):
    units = [f"u{k}" for k in range(5)]
    bookings = pd.DataFrame(
        {
            "date": pd.date_range("2025-01-01", periods=12, freq="MS").repeat(1),
            "amount_usd": amounts,
            "unit_id": [units[k % 5] for k in range(12)],
        }
    )
    plan = Plan(pd.Series(territories, index=units))
    history = monthly_history(bookings, plan)
    by_unit = monthly_history(bookings, plan, by="unit")
    np.testing.assert_allclose(history.sum(axis=1), by_unit.sum(axis=1))
    np.testing.assert_allclose(history.sum(axis=1).to_numpy(), amounts)
    for territory in history.columns:
        np.testing.assert_allclose(history[territory], by_unit[list(plan.units_of(territory))].sum(axis=1))


# Seasonal naive ----------------------------------------------------------------------


def test_seasonal_naive_reproduces_hand_computed_values():
    months = pd.date_range("2025-01-01", periods=14, freq="MS", name="month")
    history = pd.DataFrame({"T1": np.arange(1.0, 15.0)}, index=months)
    forecast = SeasonalNaiveForecaster(horizon=14, coverage=0.8).fit(history).predict()
    # h = 1..12: the same month a year before the target (months 3..14 hold 3..14);
    # h = 13, 14: two years before (3, 4).
    assert forecast["forecast_usd"].tolist() == [*range(3, 15), 3, 4]
    assert forecast["month"].iloc[0] == pd.Timestamp("2026-03-01")
    assert forecast["horizon"].tolist() == list(range(1, 15))
    # In-sample seasonal differences are both +12, so both interval ends sit 12 above:
    # the lower end is raised to the forecast, the upper widened by sqrt(2) in year two.
    np.testing.assert_allclose(forecast["lower_usd"], forecast["forecast_usd"])
    np.testing.assert_allclose(forecast["upper_usd"][:12], forecast["forecast_usd"][:12] + 12)
    np.testing.assert_allclose(forecast["upper_usd"][12:], forecast["forecast_usd"][12:] + 12 * np.sqrt(2))


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.floats(0, 1e6), min_size=12, max_size=30), horizon=st.integers(1, 24))
def test_seasonal_naive_repeats_the_last_year(values, horizon):
    months = pd.date_range("2020-01-01", periods=len(values), freq="MS", name="month")
    history = pd.DataFrame({"x": values}, index=months)
    forecast = SeasonalNaiveForecaster(horizon=horizon).fit(history).predict()
    expected = [values[len(values) - 12 + (h - 1) % 12] for h in range(1, horizon + 1)]
    np.testing.assert_allclose(forecast["forecast_usd"], expected)
    assert (forecast["lower_usd"] <= forecast["forecast_usd"]).all()
    assert (forecast["upper_usd"] >= forecast["forecast_usd"]).all()
    assert (forecast["lower_usd"] >= 0).all()


@pytest.mark.parametrize(
    ("history", "params", "message"),
    [
        (panel(n_months=10), {}, "at least 12"),
        (panel().reset_index(drop=True), {}, "DatetimeIndex"),
        (panel().drop(index=pd.Timestamp("2022-05-01")), {}, "without gaps"),
        (panel() * -1, {}, "negative bookings"),
        (panel().replace({panel().iloc[3, 0]: np.nan}), {}, "missing or infinite"),
        (panel(), {"coverage": 1.5}, "coverage must be between 0 and 1"),
        (panel(), {"horizon": 0}, "horizon must be a whole number"),
    ],
)
def test_bad_histories_and_parameters_are_rejected(history, params, message):
    with pytest.raises(PlannerError, match=message):
        SeasonalNaiveForecaster(**params).fit(history)


# The global model --------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted() -> tuple[BookingsForecaster, pd.DataFrame]:
    history = panel()
    return BookingsForecaster(horizon=6, coverage=0.8, max_iter=30, random_state=0).fit(history), history


def test_forecaster_follows_scikit_learn_conventions(fitted):
    model, history = fitted
    unfitted = clone(model)
    assert unfitted.get_params() == model.get_params()
    assert not hasattr(unfitted, "models_")
    assert set(model.models_) == {"median", "lower", "upper"}
    assert model.n_calibration_scores_ > 0
    assert "seasonal_naive" in model.feature_names_ and "series" in model.feature_names_
    with pytest.raises(PlannerError, match="at least 15"):
        BookingsForecaster().fit(history.iloc[:14])


def test_forecast_shape_interval_order_and_determinism(fitted):
    model, history = fitted
    forecast = model.predict()
    assert len(forecast) == 6 * history.shape[1]
    assert forecast["month"].min() == pd.Timestamp("2025-05-01")
    assert (forecast["lower_usd"] <= forecast["forecast_usd"]).all()
    assert (forecast["forecast_usd"] <= forecast["upper_usd"]).all()
    assert (forecast["lower_usd"] >= 0).all()
    again = clone(model).fit(history).predict()
    pd.testing.assert_frame_equal(forecast, again)


def test_forecast_tracks_the_scale_and_season_of_each_series(fitted):
    model, history = fitted
    forecast = model.predict().pivot_table(index="month", columns="series_id", values="forecast_usd")
    last_year = history.iloc[-12:].mean()
    # Each series' forecast is on its own scale (1x, 2x, 3x, 4x), within 30% of last year's level.
    ratio = forecast.mean() / last_year
    assert ratio.between(0.7, 1.3).all(), ratio


def test_forecast_territories_matches_the_plan_it_is_given():
    data = small_dataset()
    quick = BookingsForecaster(max_iter=30, calibration_origins=1)
    forecast = forecast_territories(data, horizon=3, random_state=0, model=quick)
    assert list(forecast.columns) == ["territory_id", "month", "forecast_usd", "lower_usd", "upper_usd"]
    assert forecast["territory_id"].unique().tolist() == ["East", "West"]
    assert forecast["month"].unique().tolist() == ["2026-07", "2026-08", "2026-09"]
    history = territory_history(data)
    assert forecast.groupby("territory_id")["forecast_usd"].mean()["West"] > history["East"].mean()
    regrouped = data.plan.move(["u3"], "North")
    other = forecast_territories(data, regrouped, horizon=3, random_state=0, model=quick)
    assert other["territory_id"].unique().tolist() == ["East", "North", "West"]


def test_forecast_command_writes_the_forecast_and_prints_the_backtest(grid_dir, tmp_path):
    from typer.testing import CliRunner

    from planner.cli.main import app

    months = pd.date_range("2024-01-01", periods=30, freq="MS")
    rng = np.random.default_rng(3)
    rows = [
        {
            "account_id": f"A{k}",
            "date": m.strftime("%Y-%m-%d"),
            "amount_usd": round(100 * (k + 1) * rng.lognormal(0, 0.1), 2),
        }
        for m in months
        for k in range(9)
    ]
    pd.DataFrame(rows).to_csv(grid_dir / "bookings.csv", index=False)
    out = tmp_path / "forecast.csv"
    args = ["forecast", str(grid_dir), "--horizon", "3", "--origins", "1", "--out", str(out)]
    result = CliRunner().invoke(app, args, terminal_width=200)
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    assert sorted(written["territory_id"].unique()) == ["East", "West"]
    assert written["month"].unique().tolist() == ["2026-07", "2026-08", "2026-09"]
    assert "Backtest: model vs seasonal naive" in result.output
    assert "origins (last month observed): 2026-03" in result.output
    short = CliRunner().invoke(app, ["forecast", str(grid_dir), "--horizon", "40"], terminal_width=200)
    assert short.exit_code == 1 and "needs at least" in short.output
