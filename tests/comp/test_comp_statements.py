"""Statements add up by hand, trace each line to its rate, and are identical on a rerun; what-if."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from planner.comp import run_comp
from planner.comp.estimate import estimate_deal
from planner.comp.statements import rep_ledger, statement_csv, statement_html, statement_lines_table
from planner.errors import PlannerError
from tests.comp.test_comp_golden import MONTHS, plan_of, world

TIERS = [{"start": 0, "rate_pct": 5}, {"start": 50, "rate_pct": 10}, {"start": 100, "rate_pct": 15}]


@pytest.fixture(scope="module")
def result():
    plan = plan_of(
        [
            {"id": "commission", "kind": "marginal", "basis": "attainment", "tiers": TIERS},
            {
                "id": "kicker",
                "kind": "single",
                "window": "quarter",
                "tiers": [{"start": 0, "rate_pct": 1}, {"start": 15000, "rate_pct": 2}],
            },
        ],
        spiffs=[{"id": "big", "bonus_usd": 100, "min_amount_usd": 9000}],
        draw={"amount_usd": 500, "recoverable": True},
        clawback={"window_days": 60},
    )
    deals = [("2026-01-05", 4000.0), ("2026-01-25", 9000.0), ("2026-02-10", 6000.0), ("2026-03-01", 100.0)]
    table, units, approved, reps = world(deals, quota_usd=10_000)
    table.loc[table["deal_id"] == "D002", ["status", "cancel_date"]] = [
        "cancelled",
        pd.Timestamp("2026-03-15"),
    ]
    return run_comp(table, units, approved, reps, [plan], MONTHS)


def test_marginal_lines_trace_to_tiers_by_hand(result):
    ledger = rep_ledger(result, "R1")
    jan = ledger.loc[(ledger["month"] == "2026-01") & (ledger["component"] == "commission")].set_index(
        "deal_id"
    )
    # Quota $10,000: 5 % to $5,000, 10 % to $10,000, 15 % above. $4,000 -> $200.
    assert jan.loc["D000", "amount_usd"] == "200.00"
    # $4,000 -> $13,000: $1,000 at 5 % + $5,000 at 10 % + $3,000 at 15 % = $50 + $500 + $450.
    assert jan.loc["D001", "amount_usd"] == "1000.00"
    assert "$1,000.00 at 5% + $5,000.00 at 10% + $3,000.00 at 15%" in jan.loc["D001", "explanation"]
    assert jan.loc["D001", "rate_pct"] == "15%"


def test_quarterly_single_rate_true_up_and_clawback(result):
    ledger = rep_ledger(result, "R1")
    kicker = ledger.loc[ledger["component"] == "kicker"]
    # Q1 to date: Jan $13,000 at 1 % = $130; Feb reaches $19,000 >= $15,000 -> 2 %: Feb deal $120
    # and a true-up of $13,000 x 1 % more = $130.
    feb = kicker.loc[kicker["month"] == "2026-02"].set_index("item")["amount_usd"]
    assert feb["deal"] == "120.00" and feb["true-up"] == "130.00"
    clawed = ledger.loc[(ledger["month"] == "2026-03") & (ledger["item"] == "clawback")]
    # D002 ($6,000 on Feb 10, cancelled Mar 15) gives back $5,000 x 5 % + $1,000 x 10 % and its $120.
    assert sorted(clawed["amount_usd"]) == ["-120.00", "-350.00"]


def test_every_month_adds_up_and_pays_earnings_plus_draw_minus_recovery(result):
    ledger = rep_ledger(result, "R1")
    for month, part in ledger.groupby("month"):
        money = {
            k: Decimal(v)
            for k, v in part.loc[~part["item"].isin(["deal", "true-up", "spiff", "clawback"])]
            .set_index("item")["amount_usd"]
            .items()
        }
        lines = sum(
            (
                Decimal(v)
                for v in part.loc[part["item"].isin(["deal", "true-up", "spiff", "clawback"]), "amount_usd"]
            ),
            Decimal(0),
        )
        assert lines == money["earnings"], month
        assert money["earnings"] + money["draw"] + money["recovery"] == money["payout"], month


def test_statements_are_identical_on_a_rerun_and_html_is_self_contained(result):
    assert statement_csv(result, "R1") == statement_csv(result, "R1")
    text = statement_html(result, "R1", rep_name="Ann <Lee>")
    assert "Ann &lt;Lee&gt;" in text and "http" not in text
    assert "from 50 % of quota: 10%" in text and "each slice at its tier&#x27;s rate" in text
    assert "Draw: $500 a month (recoverable)" in text
    csv = pd.read_csv(io.StringIO(statement_csv(result, "R1")), dtype=str)
    assert list(csv.columns)[:3] == ["month", "item", "component"]
    lines = statement_lines_table(result).to_pandas()
    assert lines["earned_cents"].sum() == result.lines["earned_cents"].sum()
    deal_lines = lines.loc[(lines["component"] == "commission") & (lines["item"] == "deal")]
    assert set(deal_lines["rate_pct"]) <= {"5", "10", "15"}


def test_what_if_adds_the_marginal_commission(result):
    # March has $100 credited (quota $10,000): a $5,000 deal earns $4,900 x 5 % + $100 x 10 % = $255
    # commission (no SPIFF: below $9,000) and, Q1 staying at 2 %, a $5,000 x 2 % = $100 kicker.
    estimate = estimate_deal(result, "R1", 500_000, date(2026, 3, 20))
    assert estimate.extra_earnings_cents == 255_00 + 100_00
    assert set(estimate.lines["component"]) == {"commission", "kicker"}
    with pytest.raises(PlannerError, match="outside the calculated months"):
        estimate_deal(result, "R1", 100, date(2027, 1, 1))
    with pytest.raises(PlannerError, match="has no comp plan"):
        estimate_deal(result, "R9", 100, date(2026, 1, 1))


def test_earnings_by_component_add_up_to_earnings(result):
    by_component = result.earnings_by_component()
    assert list(by_component.columns) == ["commission", "kicker", "big"]
    assert (by_component.sum(axis=1).to_numpy() == result.summary["earnings_cents"].to_numpy()).all()
    assert by_component.loc[("R1", "2026-01"), "big"] == 100_00
