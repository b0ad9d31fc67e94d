"""Manual adjustments in the calculation: amounts paid as is, credit priced like a deal, sums exact."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.comp import run_comp
from planner.comp.statements import rep_ledger
from planner.store import PlanStore
from planner.store.demo import seed_demo_store
from tests.comp.out_of_core import assert_same_as_in_memory, out_of_core
from tests.comp.test_comp_golden import MONTHS, plan_of, world
from tests.comp.test_comp_properties import REPS, UNITS, worlds
from tests.comp.test_comp_scale import comp_both_ways

ROOT = Path(__file__).resolve().parents[2]
TEN_PCT = [{"id": "c", "kind": "marginal", "tiers": [{"start": 0, "rate_pct": 10}]}]


def adjustments(rows: list[tuple]) -> pd.DataFrame:
    """Approved adjustments: (rep, month, kind, cents, reason) numbered from 1."""
    table = pd.DataFrame(rows, columns=["rep_id", "month", "kind", "amount_cents", "reason"])
    return table.assign(
        adjustment_id=range(1, len(rows) + 1), requested_by="m1", decided_by="fin", status="approved"
    )


def test_an_amount_is_paid_as_is_and_a_credit_is_priced_like_a_deal():
    # Worked by hand: 10% of credit, monthly. February: a $1,000 deal earns $100, and a $2,000
    # credit adjustment earns $200 more. March: a $250 amount adjustment is paid as it is.
    deals, units, approved, reps = world([("2026-02-10", 1_000.00)])
    table = adjustments(
        [
            ("R1", "2026-02", "credit", 2_000_00, "renewal booked to the wrong account"),
            ("R1", "2026-03", "amount", 250_00, "settled dispute over D-17"),
        ]
    )
    result = run_comp(deals, units, approved, reps, [plan_of(TEN_PCT)], MONTHS, adjustments=table)
    month = result.summary.set_index("month")
    assert month.loc["2026-02", ["credited_cents", "earnings_cents", "adjustments_cents"]].tolist() == [
        3_000_00,
        300_00,
        200_00,
    ]
    assert month.loc["2026-03", ["earnings_cents", "adjustments_cents"]].tolist() == [250_00, 250_00]
    ledger = rep_ledger(result, "R1").set_index("deal_id")
    assert ledger.loc["ADJ-2", "explanation"] == (
        "adjustment #2 asked by m1, approved by fin: settled dispute over D-17 ($250.00 paid as is)"
    )
    assert ledger.loc["ADJ-1", "explanation"].startswith(
        "adjustment #1 asked by m1, approved by fin: renewal booked to the wrong account ($2,000.00 credit; "
    )


@st.composite
def random_adjustments(draw) -> pd.DataFrame:
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["RA", "RB", "RC", "M1"]),
                st.sampled_from(MONTHS),
                st.sampled_from(["amount", "credit"]),
                st.integers(-500_000, 500_000).filter(bool),
                st.just("why"),
            ),
            max_size=6,
        )
    )
    return adjustments(rows)


@settings(max_examples=25, deadline=None)
@given(worlds(), random_adjustments())
def test_amount_adjustments_sum_exactly_into_earnings_and_out_of_core_agrees(world, table):
    plans, deals, splits, approved = world
    plain = run_comp(deals, UNITS, approved, REPS, plans, MONTHS, splits=splits)
    amounts = table.loc[table["kind"] == "amount"]
    only_amounts = run_comp(deals, UNITS, approved, REPS, plans, MONTHS, splits=splits, adjustments=amounts)
    paid = amounts.groupby(["rep_id", "month"])["amount_cents"].sum()
    change = (
        only_amounts.summary.set_index(["rep_id", "month"])["earnings_cents"]
        - plain.summary.set_index(["rep_id", "month"])["earnings_cents"]
    )
    assert change.sum() == amounts["amount_cents"].sum()
    assert change[change != 0].to_dict() == paid[paid != 0].to_dict()  # to the cent, rep and month
    result = run_comp(deals, UNITS, approved, REPS, plans, MONTHS, splits=splits, adjustments=table)
    summary, lines, _, _ = out_of_core(
        deals, UNITS, approved, REPS, plans, MONTHS, splits=splits, adjustments=table
    )
    assert_same_as_in_memory(result, summary, lines)


def test_planner_comp_pays_the_stores_approved_adjustments_only(tmp_path):
    from planner.data.demo import load_demo

    url = f"sqlite:///{tmp_path / 'terrain.db'}"
    store = PlanStore(url)
    seed_demo_store(store, load_demo())
    paid = store.request_adjustment("m04", "R001", "2026-03", "amount", 250_00, "settled dispute over D-17")
    store.decide_adjustment("finance", paid, approve=True, comment="per contract")
    store.request_adjustment("m04", "R001", "2026-04", "amount", 999_00, "still pending")
    store.close()

    comp_both_ways(tmp_path, "--demo", "--db", url, "--rep", "R001")
    memory = pd.read_csv(tmp_path / "memory" / "summary.csv")
    pd.testing.assert_frame_equal(memory, pd.read_csv(tmp_path / "scale" / "summary.csv"))
    r001 = memory.loc[memory["rep_id"] == "R001"].set_index("month")
    assert r001.loc["2026-03", "adjustments_usd"] == 250.00 and r001.loc["2026-04", "adjustments_usd"] == 0
    statement = (tmp_path / "memory" / "statements" / "R001.csv").read_text()
    assert "adjustment #1 asked by m04, approved by finance: settled dispute over D-17" in statement
