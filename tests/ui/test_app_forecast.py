"""Forecast and Capacity pages under AppTest on the demo data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def vega_specs(at: AppTest) -> list[dict]:
    """Vega-Lite specs of the page's altair charts."""
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


@pytest.fixture(scope="module")
def forecast_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.session_state["fc_horizon_month"] = 6
    at.switch_page("app_pages/forecast.py").run()
    return at


def test_forecast_page_shows_history_forecast_and_interval(forecast_page):
    at = forecast_page
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Territories"] == "50"
    assert metrics["Forecast, next 6 months"].startswith("$")
    [spec] = vega_specs(at)
    layers = [
        layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in spec["layer"]
    ]
    assert layers == ["area", "line"]
    [caption] = [c.value for c in at.caption if c.value.startswith("Shaded: 80% prediction interval")]
    assert "Model: **" in caption and "held-out WAPE" in caption
    models = next(t.value for t in at.dataframe if "model" in t.value.columns)
    assert len(models) == 50
    assert set(models["model"]) <= {"seasonal naive", "ETS", "Theta", "global boosting", "combined"}
    assert {"wape seasonal naive", "wape combined"} <= set(models.columns)


def test_choosing_a_territory_redraws_the_chart(forecast_page):
    at = forecast_page
    before = json.dumps(vega_specs(at))
    at.selectbox(key="fc_territory").set_value("T07").run()
    assert not at.exception
    assert json.dumps(vega_specs(at)) != before


def test_backtest_button_fills_the_table_against_seasonal_naive(forecast_page):
    at = forecast_page
    at.number_input(key="fc_origins").set_value(2).run()
    at.button(key="fc_run_backtest").click().run(timeout=600)
    assert not at.exception, at.exception
    table = at.dataframe[-1].value
    assert list(table.index) == ["1-3", "4-6", "7-12", "all"]
    assert {"wape_seasonal naive", "wape_chosen", "wape_global boosting", "coverage_chosen"} <= set(
        table.columns
    )
    assert any("Origins (last month seen): 2025-08, 2025-10." in c.value for c in at.caption)
    assert len(vega_specs(at)) == 2  # the forecast and the backtest's bars by horizon band


def test_forecasting_by_quarter_relabels_the_page(forecast_page):
    at = forecast_page
    at.selectbox(key="fc_frequency").set_value("quarter").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert "Forecast, next 4 quarters" in metrics and "Bookings, last 4 quarters" in metrics
    at.selectbox(key="fc_frequency").set_value("month").run()


@pytest.fixture(scope="module")
def capacity_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("app_pages/capacity.py").run()
    return at


def test_capacity_page_runs_and_reacts_to_assumptions(capacity_page):
    at = capacity_page
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Target (sidebar assumption)"].startswith("$")
    hires = int(metrics["Extra hires needed (base)"])
    [spec] = vega_specs(at)
    assert spec["mark"]["type"] == "line"
    at.number_input(key="cap_target_musd").set_value(2000.0).run()
    assert not at.exception
    assert int({m.label: m.value for m in at.metric}["Extra hires needed (base)"]) > hires
    assert any(t.value.index.tolist() == ["best", "base", "worst"] for t in at.dataframe)


@pytest.mark.parametrize(
    ("widget", "value", "message"),
    [
        ("cap_ramp", "0.2, 0.5, 0.9", "ends at 90%, not 100%"),
        ("cap_ramp", "a, b", "give shares separated by commas"),
        ("cap_start", "soon", "is not a month"),
    ],
)
def test_capacity_page_explains_bad_inputs(capacity_page, widget, value, message):
    at = capacity_page
    good = at.text_input(key=widget).value
    at.text_input(key=widget).input(value).run()
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    at.text_input(key=widget).input(good).run()
    assert not at.error


def test_pages_explain_a_data_set_with_too_little_history(grid_dir):
    from planner.data.dataset import load_dataset

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["terrain.dataset"] = load_dataset(grid_dir)  # one month of bookings
    at.session_state["terrain.dataset_token"] = "upload-grid"
    at.session_state["terrain.dataset_label"] = "3x3 grid"
    at.run()
    at.switch_page("app_pages/forecast.py").run()
    assert not at.exception, at.exception
    assert any("history has 1 period(s); a forecast needs more than a year" in e.value for e in at.error), [
        e.value for e in at.error
    ]
    at.switch_page("app_pages/capacity.py").run()
    assert not at.exception, at.exception
    assert {m.label for m in at.metric} >= {"Target (sidebar assumption)", "Coverage (base)"}
