"""History by plan, forecast_territories and the forecast command."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.data.dataset import Dataset
from planner.errors import PlannerError
from planner.forecast.choice import ETS, NAIVE, THETA, BookingsForecaster
from planner.forecast.history import bookings_history, territory_history
from planner.forecast.territories import forecast_territories
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
    history = bookings_history(bookings, plan)
    assert list(history.columns) == ["T1", "T2", "T3"]  # T3 has no bookings but is in the plan
    assert [m.strftime("%Y-%m") for m in history.index] == ["2026-01", "2026-02", "2026-03"]
    assert history.to_numpy().tolist() == [[10, 20, 0], [0, 0, 0], [1, 5, 0]]
    moved = bookings_history(bookings, plan.move("u2", "T1"))
    assert moved["T1"].tolist() == [30, 0, 1]
    assert moved["T2"].tolist() == [0, 0, 5]
    by_unit = bookings_history(bookings, plan, by="unit")
    assert by_unit["u1"].tolist() == [10, 0, 1] and by_unit["u4"].sum() == 0


def test_history_errors_name_the_problem():
    plan = Plan(pd.Series({"u1": "T1"}))
    with pytest.raises(PlannerError, match="no bookings"):
        bookings_history(pd.DataFrame(columns=["date", "amount_usd", "unit_id"]), plan)
    unknown = pd.DataFrame({"date": ["2026-01-01"], "amount_usd": [1.0], "unit_id": ["zz"]})
    with pytest.raises(PlannerError, match=r"units \['zz'\] that are not in the plan"):
        bookings_history(unknown, plan)
    with pytest.raises(PlannerError, match="lack column"):
        bookings_history(unknown.drop(columns="unit_id"), plan)


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
    history = bookings_history(bookings, plan)
    by_unit = bookings_history(bookings, plan, by="unit")
    np.testing.assert_allclose(history.sum(axis=1), by_unit.sum(axis=1))
    np.testing.assert_allclose(history.sum(axis=1).to_numpy(), amounts)
    for territory in history.columns:
        np.testing.assert_allclose(history[territory], by_unit[list(plan.units_of(territory))].sum(axis=1))


def test_forecast_territories_matches_the_plan_it_is_given():
    data = small_dataset()
    quick = BookingsForecaster(candidates=(NAIVE, ETS, THETA), n_jobs=1)
    forecast = forecast_territories(data, horizon=3, model=quick)
    assert list(forecast.columns) == [
        "territory_id",
        "period",
        "forecast_usd",
        "lower_usd",
        "upper_usd",
        "model",
    ]
    assert forecast["territory_id"].unique().tolist() == ["East", "West"]
    assert forecast["period"].unique().tolist() == ["2026-07", "2026-08", "2026-09"]
    assert forecast["model"].isin([NAIVE, ETS, THETA]).all()
    history = territory_history(data)
    assert forecast.groupby("territory_id")["forecast_usd"].mean()["West"] > history["East"].mean()
    regrouped = data.plan.move(["u3"], "North")
    other = forecast_territories(data, regrouped, horizon=3, model=quick)
    assert other["territory_id"].unique().tolist() == ["East", "North", "West"]
    quarterly = forecast_territories(data, frequency="quarter", model=quick)
    assert quarterly["period"].unique().tolist() == ["2026-Q3", "2026-Q4", "2027-Q1", "2027-Q2"]
    np.testing.assert_allclose(
        quarterly.groupby("territory_id")["forecast_usd"].sum(),
        forecast_territories(data, model=quick).groupby("territory_id")["forecast_usd"].sum(),
        rtol=0.15,
    )


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
    assert written["period"].unique().tolist() == ["2026-07", "2026-08", "2026-09"]
    assert set(written["model"]) <= {"seasonal naive", "ETS", "Theta", "global boosting", "combined"}
    assert "Backtest: chosen models, seasonal naive and each model alone" in result.output
    assert "origins (last month observed): 2026-03" in result.output
    assert "held-out" in result.output
    quarterly = CliRunner().invoke(
        app, ["forecast", str(grid_dir), "--frequency", "quarter", "--no-backtest", "--out", str(out)]
    )
    assert quarterly.exit_code == 0, quarterly.output
    assert pd.read_csv(out)["period"].unique().tolist() == ["2026-Q3", "2026-Q4", "2027-Q1", "2027-Q2"]
    odd = CliRunner().invoke(app, ["forecast", str(grid_dir), "--frequency", "day"], terminal_width=200)
    assert odd.exit_code == 1 and "use one of ['month', 'quarter', 'week']" in odd.output
    short = CliRunner().invoke(app, ["forecast", str(grid_dir), "--horizon", "40"], terminal_width=200)
    assert short.exit_code == 1 and "needs at least" in short.output
