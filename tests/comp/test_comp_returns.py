"""Credit notes and returns: restated attainment, the overpayment clawed back, never a higher payout."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.comp import run_comp
from planner.comp.deals import check_credit_notes
from planner.comp.statements import rep_ledger
from planner.errors import InputError
from tests.comp.out_of_core import assert_same_as_in_memory, out_of_core
from tests.comp.test_comp_golden import MONTHS, plan_of, world
from tests.comp.test_comp_properties import REPS, UNITS, worlds

QUARTER_RETRO = [
    {
        "id": "c",
        "kind": "single",
        "window": "quarter",
        "tiers": [{"start": 0, "rate_pct": 5}, {"start": 20_000, "rate_pct": 10}],
    }
]


def returned(window_days: int, issued: str = "2026-04-15"):
    deals, units, approved, reps = world([("2026-01-10", 15_000.00), ("2026-02-10", 10_000.00)])
    notes = check_credit_notes(
        pd.DataFrame({"deal_id": ["D001"], "issued_date": [issued], "amount_usd": ["6000"]}), deals
    )
    plan = plan_of(QUARTER_RETRO, clawback={"window_days": window_days})
    return run_comp(deals, units, approved, reps, [plan], MONTHS, credit_notes=notes)


def test_a_credit_note_restates_its_quarter_and_claws_back_the_overpayment():
    # Worked by hand. Quarterly retroactive rate: 5% of the quarter, 10% once it reaches $20,000.
    # January: $15,000 -> $750. February: $10,000 more, $25,000 reaches 10% -> $2,500 to date, so
    # February pays $1,750 ($1,000 + a $750 true-up). On 15 April a credit note returns $6,000 of
    # the February deal (within the 120-day window): Q1 restated is $19,000 at 5% = $950 to date,
    # so February should have paid $200; April claws back $1,550. Paid in all: $950.
    result = returned(120)
    earnings = result.summary.set_index("month")["earnings_cents"]
    assert earnings[earnings != 0].to_dict() == {"2026-01": 750_00, "2026-02": 1_750_00, "2026-04": -1_550_00}
    credited = result.summary.set_index("month")["credited_cents"]
    assert credited["2026-02"] == 4_000_00  # attainment restated in the month the deal belongs to
    ledger = rep_ledger(result, "R1")
    april = ledger.loc[ledger["month"] == "2026-04"].set_index("item")
    assert april.loc["restatement", "amount_usd"] == "-1550.00"
    assert (
        "2026-02 restated for credit notes issued this month: it now earns $200.00 and paid $1,750.00"
        in (april.loc["restatement", "explanation"])
    )
    assert (
        "credit note on a deal closed 2026-02-10: -$6,000.00 credit restates 2026-02"
        in (april.loc["restating-note", "explanation"])
    )


def test_a_credit_note_outside_the_window_lowers_its_own_period_and_recovers_nothing():
    result = returned(30)
    month = result.summary.set_index("month")
    assert month["earnings_cents"].sum() == 2_500_00  # what was paid stays paid
    assert month.loc["2026-04", "credited_cents"] == -6_000_00
    assert (month["earnings_cents"] >= 0).all()


def test_credit_notes_are_checked_by_row():
    deals, *_ = world([("2026-02-10", 100.00)])
    notes = pd.DataFrame(
        {
            "deal_id": ["D000", "D000", "D404"],
            "issued_date": ["2026-01-01", "2026-03-01", "2026-03-01"],
            "amount_cents": [50_00, 60_00, 1],
        }
    )
    with pytest.raises(InputError) as raised:
        check_credit_notes(notes, deals, file="returns.csv")
    text = str(raised.value)
    assert "returns.csv, row 4, column 'deal_id': deal 'D404' is not in the deals table" in text
    assert "the credit notes of deal 'D000' sum to 110.00 USD, more than the deal's 100.00 USD" in text
    with pytest.raises(InputError, match=r"row 2, column 'issued_date'.*before the deal closed"):
        check_credit_notes(notes.iloc[:1], deals, file="returns.csv")


def monotone(plans) -> bool:
    """No single-rate decelerator (a lower rate at a higher tier pays less for more credit)."""
    for plan in plans:
        for component in plan.components:
            rates = component.rates_pct() if component.kind != "interpolated" else []
            if component.kind == "single" and rates != sorted(rates):
                return False
    return True


@st.composite
def notes_for(draw, deals: pd.DataFrame, max_days: int = 150):
    picks = draw(st.lists(st.integers(0, len(deals) - 1), max_size=4, unique=True))
    rows = []
    for i in picks:
        deal = deals.iloc[i]
        share = draw(st.integers(1, 100))
        rows.append(
            {
                "deal_id": deal["deal_id"],
                "issued_date": deal["close_date"] + pd.Timedelta(days=draw(st.integers(0, max_days))),
                "amount_cents": deal["amount_cents"] * share // 100,
            }
        )
    return pd.DataFrame(rows, columns=["deal_id", "issued_date", "amount_cents"])


@settings(max_examples=30, deadline=None)
@given(worlds(), st.data())
def test_returns_never_raise_a_payout_and_out_of_core_agrees(world, data):
    plans, deals, splits, approved = world
    notes = check_credit_notes(data.draw(notes_for(deals)), deals)
    plain = run_comp(deals, UNITS, approved, REPS, plans, MONTHS, splits=splits)
    result = run_comp(deals, UNITS, approved, REPS, plans, MONTHS, splits=splits, credit_notes=notes)
    if monotone(plans):
        cancelled = (deals["status"] == "cancelled").any()
        for rep, group in result.summary.groupby("rep_id"):
            before = plain.summary.loc[plain.summary["rep_id"] == rep]
            assert group["components_cents"].sum() <= before["components_cents"].sum()
            if not cancelled:  # a clawback gives back the cancelled deal's line, priced where it fell
                assert group["earnings_cents"].sum() <= before["earnings_cents"].sum()
                assert group["payout_cents"].sum() <= before["payout_cents"].sum()
    assert (result.summary["credited_cents"].sum()) <= plain.summary["credited_cents"].sum()
    summary, lines, _, _ = out_of_core(
        deals,
        UNITS,
        approved,
        REPS,
        plans,
        MONTHS,
        splits=splits,
        credit_notes=notes.astype({"issued_date": str}),
    )
    assert_same_as_in_memory(result, summary, lines)


@settings(max_examples=20, deadline=None)
@given(worlds(), st.data())
def test_what_is_paid_by_the_end_is_what_the_notes_would_pay_known_from_the_start(world, data):
    plans, deals, splits, approved = world
    ae = next(p for p in plans if p.name == "ae")
    notes = check_credit_notes(data.draw(notes_for(deals, ae.clawback.window_days)), deals)
    late = run_comp(deals, UNITS, approved, REPS, plans, MONTHS, splits=splits, credit_notes=notes)
    close = deals.set_index("deal_id")["close_date"]
    early_notes = notes.assign(issued_date=close.reindex(notes["deal_id"]).to_numpy())
    early = run_comp(deals, UNITS, approved, REPS, plans, MONTHS, splits=splits, credit_notes=early_notes)
    elapsed = (notes["issued_date"] - close.reindex(notes["deal_id"]).to_numpy()).dt.days
    if (elapsed <= ae.clawback.window_days).all() and (notes["issued_date"].dt.year == 2026).all():
        for rep in ("RA", "RB", "RC"):  # the account executives (managers' plan has no clawback)
            paid = late.summary.loc[late.summary["rep_id"] == rep, "earnings_cents"].sum()
            known = early.summary.loc[early.summary["rep_id"] == rep, "earnings_cents"].sum()
            assert paid == known
