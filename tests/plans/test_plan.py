"""Plans are immutable values; edits return new plans; diffs count what moved."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner import Plan, PlanError, diff_plans

UNITS = [f"u{i}" for i in range(6)]


def make_plan() -> Plan:
    return Plan(
        pd.Series(["A", "A", "A", "B", "B", "B"], index=UNITS),
        pd.Series({"R1": "A", "R2": "B", "R3": "B"}),
        name="current",
    )


MEASURES = pd.DataFrame(
    {"tam_usd": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0], "accounts": [1, 0, 2, 1, 1, 5]}, index=UNITS
)


def test_move_returns_new_plan_and_keeps_old():
    plan = make_plan()
    moved = plan.move(["u2"], "B")
    assert plan.assignment["u2"] == "A"
    assert moved.assignment["u2"] == "B"
    assert moved.parent is plan
    assert moved.history() == [moved, plan]


def test_plan_data_cannot_be_mutated_in_place():
    plan = make_plan()
    handed_out = plan.assignment
    handed_out.iloc[0] = "Z"
    assert plan.assignment.iloc[0] == "A"
    with pytest.raises(AttributeError, match="immutable"):
        plan.name = "x"


def test_rep_counts_and_multi_rep_territories():
    plan = make_plan()
    assert plan.rep_count().to_dict() == {"A": 1, "B": 2}
    assert plan.reps_of("B") == ["R2", "R3"]


def test_invalid_plans_are_refused():
    with pytest.raises(PlanError, match="without a territory"):
        Plan(pd.Series(["A", None], index=["u0", "u1"]))
    with pytest.raises(PlanError, match="more than once"):
        Plan(pd.Series(["A", "B"], index=["u0", "u0"]))
    with pytest.raises(PlanError, match="more than one territory"):
        Plan(pd.Series(["A"], index=["u0"]), pd.Series(["A", "B"], index=["R1", "R1"]))
    with pytest.raises(PlanError, match="unknown unit"):
        make_plan().move(["nope"], "A")


def test_diff_counts_units_accounts_and_tam_by_hand():
    before = make_plan()
    after = before.move(["u2"], "B").move(["u3", "u4"], "A")
    diff = diff_plans(before, after, MEASURES)
    assert diff.n_units_moved == 3
    assert set(diff.moved.index) == {"u2", "u3", "u4"}
    assert diff.by_territory.loc["A", "tam_usd_out"] == 30.0
    assert diff.by_territory.loc["A", "tam_usd_in"] == 90.0
    assert diff.by_territory.loc["B", "accounts_out"] == 2
    assert diff.share_moved["units"] == pytest.approx(0.5)
    assert diff.share_moved["tam_usd"] == pytest.approx(120.0 / 210.0)
    assert diff.share_moved["accounts"] == pytest.approx(4 / 10)


def test_diff_of_a_plan_with_itself_is_empty():
    diff = diff_plans(make_plan(), make_plan(), MEASURES)
    assert diff.n_units_moved == 0
    assert (diff.share_moved == 0).all()


@settings(max_examples=50, deadline=None)
@given(moves=st.lists(st.tuples(st.sampled_from(UNITS), st.sampled_from(["A", "B", "C"])), max_size=12))
def test_every_unit_assigned_exactly_once_after_any_edits(moves):
    plan = make_plan()
    for unit, territory in moves:
        plan = plan.move([unit], territory)
    assert sorted(plan.units) == sorted(UNITS)
    assert not plan.assignment.isna().any()
    # the diff against the start moves exactly the units whose territory differs
    diff = diff_plans(make_plan(), plan, MEASURES)
    changed = {u for u in UNITS if plan.assignment[u] != make_plan().assignment[u]}
    assert set(diff.moved.index) == changed
    assert diff.by_territory[
        [c for c in diff.by_territory if c.endswith("_in")]
    ].sum().sum() == pytest.approx(
        diff.by_territory[[c for c in diff.by_territory if c.endswith("_out")]].sum().sum()
    )
