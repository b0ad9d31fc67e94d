"""The Exports page under Streamlit's AppTest on the demo data: files, map and change report."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from planner.data.demo import load_demo
from planner.exports.formats import read_territories_csv
from planner.store import PlanStore
from tests.conftest import components
from ui import state

ROOT = Path(__file__).resolve().parents[2]
FILES_KEY = "terrain.export_files"


@pytest.fixture(scope="module")
def store_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'terrain.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TERRAIN_DB_URL", url)  # a fresh store, seeded with the demo by the app
        yield url


@pytest.fixture(scope="module")
def page(store_url) -> AppTest:
    demo = load_demo()
    moved = demo.plan.move(list(demo.plan.units_of("T12")[:5]), "T07", name="v2")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state[state.SCENARIOS] = {"v2": moved}
    at.run()
    at.switch_page("app_pages/exports.py").run()
    assert not at.exception
    return at


def test_page_offers_the_newest_published_plan_first_with_its_approved_quotas(page, store_url):
    published = PlanStore(store_url).published_plans()[-1]  # the newest approved version comes first
    assert page.selectbox(key="ex_plan").value == "v3 FY2026 mid-year realignment (published)"
    metrics = {m.label: m.value for m in page.metric}
    assert metrics["Territories"] == "50" and metrics["Reps"] == "50"
    assert metrics["Annual quota"] == f"${published.annual_quota_cents().sum() / 100:,.0f}"
    assert metrics["Effective from"] == "2026-07-15"
    assert "Loaded plan (demo quotas)" in page.selectbox(key="ex_plan").options
    assert any("DEMO quotas" in c.value for c in page.caption)


def test_map_draws_every_territory_of_the_approved_plan_with_its_quota(page):
    [fmap] = components(page)
    args = json.loads(fmap.proto.json_args)
    assert args["geometry_url"].startswith("/app/static/maps/") and not args["selectable"]
    assert len(args["territories"]) == 50 and "T07" in args["territories"]
    assert all("annual quota $" in line for line in args["info"])


def test_build_files_gives_downloads_that_read_back(page):
    page.button(key="ex_build").click().run()
    assert not page.exception
    labels = [b.label for b in page.get("download_button")]
    for name in (
        "territories.csv",
        "plan.xlsx",
        "territories.geojson",
        "plan.gpkg",
        "account_assignments.csv",
    ):
        assert any(label.startswith(name) for label in labels), name
    _, files = page.session_state[FILES_KEY]
    territories = read_territories_csv(io.BytesIO(files["territories.csv"]))
    assert len(territories) == 50 and territories["annual_quota_cents"].gt(0).all()
    crm = pd.read_csv(io.BytesIO(files["account_assignments.csv"]), dtype=str)
    assert len(crm) == 11_917


def test_change_report_between_scenario_and_loaded_plan(page):
    page.selectbox(key="ex_plan").set_value("v2 (demo quotas)").run()
    page.selectbox(key="ex_compare").set_value("Loaded plan (demo quotas)").run()
    assert not page.exception
    metrics = {m.label: m.value for m in page.metric}
    assert metrics["Units moved"] == "5"
    assert int(metrics["Accounts changing owner"].replace(",", "")) > 0
    assert any("These files were built with other choices" in w.value for w in page.warning)
