"""TerritoryTally: incremental totals equal a full recompute after any sequence of moves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import PlanError
from planner.plans.metrics import deviations, rep_counts, territory_totals
from planner.plans.plan import Plan
from planner.plans.tally import TerritoryTally
from tests.conftest import grid_units

MEASURES = ["tam_usd", "workload_hours", "accounts"]


def units_4x5() -> pd.DataFrame:
    units = grid_units(4, 5).set_index("unit_id")
    # An irregular measure with large and tiny values, to expose rounding drift.
    units["accounts"] = [(k * 7919) % 13 * 1e6 + k * 1e-3 for k in range(len(units))]
    return units


UNITS = units_4x5()
UNIT_IDS = UNITS.index.tolist()
TERRITORIES = ["T1", "T2", "T3", "T4"]


def assert_same_totals(tally: TerritoryTally, plan: Plan) -> None:
    expected = territory_totals(plan, UNITS, MEASURES)
    got = tally.totals
    assert got.index.tolist() == expected.index.tolist()
    assert got.columns.tolist() == expected.columns.tolist()
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-12, atol=1e-6)
    assert tally.counts.to_dict() == plan.assignment.value_counts().to_dict()


@st.composite
def plans_and_moves(draw):
    start = draw(st.lists(st.sampled_from(TERRITORIES), min_size=len(UNIT_IDS), max_size=len(UNIT_IDS)))
    moves = draw(
        st.lists(
            st.tuples(
                st.lists(st.sampled_from(UNIT_IDS), min_size=0, max_size=8),  # repeats allowed
                st.sampled_from([*TERRITORIES, "NEW1", "NEW2"]),
            ),
            max_size=12,
        )
    )
    return Plan(pd.Series(start, index=UNIT_IDS)), moves


@settings(max_examples=150, deadline=None)
@given(plans_and_moves())
def test_tally_equals_full_recompute_after_random_moves(case):
    plan, moves = case
    tally = TerritoryTally.from_plan(plan, UNITS, MEASURES)
    assert_same_totals(tally, plan)
    for unit_ids, territory in moves:
        before = tally.totals.copy()
        moved = tally.move(unit_ids, territory)
        plan = plan.move(unit_ids, territory) if unit_ids else plan
        assert_same_totals(moved, plan)
        pd.testing.assert_frame_equal(tally.totals, before)  # the old tally is untouched
        assert moved.territories.tolist() == plan.territories.tolist()
        reps = rep_counts(plan)
        expected = deviations(territory_totals(plan, UNITS, MEASURES), reps)
        np.testing.assert_allclose(moved.deviations(reps).to_numpy(), expected.to_numpy(), atol=1e-9)
        tally = moved


def test_moving_units_shifts_their_measures_between_two_territories():
    plan = Plan(pd.Series(["West" if u.endswith(("c0", "c1", "c2")) else "East" for u in UNIT_IDS], UNIT_IDS))
    tally = TerritoryTally.from_plan(plan, UNITS, ["tam_usd"])
    moved = tally.move(["r0c0", "r1c0"], "East")
    # tam_usd of r0c0 is 100, of r1c0 is 600 (100 x (index + 1)).
    assert moved.totals.loc["West", "tam_usd"] == tally.totals.loc["West", "tam_usd"] - 700
    assert moved.totals.loc["East", "tam_usd"] == tally.totals.loc["East", "tam_usd"] + 700
    assert moved.territory_of(["r0c0", "r0c1"]).tolist() == ["East", "West"]


def test_a_territory_emptied_by_moves_disappears_and_a_new_one_appears():
    plan = Plan(pd.Series(["A"] * 19 + ["B"], index=UNIT_IDS))
    tally = TerritoryTally.from_plan(plan, UNITS, ["tam_usd"])
    moved = tally.move([UNIT_IDS[-1]], "C")
    assert moved.territories.tolist() == ["A", "C"]
    assert moved.totals.loc["C", "tam_usd"] == 2000.0
    back = moved.move([UNIT_IDS[-1]], "B")
    assert back.totals.loc["B", "tam_usd"] == 2000.0
    assert back.territories.tolist() == ["A", "B"]


def test_bad_moves_and_bad_measures_are_refused_with_the_offending_names():
    plan = Plan(pd.Series(["A"] * 20, index=UNIT_IDS))
    tally = TerritoryTally.from_plan(plan, UNITS, ["tam_usd"])
    with pytest.raises(PlanError, match="nope"):
        tally.move(["nope"], "A")
    with pytest.raises(PlanError, match="empty"):
        tally.move(["r0c0"], " ")
    with pytest.raises(PlanError, match="revenue"):
        TerritoryTally.from_plan(plan, UNITS, ["revenue"])
    with pytest.raises(PlanError, match="not numeric"):
        TerritoryTally.from_plan(plan, UNITS, ["name"])
    with pytest.raises(AttributeError, match="immutable"):
        tally.measures = ("x",)  # type: ignore[misc]
