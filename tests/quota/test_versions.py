"""From a data set and plan to a draft quota version: forecast, allocation, phasing."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from planner.data.demo import load_demo
from planner.errors import PlannerError
from planner.quota.allocation import QuotaOptions
from planner.quota.versions import QuotaRequest, draft_quotas, fiscal_year_forecast_usd

QUOTA = QuotaOptions(guardrail_frac=None)  # no last quotas here: guardrails have nothing to bound


@pytest.fixture(scope="module")
def demo():
    return load_demo()


def test_growth_forecast_and_bad_fiscal_years_are_explained(demo):
    request = QuotaRequest(target_cents=10**10, fiscal_year_start="2027-01", forecast_method="growth")
    draft = draft_quotas(demo, demo.plan, request)
    assert np.allclose(draft.territories["forecast_usd"], draft.territories["history_usd"] * 1.10)
    with pytest.raises(PlannerError, match="must start after the month of the last booking \\(2026-10\\)"):
        fiscal_year_forecast_usd(demo, demo.plan, "2026-06")
    with pytest.raises(PlannerError, match="more than two years after the last whole month"):
        fiscal_year_forecast_usd(demo, demo.plan, "2030-01")
    with pytest.raises(PlannerError, match="quarterly forecast needs a fiscal year starting on a calendar"):
        fiscal_year_forecast_usd(demo, demo.plan, "2027-02", "quarter")
    with pytest.raises(PlannerError, match="use one of"):
        QuotaRequest(target_cents=1, fiscal_year_start="2027-01", forecast_frequency="day")


def test_the_forecast_behind_quotas_can_learn_by_month_quarter_or_week(demo):
    by_month = fiscal_year_forecast_usd(demo, demo.plan, "2027-01")
    assert by_month.index.tolist() == sorted(demo.plan.territories) and (by_month > 0).all()
    for frequency in ("quarter", "week"):
        other = fiscal_year_forecast_usd(demo, demo.plan, "2027-01", frequency)
        assert other.index.tolist() == by_month.index.tolist()
        # Same bookings by other periods: the year's totals agree (11 whole quarters teach less).
        assert other.sum() == pytest.approx(by_month.sum(), rel=0.15), frequency
    with pytest.raises(PlannerError, match=r"target is \$0\.00; give a positive target"):
        QuotaRequest(target_cents=0, fiscal_year_start="2027-01")
    with pytest.raises(PlannerError, match="no bookings before 1999-01"):
        draft_quotas(demo, demo.plan, QuotaRequest(target_cents=1, fiscal_year_start="1999-01"))


def test_relief_for_a_leave_lowers_that_quota_pro_rata(demo):
    import pandas as pd

    base = QuotaRequest(
        target_cents=10**10, fiscal_year_start="2027-01", forecast_method="growth", options=QUOTA
    )
    relieved = QuotaRequest(
        target_cents=10**10,
        fiscal_year_start="2027-01",
        forecast_method="growth",
        options=QUOTA,
        relief=pd.DataFrame({"territory_id": ["T07"], "start": ["2027-04-01"], "end": ["2027-06-30"]}),
    )
    before = draft_quotas(demo, demo.plan, base).allocation.quotas_cents
    relieved_draft = draft_quotas(demo, demo.plan, relieved)
    after = relieved_draft.allocation.quotas_cents
    assert after.sum() == before.sum() == 10**10  # redistributed: the total stays exact
    assert after["T07"] / before["T07"] == pytest.approx(1 - 90 / 365, rel=0.02)
    # A quarter's leave pushes the quotas out of the fairness ranges: the fit moves to keep them.
    fit = relieved_draft.allocation.fit
    assert fit.met and fit.quota_per_potential_gini <= 0.10
    # A week's leave leaves them in range: the fit stays, and the others only carry T07's week.
    week = pd.DataFrame({"territory_id": ["T07"], "start": ["2027-04-01"], "end": ["2027-04-07"]})
    short = draft_quotas(demo, demo.plan, dataclasses.replace(relieved, relief=week)).allocation
    assert (
        short.fit.potential_weight_frac
        == draft_quotas(demo, demo.plan, base).allocation.fit.potential_weight_frac
    )
    assert (short.quotas_cents.drop("T07") >= before.drop("T07")).all()
    assert short.quotas_cents["T07"] < before["T07"]
    with pytest.raises(PlannerError, match="unknown territories \\['T99'\\]"):
        bad = pd.DataFrame({"territory_id": ["T99"], "start": ["2027-01-01"], "end": ["2027-01-31"]})
        draft_quotas(demo, demo.plan, QuotaRequest(target_cents=1, fiscal_year_start="2027-01", relief=bad))
