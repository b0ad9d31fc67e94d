"""The Comp page under AppTest: team summary, a rep's statement, the what-if estimator (demo data)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from planner.store import PlanStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def comp_page(tmp_path_factory) -> AppTest:
    url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'terrain.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TERRAIN_DB_URL", url)  # a fresh store: the demo's published FY2026 versions
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
        at.switch_page("app_pages/comp.py").run()
        yield at


def test_comp_credits_under_the_stores_published_versions(comp_page):
    caption = " ".join(c.value for c in comp_page.caption)
    assert "FY2026 plan (from 2026-01-01)" in caption
    assert "FY2026 mid-year realignment (from 2026-07-15)" in caption


def test_without_a_published_plan_the_page_says_what_to_do(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    PlanStore(url).add_user(None, "ops", "Ops", "admin")  # a store with users is not seeded
    monkeypatch.setenv("TERRAIN_DB_URL", url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page("app_pages/comp.py").run()
    assert not at.exception
    assert "No published plan" in at.warning[0].value


def test_comp_page_runs_and_shows_the_team(comp_page):
    assert not comp_page.exception, comp_page.exception
    metrics = {m.label: m.value for m in comp_page.metric}
    assert metrics["Reps paid"] == "56"
    assert metrics["Payout"].startswith("$")
    team = comp_page.dataframe[0].value
    assert len(team) == 56 and {"R001", "M01"} <= set(team["rep_id"])
    accrual = comp_page.dataframe[1].value
    assert len(accrual) == 12 * 3  # two plans and all plans, every month
    paid = accrual.loc[accrual["plan"] == "all plans", "payout"]
    assert sum(float(v.replace("$", "").replace(",", "")) for v in paid) == pytest.approx(
        float(metrics["Payout"].replace("$", "").replace(",", "")), abs=0.01
    )


def test_statement_lines_add_up_to_the_month_earnings(comp_page):
    comp_page.selectbox(key="comp_rep").set_value("R001").run()
    comp_page.selectbox(key="comp_month").set_value("2026-03").run()
    assert not comp_page.exception
    lines = comp_page.dataframe[3].value
    detail = lines.loc[lines["item"].isin(["deal", "true-up", "spiff", "clawback"]), "amount_usd"]
    earnings = lines.loc[lines["item"] == "earnings", "amount_usd"].iloc[0]
    assert round(sum(float(v) for v in detail), 2) == float(earnings)


def test_what_if_estimates_a_positive_commission(comp_page):
    comp_page.selectbox(key="comp_rep").set_value("R001").run()
    comp_page.number_input(key="comp_whatif_amount_usd").set_value(50_000.0)
    [submit] = [b for b in comp_page.button if b.label == "Estimate"]
    submit.click().run()
    assert not comp_page.exception
    [estimate] = [m for m in comp_page.metric if m.label.startswith("If ")]
    assert "$50000.00" in estimate.label
    extra = float(estimate.value.removeprefix("earns $").removesuffix(" more").replace(",", ""))
    assert extra > 0
