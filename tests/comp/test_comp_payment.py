"""Credit on payment date: each payment of a deal's invoices credits its share, when it is paid."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.comp import parse_comp_plan, run_comp
from planner.comp.deals import check_invoices
from planner.comp.statements import rep_ledger
from planner.errors import InputError
from tests.comp.out_of_core import assert_same_as_in_memory, out_of_core
from tests.comp.test_comp_golden import MONTHS, plan_of, world
from tests.comp.test_comp_properties import REPS, UNITS, worlds

ON_PAYMENT = [
    {"id": "c", "kind": "marginal", "credit_on": "payment", "tiers": [{"start": 0, "rate_pct": 10}]}
]


def test_each_payment_is_credited_in_the_month_it_is_paid():
    # Worked by hand: 10% commission credited on payment. A $10,000 deal closed 15 January is
    # invoiced and paid $4,000 on 10 February and $6,000 on 2 April: $400 in February, $600 in
    # April, nothing in January. A $1,000 deal closed 20 March and never paid earns nothing.
    deals, units, approved, reps = world([("2026-01-15", 10_000.00), ("2026-03-20", 1_000.00)])
    invoices = check_invoices(
        pd.DataFrame(
            {
                "deal_id": ["D000", "D000"],
                "paid_date": ["2026-02-10", "2026-04-02"],
                "amount_usd": ["4000", "6000"],
            }
        ),
        deals,
    )
    result = run_comp(deals, units, approved, reps, [plan_of(ON_PAYMENT)], MONTHS, invoices=invoices)
    earnings = result.summary.set_index("month")["earnings_cents"]
    assert earnings[earnings != 0].to_dict() == {"2026-02": 400_00, "2026-04": 600_00}
    ledger = rep_ledger(result, "R1")
    february = ledger.loc[(ledger["month"] == "2026-02") & (ledger["item"] == "deal")]
    assert february["close_date"].tolist() == ["2026-02-10"] and february["credit_usd"].tolist() == [
        "4000.00"
    ]
    assert (
        february["explanation"]
        .iloc[0]
        .startswith("credited on payment: the share of the deal paid 2026-02-10")
    )


def test_payments_that_name_unknown_deals_or_exceed_the_deal_are_refused_by_row():
    deals, *_ = world([("2026-01-15", 100.00)])
    invoices = pd.DataFrame(
        {
            "deal_id": ["D000", "D000", "D999"],
            "paid_date": ["2026-02-01", "someday", "2026-02-01"],
            "amount_cents": [8_000, 3_000, 100],
        }
    )
    with pytest.raises(InputError) as raised:
        check_invoices(invoices, deals, file="invoices.csv")
    text = str(raised.value)
    assert "invoices.csv, row 3, column 'paid_date': 'someday' is not a date" in text
    assert "invoices.csv, row 4, column 'deal_id': deal 'D999' is not in the deals table" in text
    assert "the payments of deal 'D000' sum to 110.00 USD, more than the deal's 100.00 USD" in text


def crediting_on_payment(plans):
    """The same plans with every component crediting on payment."""
    return [
        parse_comp_plan(
            {
                **p.model_dump(mode="json", exclude_none=True),
                "components": [
                    {**c.model_dump(mode="json", exclude_none=True), "credit_on": "payment"}
                    for c in p.components
                ],
            }
        )
        for p in plans
    ]


@settings(max_examples=20, deadline=None)
@given(worlds(), st.data())
def test_paying_every_deal_in_full_on_its_close_date_credits_as_on_close(world, data):
    plans, deals, splits, approved = world
    pieces = data.draw(st.integers(1, 3))
    paid = pd.DataFrame(
        {
            "deal_id": deals["deal_id"].repeat(pieces).to_numpy(),
            "paid_date": deals["close_date"].repeat(pieces).to_numpy(),
            "amount_cents": [
                a // pieces + (k < a % pieces) for a in deals["amount_cents"] for k in range(pieces)
            ],
        }
    )
    on_payment = crediting_on_payment(plans)
    invoices = check_invoices(paid, deals)
    on_close = run_comp(deals, UNITS, approved, REPS, plans, MONTHS, splits=splits)
    by_payment = run_comp(deals, UNITS, approved, REPS, on_payment, MONTHS, splits=splits, invoices=invoices)
    columns = ["credited_cents", "components_cents", "payout_cents"]
    assert by_payment.summary[columns].equals(on_close.summary[columns])


@settings(max_examples=20, deadline=None)
@given(worlds(), st.data())
def test_payment_credits_never_exceed_the_deal_credit_and_match_out_of_core(world, data):
    plans, deals, splits, approved = world
    fractions = data.draw(st.lists(st.integers(0, 100), min_size=len(deals), max_size=len(deals)))
    days = data.draw(st.lists(st.integers(0, 200), min_size=len(deals), max_size=len(deals)))
    paid = pd.DataFrame(
        {
            "deal_id": deals["deal_id"],
            "paid_date": deals["close_date"] + pd.to_timedelta(days, unit="D"),
            "amount_cents": deals["amount_cents"] * pd.Series(fractions) // 100,
        }
    )
    invoices = check_invoices(paid, deals)
    on_payment = crediting_on_payment(plans)
    result = run_comp(deals, UNITS, approved, REPS, on_payment, MONTHS, splits=splits, invoices=invoices)
    on_close = run_comp(deals, UNITS, approved, REPS, plans, MONTHS, splits=splits)
    deal_lines = result.lines.loc[result.lines["line"] == "deal"]
    credited = deal_lines.groupby(["rep_id", "deal_id", "component"], observed=True)["credit_cents"].sum()
    full = on_close.lines.loc[on_close.lines["line"] == "deal"]
    full = full.groupby(["rep_id", "deal_id", "component"], observed=True)["credit_cents"].sum()
    assert (credited <= full.reindex(credited.index)).all()
    summary, lines, _, _ = out_of_core(
        deals, UNITS, approved, REPS, on_payment, MONTHS, splits=splits, invoices=paid
    )
    assert_same_as_in_memory(result, summary, lines)
