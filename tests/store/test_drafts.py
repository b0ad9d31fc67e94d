"""Draft quota versions in the store: saved from a data set and plan, and their fairness."""

from __future__ import annotations

import numpy as np
import pytest

from planner.data.demo import load_demo
from planner.errors import ConflictError, PlanError, PlannerError
from planner.plans.quota_lines import QuotaLine
from planner.quota.versions import QuotaRequest, draft_quotas
from planner.store import PlanStore
from planner.store.drafts import save_draft, version_fairness


@pytest.fixture(scope="module")
def demo():
    return load_demo()


def test_model_forecast_drives_the_allocation_and_totals_are_exact(demo, tmp_path):
    request = QuotaRequest(target_cents=700_000_000_00, fiscal_year_start="2027-01", frequency="quarter")
    store = PlanStore(f"sqlite:///{tmp_path / 's.db'}")
    store.add_user(None, "ops", "Ops", "admin")
    info, (draft,) = save_draft(store, "ops", demo, demo.plan, request, name="FY2027")
    territories = draft.territories
    assert set(territories.index) == set(demo.plan.territories)
    # the model forecast is used, not trailing bookings + growth
    assert not np.allclose(territories["forecast_usd"], territories["history_usd"] * 1.10)
    assert (territories["forecast_usd"] > 0).all()
    ratio = territories["forecast_usd"].sum() / territories["history_usd"].sum()
    assert 0.8 < ratio < 1.5, ratio  # a year ahead stays in the range of the trailing year
    version = store.version(info.version_id)
    assert version.line().total_cents == 700_000_000_00
    assert set(version.quotas["period"]) == {"2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"}
    stored = version.line().territories
    assert (stored["forecast_cents"] == (territories["forecast_usd"] * 100).round()).all()
    report = version_fairness(version)
    assert report.quota_potential_spearman > 0.5


def test_the_total_finance_chooses_is_recorded_with_the_version_and_audited(demo, tmp_path):
    store = PlanStore(f"sqlite:///{tmp_path / 's.db'}")
    store.add_user(None, "ops", "Ops", "admin")
    common = {"target_cents": 731_000_000_00, "fiscal_year_start": "2027-01", "forecast_method": "growth"}
    target, _ = save_draft(store, "ops", demo, demo.plan, QuotaRequest(**common), name="meet the target")
    goal, _ = save_draft(
        store, "ops", demo, demo.plan, QuotaRequest(**common, basis_frac=1.0), name="meet the goal"
    )
    recorded = store.version(goal.version_id).line().allocation_basis
    assert recorded["basis_frac"] == 1.0 and recorded["goal_frac"] == 0.65
    assert recorded["chosen_total_cents"] == store.version(goal.version_id).line().total_cents
    assert recorded["chosen_total_cents"] == recorded["implied_total_cents"] != recorded["target_total_cents"]
    assert store.version(target.version_id).line().total_cents == 731_000_000_00
    # Finance's goal is what the quotas deliver: 65% of territories expected at or above quota.
    report = version_fairness(store.version(goal.version_id))
    assert report.at_or_above_quota_frac == pytest.approx(0.65, abs=0.05)
    assert report.quota_per_potential_gini <= 0.10 and abs(report.attainment_size_spearman) <= 0.2
    created = store.audit_log(goal.version_id)
    assert '"basis_frac": 1.0' in created[created["action"] == "create_version"].iloc[0]["after"]


def test_a_store_made_before_the_basis_column_upgrades_with_its_versions(demo, tmp_path):
    from planner.store.migrate import downgrade, migrate

    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = PlanStore(url)
    store.add_user(None, "ops", "Ops", "admin")
    request = QuotaRequest(target_cents=500_000_000_00, fiscal_year_start="2027-01", forecast_method="growth")
    info, _ = save_draft(store, "ops", demo, demo.plan, request, name="old")
    before = store.version(info.version_id).quotas
    downgrade(store.engine, "0001")  # as the store was before the column existed
    migrate(store.engine)
    reopened = PlanStore(url)
    assert reopened.version(info.version_id).line().allocation_basis is None  # none recorded back then
    assert reopened.version(info.version_id).quotas.equals(before)


def fy2027_lines(demo) -> list[QuotaRequest]:
    common = {"fiscal_year_start": "2027-01", "forecast_method": "growth"}
    return [
        QuotaRequest(target_cents=90_000_000_00, line=QuotaLine("new_business"), **common),
        QuotaRequest(
            target_cents=640_000_000_00,
            line=QuotaLine("renewal"),
            frequency="quarter",
            basis_frac=1.0,
            **common,
        ),
        QuotaRequest(
            target_cents=2_900_00,
            line=QuotaLine("new_logos", unit="deals", potential="accounts", source="new_business"),
            **common,
        ),
    ]


def test_a_version_holds_several_lines_each_with_its_own_target_phasing_and_unit(demo, tmp_path):
    store = PlanStore(f"sqlite:///{tmp_path / 's.db'}")
    store.add_user(None, "ops", "Ops", "admin")
    store.add_user("ops", "m1", "Manager", "manager", rep_id="M01")
    store.add_user("ops", "fin", "Finance", "approver")
    info, _ = save_draft(store, "ops", demo, demo.plan, fy2027_lines(demo), name="FY2027 lines")
    version = store.version(info.version_id)
    assert list(version.lines) == ["new_business", "new_logos", "renewal"]
    assert version.line("new_business").total_cents == 90_000_000_00  # the target, exactly
    basis = version.line("renewal").allocation_basis
    assert version.line("renewal").total_cents == basis["implied_total_cents"]  # finance chose the goal
    assert set(version.line("renewal").quotas["period"]) == {"2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"}
    assert version.line("new_business").quotas["period"].nunique() == 12
    logos = version.line("new_logos")
    assert logos.line.unit == "deals" and logos.total_cents == 2_900_00
    assert (logos.quotas["quota_cents"] % 100 == 0).all()  # whole deals in every month
    # each line learns from its own bookings: new business is a small share of renewal
    forecasts = {name: v.territories["forecast_cents"].sum() for name, v in version.lines.items()}
    assert forecasts["new_business"] < 0.3 * forecasts["renewal"]
    # the potential of the count line is accounts, not TAM
    accounts = demo.units["accounts"].groupby(demo.plan.assignment).sum()
    assert (logos.territories["potential_cents"] == (accounts * 100).round().astype("int64")).all()
    assert info.target_cents == 730_000_000_00  # the USD lines' targets
    assert version.line("renewal").allocation_basis["goal_frac"] == 0.65
    assert fairness_ok(version_fairness(version, "new_business"))

    # proposals, decisions and the audit log work per line
    territory = sorted(version.team_of("M01"))[0]
    current = int(logos.territories.loc[territory, "annual_quota_cents"])
    with pytest.raises(PlanError, match="several quota lines; say which of new_business, new_logos, renewal"):
        store.propose("m1", info.version_id, territory, current, reason="x")
    with pytest.raises(PlanError, match=r"counts whole deals; 1\.5 is not whole"):
        store.propose("m1", info.version_id, territory, 150, line="new_logos", reason="x")
    first = store.propose(
        "m1", info.version_id, territory, current + 200, line="new_logos", reason="two logos"
    )
    store.propose("m1", info.version_id, territory, 5_000_00, line="renewal", reason="renewal is separate")
    with pytest.raises(ConflictError, match=f"pending new_logos proposal #{first}"):
        store.propose("m1", info.version_id, territory, current, line="new_logos", reason="again")
    store.decide("fin", first, accept=True, comment="agreed")
    after = store.version(info.version_id)
    assert after.line("new_logos").territories.loc[territory, "annual_quota_cents"] == current + 200
    assert (after.line("new_logos").quotas["quota_cents"] % 100 == 0).all()
    assert after.line("new_business").quotas.equals(version.line("new_business").quotas)
    log = store.audit_log(info.version_id)
    assert log.loc[log["action"] == "accept", "line"].tolist() == ["new_logos"]
    assert store.proposals(info.version_id)["line"].tolist() == ["new_logos", "renewal"]
    assert store.proposals(info.version_id)["unit"].tolist() == ["deals", "usd"]


def fairness_ok(report) -> bool:
    return report.quota_per_potential_gini <= 0.10 and abs(report.attainment_size_spearman) <= 0.2


def test_a_line_with_no_bookings_or_an_unknown_potential_is_refused_with_the_fix(demo, tmp_path):
    common = {"target_cents": 100_00, "fiscal_year_start": "2027-01", "forecast_method": "growth"}
    with pytest.raises(PlannerError, match=r"no bookings with line 'upsell'.*new_business, renewal"):
        draft_quotas(demo, demo.plan, QuotaRequest(**common, line=QuotaLine("upsell")))
    with pytest.raises(PlannerError, match="potential measure 'seats' is not a numeric unit column"):
        draft_quotas(demo, demo.plan, QuotaRequest(**common, line=QuotaLine("renewal", potential="seats")))
    with pytest.raises(PlannerError, match="counts whole deals"):
        QuotaRequest(**{**common, "target_cents": 150}, line=QuotaLine("d", unit="deals"))
