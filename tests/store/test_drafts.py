"""Draft quota versions in the store: saved from a data set and plan, and their fairness."""

from __future__ import annotations

import numpy as np
import pytest

from planner.data.demo import load_demo
from planner.quota.versions import QuotaRequest
from planner.store import PlanStore
from planner.store.drafts import save_draft, version_fairness


@pytest.fixture(scope="module")
def demo():
    return load_demo()


def test_model_forecast_drives_the_allocation_and_totals_are_exact(demo, tmp_path):
    request = QuotaRequest(target_cents=700_000_000_00, fiscal_year_start="2027-01", frequency="quarter")
    store = PlanStore(f"sqlite:///{tmp_path / 's.db'}")
    store.add_user(None, "ops", "Ops", "admin")
    info, draft = save_draft(store, "ops", demo, demo.plan, request, name="FY2027")
    territories = draft.territories
    assert set(territories.index) == set(demo.plan.territories)
    # the model forecast is used, not trailing bookings + growth
    assert not np.allclose(territories["forecast_usd"], territories["history_usd"] * 1.10)
    assert (territories["forecast_usd"] > 0).all()
    ratio = territories["forecast_usd"].sum() / territories["history_usd"].sum()
    assert 0.8 < ratio < 1.5, ratio  # a year ahead stays in the range of the trailing year
    version = store.version(info.version_id)
    assert version.total_quota_cents == 700_000_000_00
    assert set(version.quotas["period"]) == {"2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"}
    assert (version.territories["forecast_cents"] == (territories["forecast_usd"] * 100).round()).all()
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
    recorded = store.info(goal.version_id).allocation_basis
    assert recorded["basis_frac"] == 1.0 and recorded["goal_frac"] == 0.65
    assert recorded["chosen_total_cents"] == store.version(goal.version_id).total_quota_cents
    assert recorded["chosen_total_cents"] == recorded["implied_total_cents"] != recorded["target_total_cents"]
    assert store.version(target.version_id).total_quota_cents == 731_000_000_00
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
    assert reopened.info(info.version_id).allocation_basis is None  # the old version had none recorded
    assert reopened.version(info.version_id).quotas.equals(before)
