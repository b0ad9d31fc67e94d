"""Quotas and Approvals pages under AppTest, on a fresh store seeded with the demo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from planner.store import PlanStore, Status
from ui import state

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db_url(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'terrain.db'}"
    monkeypatch.setenv("TERRAIN_DB_URL", url)
    return url


def open_page(page: str, user: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page(page).run()
    at.selectbox(key=state.USER).set_value(user).run()
    assert not at.exception, at.exception
    return at


def test_quotas_page_shows_the_draft_its_totals_and_fairness(db_url):
    at = open_page("app_pages/quotas.py", "ops")
    store = PlanStore(db_url)
    version = store.version(2)
    assert at.session_state[state.QUOTA_LINE] == "new_business"  # the first of the draft's three lines
    line = version.line("new_business")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Status"] == "proposed"
    assert metrics["Sum of quotas"] == f"${line.total_cents / 1e8:,.1f}M"
    assert metrics["Line target"] == f"${line.target_cents / 1e8:,.1f}M"
    [checks] = [d.value for d in at.dataframe if "Check" in d.value.columns]
    assert "quota rises with potential (Spearman)" in set(checks["Check"])
    assert [b.label for b in at.button if b.key and b.key.startswith("q_action_")] == ["Return", "Approve"]
    captions = [c.value for c in at.caption]
    assert any("of territories expected at or above quota needs a quota total of" in c for c in captions)
    titles = [json.loads(chart.proto.spec).get("title") for chart in at.get("vega_lite_chart")]
    assert "Attainment finance chooses" in titles and "Team quotas by manager" in titles
    [tree] = [d.value for d in at.dataframe if "Node" in d.value.columns]
    assert tree["Level"].tolist()[0] == "company" and (tree["Level"] == "manager").sum() == 6
    company = tree.iloc[0]
    assert company["Quota ($)"] == pytest.approx(line.total_cents / 100)


def test_the_quota_line_switch_shows_a_count_line_in_whole_deals(db_url):
    at = open_page("app_pages/quotas.py", "ops")
    at.session_state[state.QUOTA_LINE] = "new_logos"
    at.run()
    assert not at.exception
    logos = PlanStore(db_url).version(2).line("new_logos")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Sum of quotas"] == f"{logos.total_cents // 100:,} deals"
    [table] = [d.value for d in at.dataframe if "Territory" in d.value.columns]
    assert table["Quota (deals)"].sum() == logos.total_cents // 100
    assert "Potential (accounts)" in table.columns
    [tree] = [d.value for d in at.dataframe if "Node" in d.value.columns]
    assert tree.iloc[0]["Quota (deals)"] == logos.total_cents // 100
    specs = [chart.proto.spec for chart in at.get("vega_lite_chart")]
    assert any("Quota total (deals)" in spec for spec in specs)  # the attainment curve in deals, not $M
    assert not any("Quota total ($M)" in spec for spec in specs)


def test_a_manager_sees_their_teams_roll_up(db_url):
    at = open_page("app_pages/quotas.py", "m01")
    [tree] = [d.value for d in at.dataframe if "Node" in d.value.columns]
    managers = tree[tree["Level"] == "manager"]["Node"].str.strip().tolist()
    assert managers == ["M01"]
    assert (tree["Level"] == "territory").sum() == len(PlanStore(db_url).version(2).team_of("M01"))


def test_admin_sets_a_quota_and_it_is_audited(db_url):
    at = open_page("app_pages/quotas.py", "ops")
    at.selectbox(key="q_edit_territory").set_value("T05")
    at.number_input(key="q_edit_amount").set_value(1_234_567.0)
    at.text_input(key="q_edit_reason").set_value("board decision")
    submit = next(b for b in at.button if b.label == "Set quota")
    submit.click().run()
    assert not at.exception
    store = PlanStore(db_url)
    assert store.version(2).line("new_business").territories.loc["T05", "annual_quota_cents"] == 123_456_700
    log = store.audit_log(2)
    assert log.iloc[-1]["action"] == "edit_quota" and log.iloc[-1]["reason"] == "board decision"
    assert log.iloc[-1]["line"] == "new_business"


def test_admin_drafts_a_version_from_the_forms_line_table(db_url):
    at = open_page("app_pages/quotas.py", "ops")
    next(r for r in at.radio if r.label == "Forecast").set_value("growth")
    next(b for b in at.button if b.label == "Allocate and save draft").click().run()
    assert not at.exception and not at.error
    store = PlanStore(db_url)
    newest = store.versions()[0]
    assert newest.name == "FY2027 draft"
    line = store.version(newest.version_id).line()
    assert line.name == "bookings" and line.total_cents == line.target_cents == 700_000_000_00


def test_approver_decides_the_pending_proposal_and_approves(db_url):
    at = open_page("app_pages/approvals.py", "finance")
    assert "Pending proposals (1)" in [h.value for h in at.subheader]
    # The seeded proposal is M01's: 5% off one territory, which lands on M01's team and region.
    [roll_up] = [c.value for c in at.caption if "Rolls up to team of M01" in c.value]
    assert "; region CA " in roll_up
    at.button(key="ap_version_approve").click().run()
    assert "1 proposal(s) still pending" in at.error[0].value
    at.text_input(key="ap_comment_1").set_value("agreed with the region")
    at.button(key="ap_accept_1").click().run()
    assert not at.exception
    store = PlanStore(db_url)
    proposal = store.proposals(2).loc[1]
    assert (proposal["status"], proposal["decided_by"]) == ("accepted", "finance")
    renewal = store.version(2).line("renewal").territories
    assert proposal["line"] == "renewal"
    territory = proposal["territory_id"]
    assert renewal.loc[territory, "annual_quota_cents"] == int(proposal["proposed_quota_cents"])
    at.button(key="ap_version_approve").click().run()
    assert store.info(2).status is Status.APPROVED


def test_a_decision_without_comment_is_refused_and_viewers_cannot_decide(db_url):
    at = open_page("app_pages/approvals.py", "finance")
    at.button(key="ap_reject_1").click().run()
    assert "comment is required" in at.error[0].value
    assert PlanStore(db_url).proposals(2).loc[1, "status"] == "pending"
    viewer = open_page("app_pages/approvals.py", "viewer")
    assert not [b for b in viewer.button if b.key and b.key.startswith("ap_")]
    assert "approvers decide" in viewer.info[0].value


def test_an_unusual_amount_needs_the_confirm_box_and_is_audited(db_url):
    at = open_page("app_pages/quotas.py", "ops")
    at.selectbox(key="q_edit_territory").set_value("T05")
    at.number_input(key="q_edit_amount").set_value(1e10)  # $10 billion: far above 3x the current quota
    at.text_input(key="q_edit_reason").set_value("typo?")
    next(b for b in at.button if b.label == "Set quota").click().run()
    assert "is more than 3x the current quota" in at.error[0].value and "confirm it" in at.error[0].value
    store = PlanStore(db_url)
    assert store.audit_log(2).iloc[-1]["action"] != "edit_quota"
    at.checkbox(key="q_confirm_edit").check()
    next(b for b in at.button if b.label == "Set quota").click().run()
    assert not at.exception and not at.error
    assert "confirmed_unusual" in store.audit_log(2).iloc[-1]["after"]


def test_demo_mode_says_so_and_refuses_a_store_with_published_plans_without_the_flag(db_url, monkeypatch):
    at = open_page("app_pages/quotas.py", "ops")
    assert any("Demo mode: anyone can act as anyone" in w.value for w in at.sidebar.warning)
    monkeypatch.setenv("TERRAIN_DEMO_MODE", "0")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page("app_pages/quotas.py").run()
    assert "holds published plans, and without sign-in anyone could act as anyone" in at.error[0].value
    assert not at.button  # nothing to press: no workflow, no proposals


def test_approvals_shows_a_quota_total_far_off_target_and_needs_a_comment(db_url):
    at = open_page("app_pages/approvals.py", "finance")
    assert not [w for w in at.warning if "off target" in w.value]
    store = PlanStore(db_url)
    logos = store.version(2).line("new_logos").territories["annual_quota_cents"]
    store.set_quota(
        "ops", 2, "T01", int(logos["T01"]) * 3, line="new_logos", reason="a big push", confirm=False
    )
    at.run()
    [warning] = [w.value for w in at.warning if "off target" in w.value]
    assert "new_logos: quotas total" in warning and "Approving needs a comment" in warning
