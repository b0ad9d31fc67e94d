"""The app's logic under Streamlit's AppTest (no browser): pages run on the demo data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import components
from ui.maps import SEQUENTIAL

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


def test_overview_map_reads_its_polygons_from_static_files_and_colours_every_unit(overview):
    [fmap] = components(overview)
    args = json.loads(fmap.proto.json_args)
    layer = ROOT / "static" / args["geometry_url"].removeprefix("/app/static/")
    assert layer.exists() and not args["selectable"]  # a map to look at: no selection tools
    assert len(args["fills"]) == len(args["territory_of"]) == 3108 and min(args["fills"]) >= 0
    assert set(args["palette"]) <= set(SEQUENTIAL) and len(args["labels"]) == 50
    assert "http" not in json.dumps(args)


def test_choosing_another_measure_recolours_the_map(overview):
    before = json.loads(components(overview)[0].proto.json_args)["fills"]
    overview.selectbox(key="overview_measure").set_value("bookings_usd").run()
    assert not overview.exception
    after = json.loads(components(overview)[0].proto.json_args)["fills"]
    assert before != after
    assert any("Bookings, last 12 months" in m.value for m in overview.markdown)


def test_account_search_filters_the_table(overview):
    overview.text_input(key="overview_account_search").input("A00042").run()
    assert not overview.exception
    assert any("1 accounts match" in c.value for c in overview.caption)


def test_static_leaflet_is_vendored_and_the_map_component_loads_it_from_there():
    page = (ROOT / "ui/territory_map/frontend/index.html").read_text()
    assert '<script src="/app/static/leaflet/leaflet.js">' in page and "http" not in page
    assert (ROOT / "static/leaflet/leaflet.js").stat().st_size > 100_000
    assert (
        "BSD" in (ROOT / "static/leaflet/LICENSE").read_text()
        or "Redistribution" in (ROOT / "static/leaflet/LICENSE").read_text()
    )
