"""Golden tests: worked examples from vendors' public documentation, reproduced to the cent.

Each test quotes the source and its numbers; the engine (and the per-deal reference
implementation) must give exactly those figures. ``world`` builds a one-territory data
set around the deals so the whole pipeline (crediting, quotas, calculation, draws) runs.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from planner.comp import parse_comp_plan, run_comp
from planner.comp.deals import check_deals
from planner.comp.reference import reference_payouts
from planner.plans.approved import ApprovedPlan
from planner.plans.plan import Plan
from tests.comp.out_of_core import assert_same_as_in_memory, out_of_core

MONTHS = tuple(f"2026-{m:02d}" for m in range(1, 13))


def plan_of(components: list[dict], **extra) -> object:
    return parse_comp_plan(
        {
            "schema_version": 1,
            "name": "golden",
            "roles": ["account_executive"],
            "components": components,
            **extra,
        }
    )


def world(deals: list[tuple[str, float]], *, quota_usd: float = 0.0):
    """One rep (R1) owning territory T1 (unit U1, account A1) from 2026-01-01; deals as (date, USD)."""
    plan = Plan(pd.Series({"U1": "T1"}), pd.Series({"R1": "T1"}), name="golden")
    quotas = pd.DataFrame(
        {"territory_id": "T1", "period": list(MONTHS), "quota_cents": round(quota_usd * 100)}, index=range(12)
    )
    approved = [ApprovedPlan(1, "golden", date(2026, 1, 1), plan, quotas)]
    table = check_deals(
        pd.DataFrame(
            {
                "deal_id": [f"D{i:03d}" for i in range(len(deals))],
                "account_id": "A1",
                "close_date": [d for d, _ in deals],
                "amount_usd": [f"{a:.2f}" for _, a in deals],
                "status": "won",
            }
        )
    )
    reps = pd.DataFrame(
        {"role": ["account_executive"], "manager_id": [None]}, index=pd.Index(["R1"], name="rep_id")
    )
    return table, pd.Series({"A1": "U1"}), approved, reps


def compute(comp_plan, deals, **kwargs):
    table, units, approved, reps = world(deals, **kwargs)
    result = run_comp(table, units, approved, reps, [comp_plan], MONTHS)
    reference = reference_payouts(table, units, approved, reps, [comp_plan], MONTHS)
    assert reference == result.payouts().to_dict()
    summary, lines, _, _ = out_of_core(table, units, approved, reps, [comp_plan], MONTHS)
    assert_same_as_in_memory(result, summary, lines)
    return result


def month_earnings(result) -> dict[str, int]:
    return result.summary.set_index("month")["earnings_cents"].to_dict()


def test_retroactive_vs_incremental_tiers_earnbase():
    """Earn Base, "Retroactive Tier Jumping" (https://www.earnbase.no/glossary/retroactive-tier-jumping).

    "$180K in sales and hit the 60% tier (versus 50% for lower production), all $180K gets
    recalculated at 60% commission - giving you $108K total instead of the $98K you'd receive
    under an incremental system ($50K on first $100K at 50%, plus $48K on remaining $80K at 60%)."
    """
    tiers = [{"start": 0, "rate_pct": 50}, {"start": 100_000, "rate_pct": 60}]
    deals = [("2026-03-05", 120_000.0), ("2026-03-20", 60_000.0)]
    single = compute(plan_of([{"id": "c", "kind": "single", "tiers": tiers}]), deals)
    marginal = compute(plan_of([{"id": "c", "kind": "marginal", "tiers": tiers}]), deals)
    assert month_earnings(single)["2026-03"] == 108_000_00
    assert month_earnings(marginal)["2026-03"] == 98_000_00
    lines = marginal.lines.set_index("deal_id")["earned_cents"]
    assert lines["D000"] == 50_000_00 + 20_000 * 60  # $100K at 50 % + $20K at 60 %
    assert lines["D001"] == 60_000 * 60


def test_marginal_brackets_per_order_trakitrak():
    """TrakiTrak, "Commission system for stores"
    (https://help-stores.trakitrak.com/en/articles/8488621-commission-system-for-stores).

    Brackets 21 % to $25, 14 % to $40, 11 % to $100, 6 % above, per order. Example 1: an order
    of $37.50 pays $25 x 21% = $5.25 + $12.50 x 14% = $1.75, i.e. $7. Example 2: $136 pays
    $5.25 + $2.10 + $6.60 + $36 x 6% = $2.16, i.e. $16.11.
    """
    tiers = [
        {"start": 0, "rate_pct": 21},
        {"start": 25, "rate_pct": 14},
        {"start": 40, "rate_pct": 11},
        {"start": 100, "rate_pct": 6},
    ]
    result = compute(
        plan_of([{"id": "fee", "kind": "marginal", "window": "deal", "tiers": tiers}]),
        [("2026-02-01", 37.50), ("2026-02-02", 136.00)],
    )
    lines = result.lines.set_index("deal_id")["earned_cents"]
    assert lines["D000"] == 7_00
    assert lines["D001"] == 16_11


def test_interpolated_rate_table_oracle():
    """Oracle Fusion Incentive Compensation, "Examples of Calculating Earnings Using Interpolated
    Rates" (https://docs.oracle.com/en/cloud/saas/sales/facmi/examples-of-calculating-earnings-using-interpolated-rates.html).

    Rate table 0-1,000: 10; 1,000-3,000: 40; 3,000-8,000: 100; 8,000-20,000: 2,000, each
    transaction processed individually with a proportional split: T1 200 -> 2, T2 300 -> 3,
    T3 1,500 -> 10 + (500/2,000) x 40 = 20, T4 1,200 -> 14, T5 2,000 -> 30,
    T6 4,500 -> 10 + 40 + (1,500/5,000) x 100 = 80; "the total amount of the earning is 149 USD".
    As a payout curve: points (0, 0), (1,000, 10), (3,000, 50), (8,000, 150), (20,000, 2,150).
    """
    points = [
        {"start": 0, "payout_usd": 0},
        {"start": 1000, "payout_usd": 10},
        {"start": 3000, "payout_usd": 50},
        {"start": 8000, "payout_usd": 150},
        {"start": 20000, "payout_usd": 2150},
    ]
    amounts = [("2026-01-01", 200.0), ("2026-01-02", 300.0), ("2026-01-15", 1500.0)]
    amounts += [("2026-02-01", 1200.0), ("2026-02-15", 2000.0), ("2026-03-01", 4500.0)]
    result = compute(
        plan_of([{"id": "rt", "kind": "interpolated", "window": "deal", "tiers": points}]), amounts
    )
    lines = result.lines.set_index("deal_id")["earned_cents"]
    assert lines.tolist() == [2_00, 3_00, 20_00, 14_00, 30_00, 80_00]
    assert result.summary["earnings_cents"].sum() == 149_00


def test_payout_curve_threshold_target_cap_bonuspaycalc():
    """Bonus Pay Calc, "Bonus payout curve explained"
    (https://bonuspaycalc.com/guides/bonus-payout-curve-explained.html).

    Quota 100,000, threshold 70 %, target bonus 10,000 at 100 %, 2x slope above 100 %, cap 200 %
    payout (20,000). "85% is halfway between 70% and 100% ... ~50% of target bonus -> ~5,000";
    at 120 %: "the full 10,000, then ... 20% x 2 ... 4,000, total ~14,000".
    """
    curve = [
        {"start": 70, "payout_usd": 0},
        {"start": 100, "payout_usd": 10_000},
        {"start": 150, "payout_usd": 20_000},
    ]
    component = {"id": "bonus", "kind": "interpolated", "basis": "attainment", "tiers": curve}
    result = compute(
        plan_of([component]),
        [
            ("2026-01-10", 85_000.0),
            ("2026-02-10", 120_000.0),
            ("2026-03-10", 250_000.0),
            ("2026-04-10", 60_000.0),
        ],
        quota_usd=100_000,
    )
    assert list(month_earnings(result).values())[:4] == [5_000_00, 14_000_00, 20_000_00, 0]


def test_recoverable_draw_across_two_months_xactly():
    """Xactly, "The Non-Recoverable Draw Against Commission" (https://www.xactlycorp.com/blog/non-recoverable-draw/).

    "a $1,500 draw in August and ... $500 in commissions, the rep earns the $500 in commissions
    plus $1,000 from the set draw allowance. This 'borrowed' $1,000 ... carries over to
    September ... If the rep ends up earning $3,000 in commissions, they must first pay back
    the $1,000 balance, bringing their earned total down to $2,000." With a non-recoverable
    draw the rep would take home $3,000 in September.
    """
    flat = [{"id": "c", "kind": "single", "tiers": [{"start": 0, "rate_pct": 100}]}]
    deals = [("2026-08-10", 500.0), ("2026-09-10", 3000.0)]
    draw = {"amount_usd": 1500, "recoverable": True, "start": "2026-08", "end": "2026-09"}
    result = compute(plan_of(flat, draw=draw), deals)
    summary = result.summary.set_index("month")
    assert summary.loc["2026-08", ["payout_cents", "draw_cents", "balance_cents"]].tolist() == [
        1500_00,
        1000_00,
        1000_00,
    ]
    assert summary.loc["2026-09", ["payout_cents", "recovery_cents", "balance_cents"]].tolist() == [
        2000_00,
        1000_00,
        0,
    ]
    forgiven = compute(plan_of(flat, draw={**draw, "recoverable": False}), deals).summary.set_index("month")
    assert forgiven.loc["2026-08", "payout_cents"] == 1500_00
    assert forgiven.loc["2026-09", "payout_cents"] == 3000_00


def test_recoverable_draw_six_months_oracle_siebel():
    """Oracle Siebel Incentive Compensation, "Recoverable Draw Scenario"
    (https://docs.oracle.com/cd/E05553_01/books/InCompAdm/InCompAdmPlanDesign8.html).

    Draw $2,000 a month. Gross earnings 2,750, 3,000, 1,500, 2,375, 3,000, 2,750 give net
    earnings 2,750, 3,000, 2,000, 2,000, 2,875, 2,750: in March the company pays $500 on top
    (a loan); in April "$375 is paid back to the draw. His net earning is $2000"; in May "he
    pays off the draw balance of $125 and receives ... $2,875".
    """
    flat = [{"id": "c", "kind": "single", "tiers": [{"start": 0, "rate_pct": 100}]}]
    gross = [2750, 3000, 1500, 2375, 3000, 2750]
    deals = [(f"2026-{m + 1:02d}-15", float(g)) for m, g in enumerate(gross)]
    draw = {"amount_usd": 2000, "recoverable": True, "start": "2026-01", "end": "2026-06"}
    result = compute(plan_of(flat, draw=draw), deals)
    payout = result.summary["payout_cents"].tolist()[:6]
    assert payout == [2750_00, 3000_00, 2000_00, 2000_00, 2875_00, 2750_00]
    assert result.summary["balance_cents"].tolist()[:6] == [0, 0, 500_00, 125_00, 0, 0]
