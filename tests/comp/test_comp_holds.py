"""Deal holds (paid on release, never a different amount) and the monthly accrual report."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.comp import check_deals, run_comp
from planner.comp.accrual import ALL_PLANS, accrual_report
from planner.comp.statements import rep_ledger
from tests.comp.out_of_core import assert_same_as_in_memory, out_of_core
from tests.comp.test_comp_golden import MONTHS, plan_of, world
from tests.comp.test_comp_properties import REPS, UNITS, worlds

TEN_PCT = [{"id": "c", "kind": "marginal", "tiers": [{"start": 0, "rate_pct": 10}]}]


def held_world(rows: list[tuple[str, float, str]], **extra):
    """The golden one-rep world with deals (close date, USD, hold_until or '') and its plan."""
    table, units, approved, reps = world([(d, a) for d, a, _ in rows])
    table = check_deals(table.assign(hold_until=[h for _, _, h in rows]))
    return table, units, approved, reps, plan_of(TEN_PCT, **extra)


def test_a_held_deal_is_paid_in_its_release_month_and_accrued_when_earned():
    # Worked by hand: 10% of each deal, monthly. $1,000 closed 10 Feb and held until 5 Apr earns
    # $100 in February, paid in April; $500 closed 20 Feb (no hold) is paid $50 in February.
    deals, units, approved, reps, plan = held_world(
        [("2026-02-10", 1000.00, "2026-04-05"), ("2026-02-20", 500.00, "")]
    )
    result = run_comp(deals, units, approved, reps, [plan], MONTHS)
    month = result.summary.set_index("month")
    assert month.loc["2026-02", ["earnings_cents", "accrued_cents"]].tolist() == [50_00, 150_00]
    assert month.loc["2026-03", ["earnings_cents", "accrued_cents"]].tolist() == [0, 0]
    assert month.loc["2026-04", ["earnings_cents", "accrued_cents"]].tolist() == [100_00, 0]
    assert int(month["payout_cents"].sum()) == 150_00
    accrual = accrual_report(result.summary).set_index(["plan", "month"]).loc["golden"]
    assert accrual["held_cents"].loc[["2026-01", "2026-02", "2026-03", "2026-04"]].tolist() == [
        0,
        100_00,
        100_00,
        0,
    ]
    ledger = rep_ledger(result, "R1")
    april = ledger.loc[(ledger["month"] == "2026-04") & (ledger["item"] == "deal")]
    assert april["amount_usd"].tolist() == ["100.00"]
    assert april["explanation"].iloc[0].startswith("held until 2026-04-05 (earned in 2026-02): ")


def test_a_deal_held_past_the_period_is_earned_not_paid_and_shown_on_hold():
    deals, units, approved, reps, plan = held_world([("2026-11-03", 2000.00, "2027-01-15")])
    result = run_comp(deals, units, approved, reps, [plan], MONTHS)
    assert int(result.summary["payout_cents"].sum()) == 0
    assert int(result.summary["accrued_cents"].sum()) == 200_00
    accrual = accrual_report(result.summary)
    december = accrual.loc[(accrual["month"] == "2026-12") & (accrual["plan"] == ALL_PLANS)]
    assert december["held_cents"].tolist() == [200_00]  # owed, booked as a liability
    ledger = rep_ledger(result, "R1")
    held = ledger.loc[ledger["month"] == "on hold"]
    assert (
        held["amount_usd"].tolist() == ["200.00"] and "held until 2027-01-15" in held["explanation"].iloc[0]
    )


def test_a_deal_cancelled_while_held_pays_and_claws_back_in_the_same_month():
    deals, units, approved, reps, plan = held_world(
        [("2026-03-02", 1000.00, "2026-06-01")], clawback={"window_days": 90}
    )
    deals.loc[0, ["status", "cancel_date"]] = ["cancelled", pd.Timestamp("2026-04-10")]
    result = run_comp(deals, units, approved, reps, [plan], MONTHS)
    june = result.lines.loc[result.lines["month"] == "2026-06"]
    assert sorted(june["earned_cents"].tolist()) == [-100_00, 100_00]
    assert (result.summary["earnings_cents"] == 0).all()


@st.composite
def holds(draw, n: int):
    """A hold date (or none) per deal, releases inside the year."""
    days = st.one_of(st.none(), st.integers(0, 364))
    return [
        None if d is None else pd.Timestamp("2026-01-01") + pd.Timedelta(days=d)
        for d in draw(st.lists(days, min_size=n, max_size=n))
    ]


@settings(max_examples=25, deadline=None)
@given(worlds(), st.data())
def test_a_hold_moves_a_payout_in_time_never_its_amount(world, data):
    plans, deals, splits, approved = world
    held = deals.assign(hold_until=data.draw(holds(len(deals))))
    free = run_comp(deals, UNITS, approved, REPS, plans, MONTHS, splits=splits)
    later = run_comp(held, UNITS, approved, REPS, plans, MONTHS, splits=splits)
    assert later.summary["earnings_cents"].sum() == free.summary["earnings_cents"].sum()
    assert later.summary["accrued_cents"].tolist() == free.summary["accrued_cents"].tolist()
    key = ["rep_id", "component", "line", "deal_id", "earned_month", "via_rep_id"]
    before = free.lines.groupby(key, observed=True)["earned_cents"].sum()
    after = later.lines.groupby(key, observed=True)["earned_cents"].sum()
    pd.testing.assert_series_equal(before, after)  # every line keeps its amount
    months = later.lines["month"].astype(str)
    earned = later.lines["earned_month"].astype(str)
    assert (months >= earned).all()  # never paid before it is earned
    release = later.lines["held_until"].dt.strftime("%Y-%m")
    moved = later.lines["held_until"].notna()
    assert (months[moved] == release[moved]).all()
    carried = (free.summary["balance_cents"] != 0).any() or (later.summary["balance_cents"] != 0).any()
    if all(p.draw is None for p in plans) and not carried:  # a draw or a carried balance depends on timing
        assert later.summary["payout_cents"].sum() == free.summary["payout_cents"].sum()
    accrual = accrual_report(later.summary)
    assert (accrual["held_cents"] >= 0).all()
    assert (
        accrual["payout_cents"]
        == accrual["paid_earnings_cents"] + accrual["draws_cents"] - accrual["recovered_cents"]
    ).all()
    summary, lines, _, _ = out_of_core(held, UNITS, approved, REPS, plans, MONTHS, splits=splits)
    assert_same_as_in_memory(later, summary, lines)


def test_holds_on_dates_that_are_not_dates_are_refused_by_row():
    table, *_ = world([("2026-02-10", 10.0), ("2026-02-11", 10.0)])
    bad = table.assign(hold_until=["", "next week"])
    try:
        check_deals(bad)
    except Exception as error:
        assert "row 3, column 'hold_until': 'next week' is not a date" in str(error)
    else:
        raise AssertionError("a bad hold date was accepted")
    assert np.isnat(check_deals(table.assign(hold_until=["", ""]))["hold_until"].to_numpy()).all()
