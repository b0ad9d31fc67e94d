"""The realignment planned on the territory graph: relocate where chains cost more, then push flows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.optimize.instance import adjacency_lists, build_instance
from planner.optimize.options import BalanceTarget, OptimizeOptions
from planner.optimize.realign import plan_realignment, realign
from planner.optimize.search import SearchState
from planner.optimize.transport import crossing_share
from planner.optimize.work_clock import WorkClock
from planner.plans.metrics import contiguity_violations, transport_floor, unit_points_km
from planner.plans.plan import Plan
from tests.conftest import grid

# A 4 x 6 grid of equal units, k = 4 (one rep's share: 6 units). A holds the three left
# columns (2 reps of load), B the next two (1.33), C three cells of the last column and
# D the last cell (0.17): A's excess must reach C and D through B, or D moves into A.
LAYOUT = ["AAABBC", "AAABBC", "AAABBC", "AAABBD"]


def state_for(layout=LAYOUT, budget=None, homes=None) -> tuple[SearchState, Plan, object, object]:
    rows, cols = len(layout), len(layout[0])
    units, adjacency = grid(rows, cols)
    labels = [ch for row in layout for ch in row]
    reference = Plan(pd.Series(labels, index=units.index), pd.Series({f"rep_{t}": t for t in "ABCD"}))
    options = OptimizeOptions(targets=(BalanceTarget("tam_usd", 0.02, hard=True),), max_disruption=budget)
    instance = build_instance(
        units, adjacency, unit_points_km(units), options, reference=reference, rep_homes_km=homes
    )
    state = SearchState(
        instance,
        instance.start,
        adjacency_lists(instance),
        compactness_weight=options.compactness_weight,
        disruption_weight=options.disruption_weight,
        max_disruption=budget,
        clock=WorkClock(),
    )
    return state, reference, units, adjacency


def test_the_plan_relocates_the_far_territory_and_moves_less_than_passing_the_excess_on():
    state, reference, units, _ = state_for()
    plan = plan_realignment(state.instance, state.labels, state.reps, None)
    d = state.instance.territory_ids.index("D")
    assert plan.relocated == (d,)
    assert plan.hosted == {state.instance.territory_ids.index("A"): 1}
    floor = transport_floor(reference, units, "tam_usd", pd.Series(1, index=list("ABCD")))
    assert floor <= plan.moved < crossing_share(state.instance, state.labels, state.reps)


def test_carried_out_every_territory_is_balanced_contiguous_and_the_move_is_the_planned_one():
    state, _, units, adjacency = state_for()
    plan = plan_realignment(state.instance, state.labels, state.reps, None)
    assert realign(state, np.random.default_rng(0)) >= 1
    assert np.bincount(state.labels, minlength=4).tolist() == [6, 6, 6, 6]
    ids = np.array(state.instance.territory_ids, dtype=object)
    after = Plan(pd.Series(ids[state.labels], index=units.index))
    assert contiguity_violations(after, adjacency) == 0
    assert state.disruption == pytest.approx(9 / 24)  # D's cell, 6 cells of A, 2 of B
    assert abs(state.disruption - plan.moved) <= 1 / 24  # the model's move, to within a unit


def test_a_budget_is_never_exceeded():
    for budget in (0.05, 0.2, 0.3):
        state, *_ = state_for(budget=budget)
        realign(state, np.random.default_rng(0))
        assert state.disruption <= budget + 1e-12


def test_territories_whose_reps_live_somewhere_are_not_relocated():
    _state, reference, units, _ = state_for()
    centres = unit_points_km(units).groupby(reference.assignment).mean()
    homes = pd.DataFrame({"x_km": centres["x_km"], "y_km": centres["y_km"]}).rename(
        index=lambda t: f"rep_{t}"
    )
    homed, *_ = state_for(homes=homes)
    plan = plan_realignment(homed.instance, homed.labels, homed.reps, None)
    assert plan is not None and plan.relocated == ()


def test_nothing_is_planned_for_a_balanced_plan():
    state, *_ = state_for(["AAABBB", "AAABBB", "CCCDDD", "CCCDDD"])
    assert plan_realignment(state.instance, state.labels, state.reps, None) is None


def test_the_least_move_is_measured_when_a_big_unit_takes_a_territorys_rep():
    from planner.optimize.api import least_realignment_move

    # The first cell holds two reps' share: its territory needs 2 reps, so the lightest
    # territory gives its rep away and its units start in a neighbour.
    tam = np.full(24, 100.0)
    tam[0] = 1200.0
    units, adjacency = grid(4, 6, tam)
    labels = [ch for row in LAYOUT for ch in row]
    reference = Plan(pd.Series(labels, index=units.index))
    options = OptimizeOptions(targets=(BalanceTarget("tam_usd", 0.25, hard=True),), use_rep_homes=False)
    least = least_realignment_move(units, adjacency, reference, options)
    assert least is not None and 0.0 < least < 1.0
