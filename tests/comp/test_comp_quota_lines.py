"""Comp per quota line: each component credits its line's deals and measures that line's quota."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from planner.comp import parse_comp_plan, run_comp
from planner.comp.deals import check_deals
from planner.errors import PlanError
from planner.plans.approved import ApprovedPlan
from planner.plans.plan import Plan
from planner.plans.quota_lines import QuotaLine

MONTHS = tuple(f"2026-{m:02d}" for m in range(1, 13))
NEW_BUSINESS = QuotaLine("new_business")
RENEWAL = QuotaLine("renewal")
LOGOS = QuotaLine("new_logos", unit="deals", potential="accounts", source="new_business")


def history() -> list[ApprovedPlan]:
    """Two reps sharing nothing: R1 owns T1, R2 owns T2; quotas per line for every month of 2026."""
    plan = Plan(pd.Series({"U1": "T1", "U2": "T2"}), pd.Series({"R1": "T1", "R2": "T2"}))
    rows = []
    for territory in ("T1", "T2"):
        for month in MONTHS:
            rows += [
                (territory, "new_business", month, 10_000_00),  # $10,000 a month
                (territory, "renewal", month, 50_000_00),
                (territory, "new_logos", month, 200),  # two deals a month
            ]
    quotas = pd.DataFrame(rows, columns=["territory_id", "line", "period", "quota_cents"])
    return [ApprovedPlan(1, "FY2026", date(2026, 1, 1), plan, quotas, lines=(NEW_BUSINESS, RENEWAL, LOGOS))]


def deals(with_lines: bool = True) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "deal_id": ["N1", "N2", "N3", "R1", "R2"],
            "account_id": ["A1", "A1", "A1", "A1", "A2"],
            "close_date": ["2026-01-05", "2026-01-20", "2026-02-03", "2026-01-10", "2026-01-11"],
            "amount_usd": ["6000.00", "9000.00", "1000.00", "40000.00", "70000.00"],
            "status": "won",
            "line": ["new_business", "new_business", "new_business", "renewal", "renewal"],
        }
    )
    return check_deals(table if with_lines else table.drop(columns="line"))


def comp_plan(*components: dict) -> object:
    return parse_comp_plan(
        {"schema_version": 1, "name": "AE", "roles": ["account_executive"], "components": list(components)}
    )


REPS = pd.DataFrame(
    {"role": ["account_executive", "account_executive"], "manager_id": [None, None]},
    index=pd.Index(["R1", "R2"], name="rep_id"),
)
UNITS = pd.Series({"A1": "U1", "A2": "U2"})
NB_BONUS = {
    "id": "nb",
    "kind": "marginal",
    "basis": "attainment",
    "window": "month",
    "quota_line": "new_business",
    "tiers": [{"start": 0, "rate_pct": 5}, {"start": 100, "rate_pct": 10}],
}
LOGO_BONUS = {
    "id": "logos",
    "kind": "interpolated",
    "basis": "attainment",
    "window": "month",
    "quota_line": "new_logos",
    "tiers": [{"start": 0, "payout_usd": 0}, {"start": 100, "payout_usd": 1000}],
}
RENEWAL_COMMISSION = {
    "id": "renew",
    "kind": "marginal",
    "basis": "amount",
    "window": "month",
    "quota_line": "renewal",
    "tiers": [{"start": 0, "rate_pct": 2}],
}


def test_each_component_credits_its_lines_deals_against_its_lines_quota():
    plan = comp_plan(NB_BONUS, LOGO_BONUS, RENEWAL_COMMISSION)
    result = run_comp(deals(), UNITS, history(), REPS, [plan], MONTHS)
    lines = result.lines
    january = lines[(lines["rep_id"] == "R1") & (lines["month"] == "2026-01")]
    nb = january[january["component"] == "nb"]
    assert nb["deal_id"].astype(str).tolist() == ["N1", "N2"]  # new business deals only
    assert set(nb["window_quota_cents"]) == {10_000_00}  # the new_business quota
    # $15,000 against $10,000: 5% of the first $10,000, 10% of the next $5,000
    assert nb["earned_cents"].sum() == 500_00 + 500_00
    logos = january[january["component"] == "logos"]
    assert logos["credit_cents"].tolist() == [100, 100]  # one deal each, in hundredths
    assert set(logos["window_quota_cents"]) == {200}  # two deals a month
    assert logos["earned_cents"].sum() == 1000_00  # 100% of the logo quota pays $1,000
    renew = lines[lines["component"] == "renew"]
    assert sorted(renew["deal_id"].astype(str)) == ["R1", "R2"]
    assert renew["earned_cents"].sum() == (40_000_00 + 70_000_00) * 2 // 100
    february = lines[(lines["rep_id"] == "R1") & (lines["month"] == "2026-02")]
    assert february.loc[february["component"] == "logos", "earned_cents"].sum() == 500_00  # 1 of 2 deals
    # the summary's quota is the USD lines the plan measures: new business and renewal
    summary = result.summary.set_index(["rep_id", "month"])
    assert summary.loc[("R1", "2026-01"), "quota_cents"] == 60_000_00
    assert summary.loc[("R1", "2026-01"), "credited_cents"] == 55_000_00


def test_a_component_that_cannot_tell_which_line_it_measures_is_refused_with_the_fix():
    unnamed = {**NB_BONUS, "quota_line": None}
    with pytest.raises(PlanError, match="quota lines new_business, renewal, new_logos: name the one"):
        run_comp(deals(), UNITS, history(), REPS, [comp_plan(unnamed)], MONTHS)
    unknown = {**NB_BONUS, "quota_line": "upsell"}
    with pytest.raises(PlanError, match="quota line 'upsell', which the approved plans do not have"):
        run_comp(deals(), UNITS, history(), REPS, [comp_plan(unknown)], MONTHS)
    by_rate = {**NB_BONUS, "quota_line": "new_logos"}
    with pytest.raises(PlanError, match="a count of deals: pay it with an interpolated payout curve"):
        run_comp(deals(), UNITS, history(), REPS, [comp_plan(by_rate)], MONTHS)
    with pytest.raises(PlanError, match="the deals have no line column"):
        run_comp(deals(with_lines=False), UNITS, history(), REPS, [comp_plan(NB_BONUS)], MONTHS)


def test_a_single_line_plan_needs_no_line_anywhere():
    plan = Plan(pd.Series({"U1": "T1"}), pd.Series({"R1": "T1"}))
    quotas = pd.DataFrame({"territory_id": "T1", "period": list(MONTHS), "quota_cents": 10_000_00})
    approved = [ApprovedPlan(1, "one line", date(2026, 1, 1), plan, quotas)]
    result = run_comp(
        deals(with_lines=False),
        pd.Series({"A1": "U1"}),
        approved,
        REPS.iloc[:1],
        [comp_plan({**NB_BONUS, "quota_line": None})],
        MONTHS,
    )
    january = result.lines[result.lines["month"] == "2026-01"]
    assert january["credit_cents"].sum() == 55_000_00  # every deal of A1 in January
