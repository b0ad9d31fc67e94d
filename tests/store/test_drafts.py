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
