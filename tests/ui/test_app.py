"""The app's logic under Streamlit's AppTest (no browser): pages run on the demo data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import components

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def overview() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()


def test_overview_runs_and_shows_real_totals(overview):
    assert not overview.exception
    metrics = {m.label: m.value for m in overview.metric}
    assert metrics["Units"] == "3,108"
    assert metrics["Territories"] == "50"
    assert metrics["Accounts"] == "11,917"


def test_overview_map_loads_leaflet_locally_and_draws_every_unit(overview):
    [fmap] = components(overview)
    args = json.loads(fmap.proto.json_args)
    assert args["js_links"] == ["/app/static/leaflet/leaflet.js"]
    assert args["css_links"] == ["/app/static/leaflet/leaflet.css"]
    assert "tileLayer" not in args["script"]  # no basemap: renders offline
    assert args["script"].count('"Cook County, IL"') == 1
    assert args["script"].count('"unit_id"') >= 3108


def test_choosing_another_measure_recolours_the_map(overview):
    before = json.loads(components(overview)[0].proto.json_args)["script"]
    overview.selectbox(key="overview_measure").set_value("bookings_usd").run()
    assert not overview.exception
    after = json.loads(components(overview)[0].proto.json_args)["script"]
    assert before != after
    assert any("Bookings, last 12 months" in m.value for m in overview.markdown)


def test_account_search_filters_the_table(overview):
    overview.text_input(key="overview_account_search").input("A00042").run()
    assert not overview.exception
    assert any("1 accounts match" in c.value for c in overview.caption)


def test_static_leaflet_is_vendored():
    assert (ROOT / "static/leaflet/leaflet.js").stat().st_size > 100_000
    assert (
        "BSD" in (ROOT / "static/leaflet/LICENSE").read_text()
        or "Redistribution" in (ROOT / "static/leaflet/LICENSE").read_text()
    )
