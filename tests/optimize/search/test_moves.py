"""The border search's moves, each on a small grid or line: paths, chains, recombination, scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.data.adjacency import build_adjacency
from planner.errors import InfeasibleError
from planner.optimize.instance import build_instance
from planner.optimize.options import BalanceTarget, OptimizeOptions
from planner.optimize.search import SearchState, default_recombination
from planner.optimize.search import schedule as search_schedule
from planner.optimize.search.moves.exchange import exchange_chains, path_moves
from planner.optimize.search.moves.recombine import recombine, recombine_chains
from planner.optimize.search.moves.single import descend
from planner.optimize.search.score import border_change, move_deltas
from planner.plans.metrics import contiguity_violations, unit_points_km
from planner.plans.plan import Plan
from tests.conftest import border_search, both_hard, grid, grid_units, grid_with_bookings, run_border_search


def line_search(bookings, labels):
    """A search state (and its moves' arguments) on a 1 x n line balancing bookings (hard 5%)."""
    units = grid_units(1, len(bookings)).set_index("unit_id")
    units["bookings_usd"] = np.asarray(bookings, dtype=float)
    adjacency = build_adjacency(units)
    options = OptimizeOptions(targets=(BalanceTarget("bookings_usd", 0.05, hard=True),))
    labels = np.asarray(labels)
    instance = build_instance(units, adjacency, unit_points_km(units), options, n_reps=int(labels.max()) + 1)
    return border_search(instance, labels)


def test_path_moves_reach_units_behind_a_border_that_holds_none_of_the_measure():
    # A = r0c0..r0c2 holds no bookings, B = r0c3..r0c5 holds all 4: every single move across
    # the border moves 0 bookings (a flat objective); pulling the path r0c3, r0c4 balances both.
    search, at = line_search([0, 0, 0, 0, 2, 2], [0, 0, 0, 1, 1, 1])
    border = np.array([2, 3]), np.array([0, 1]), np.array([1, 0])
    delta, _, _ = move_deltas(search, *border, 0.0, 0.0)
    assert np.allclose(delta, 0.0)
    assert path_moves(search, **at) == 2
    assert search.labels.tolist() == [0, 0, 0, 0, 0, 1]
    assert search.violation() == 0


def test_exchange_chains_pass_excess_through_a_balanced_territory():
    # A (3 bookings) is over by 50%, B (2) balanced, C (1) under by 50%: any exchange between two
    # neighbours only shifts the violation, but passing one unit A -> B and one B -> C fixes all.
    search, at = line_search([1, 1, 1, 1, 0, 1, 0, 0, 1], [0, 0, 0, 1, 1, 1, 2, 2, 2])
    assert path_moves(search, **at) == 0
    assert exchange_chains(search, **at) == 2
    assert search.labels.tolist() == [0, 0, 1, 1, 1, 2, 2, 2, 2]
    assert search.violation() == 0


def test_recombine_redraws_a_whole_border_to_balance_two_measures_and_keeps_locks():
    # 2 x 4 grid, TAM 1 per cell, bookings 1 in the top row only. Start: top row vs bottom
    # row (TAM balanced, bookings 4 vs 0). The only balanced contiguous split is left half vs
    # right half; r0c0 is locked to territory 0, so territory 0 must be the left half.
    units, adjacency = grid_with_bookings(2, 4, np.ones(8), [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    options = both_hard(0.05, locked_units={"r0c0": "T0"})
    reference = Plan(pd.Series(["T0"] * 4 + ["T1"] * 4, index=units.index))
    instance = build_instance(units, adjacency, unit_points_km(units), options, reference=reference)
    search, at = border_search(instance, instance.start)
    assert search.violation() > 0
    assert recombine(search, **at) == 4
    assert search.violation() == 0
    assert search.labels.tolist() == [0, 0, 1, 1, 0, 0, 1, 1]


def test_recombination_chains_pass_excess_through_a_balanced_territory():
    # As above: no re-split of two neighbours lowers violation, but re-splitting A + B to
    # balance A, then B + C to balance both, fixes all three.
    search, at = line_search([1, 1, 1, 1, 0, 1, 0, 0, 1], [0, 0, 0, 1, 1, 1, 2, 2, 2])
    assert recombine(search, **at) == 0
    assert recombine_chains(search, **at) > 0
    assert search.violation() == 0
    assert search.labels.tolist() == [0, 0, 1, 1, 2, 2, 2, 2, 2]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.integers(2, 5), cols=st.integers(3, 6), seed=st.integers(0, 10_000))
def test_recombination_keeps_territories_connected_locks_in_place_and_violation_down(rows, cols, seed):
    # Three column stripes on a random grid with two random hard measures, one unit locked.
    rng = np.random.default_rng(seed)
    tam = rng.integers(1, 100, rows * cols)
    units, adjacency = grid_with_bookings(rows, cols, tam, rng.integers(0, 100, rows * cols))
    stripes = [f"T{c * 3 // cols}" for _ in range(rows) for c in range(cols)]
    locked = str(units.index[rng.integers(rows * cols)])
    options = both_hard(
        0.05,
        locked_units={locked: stripes[units.index.get_loc(locked)]},
        allow_multi_rep=False,
    )
    reference = Plan(pd.Series(stripes, index=units.index))
    try:
        instance = build_instance(units, adjacency, unit_points_km(units), options, reference=reference)
    except InfeasibleError:
        return  # a cell bigger than one rep's share: explained, not searched
    search, at = border_search(instance, instance.start, rng=rng)
    before = search.violation()
    recombine(search, **at)
    recombine_chains(search, **at)
    assert search.violation() <= before + 1e-9
    plan = Plan(pd.Series(np.array(instance.territory_ids)[search.labels], index=units.index))
    assert contiguity_violations(plan, adjacency) == 0
    assert plan.assignment[locked] == options.locked_units[locked]


def stripes_search(tam, rows: int, cols: int, locks: dict[str, str]) -> tuple[SearchState, dict]:
    """A search state (and its moves' arguments) on a grid in three column stripes, TAM alone hard at 5%."""
    units, adjacency = grid(rows, cols, tam, contiguity="queen")  # the stall below was found on queen
    options = OptimizeOptions(targets=(BalanceTarget("tam_usd", 0.05, hard=True),), locked_units=locks)
    stripes = [f"T{c * 3 // cols}" for _ in range(rows) for c in range(cols)]
    reference = Plan(pd.Series(stripes, index=units.index))
    instance = build_instance(units, adjacency, unit_points_km(units), options, reference=reference)
    return border_search(instance, instance.start)


@pytest.mark.parametrize(
    ("tam", "stuck"),
    [
        # A lumpy unit (60 of 78 per rep, r1c4) and three locks: single moves stall with the
        # worst territory out of tolerance, so recombination steps in.
        ([2, 8, 4, 27, 12, 22, 11, 13, 5, 20, 60, 7, 6, 9, 6, 5, 11, 7], True),
        # Stripes of 60, 60 and 90 of small even cells: single moves balance them, so
        # recombination is never needed.
        ([10, 10, 10, 10, 10, 20] * 3, False),
    ],
)
def test_one_hard_measure_recombines_only_once_the_worst_territory_stops_improving(tam, stuck, monkeypatch):
    search, at = stripes_search(tam, 3, 6, {"r0c0": "T0", "r1c3": "T1", "r2c5": "T2"})
    assert not default_recombination(search)  # one hard measure: not a main step of the search
    calls = []
    monkeypatch.setattr(
        search_schedule,
        "recombine",
        lambda state, **kw: calls.append(state.worst_hard_excess()) or recombine(state, **kw),
    )
    before = search.violation()
    run_border_search(search, at, time_limit_s=2)
    # One pass opens every run; in the main loop, recombination only follows a stall.
    assert bool(calls[1:]) == stuck
    assert stuck or search.violation() == 0
    assert all(excess > 0 for excess in calls[1:])  # only while a hard tolerance is missed
    assert search.violation() <= before
    plan = Plan(
        pd.Series(np.array(search.instance.territory_ids)[search.labels], index=search.instance.unit_ids)
    )
    assert contiguity_violations(plan, build_adjacency(grid(3, 6, tam)[0], contiguity="queen")) == 0


def two_measure_line(tam, accounts, labels, **options) -> tuple[SearchState, dict]:
    """A search state (and its moves' arguments) on a 1 x n line: TAM hard at 5%, accounts soft at 5%."""
    units = grid_units(1, len(tam)).set_index("unit_id")
    units["tam_usd"] = np.asarray(tam, dtype=float)
    units["accounts"] = np.asarray(accounts, dtype=float)
    adjacency = build_adjacency(units)
    targets = (BalanceTarget("tam_usd", 0.05, hard=True), BalanceTarget("accounts", 0.05, hard=False))
    instance = build_instance(
        units, adjacency, unit_points_km(units), OptimizeOptions(targets=targets, **options), n_reps=2
    )
    return border_search(instance, np.asarray(labels), compactness_weight=1.0)


def test_no_gain_on_a_soft_tolerance_pays_for_a_loss_on_a_hard_one():
    # A | B C. TAM 104 | 2 + 94 (+4%, -4%: within 5%); accounts 1 | 50 + 50 (-98%, +98%).
    # Moving B balances accounts almost exactly but takes TAM to +6% / -6%: a small loss on
    # the hard tolerance against a large gain on the soft one. It is never taken.
    search, at = two_measure_line([104, 2, 94], [1, 50, 50], [0, 1, 1])
    _, d_vio, _ = move_deltas(search, np.array([1]), np.array([1]), np.array([0]), 1.0, 0.0)
    assert d_vio[0] > 0
    descend(search, **at)
    assert search.labels.tolist() == [0, 1, 1]
    assert search.hard_violation() == 0


def test_a_sparse_soft_measure_is_protected_but_not_chased():
    # Accounts are zero in 2 of 4 units (sparse): they do not steer the balance penalty,
    # but their tolerance still counts in violation. A dense soft measure is chased.
    sparse, _ = two_measure_line([1, 1, 1, 1], [0, 0, 3, 1], [0, 0, 1, 1])
    dense, _ = two_measure_line([1, 1, 1, 1], [1, 1, 3, 1], [0, 0, 1, 1])
    assert sparse.w[1] == 0 and sparse.wv[1] > 0
    assert dense.w[1] > 0


def test_cut_length_counts_each_shared_border_between_territories_once():
    # 2 x 2 grid split into rows: the cut is the two edges between the rows (0.1 degree of
    # longitude at 40 N, about 8.5 km each; the diagonal neighbours share no border).
    # Moving r0c1 to the bottom row leaves the cut along r0c0-r0c1 (11.1 km) and r0c0-r1c0.
    units, adjacency = grid(2, 2, [1, 1, 1, 1])
    options = OptimizeOptions(targets=(BalanceTarget("tam_usd", 0.05, hard=True),))
    instance = build_instance(units, adjacency, unit_points_km(units), options, n_reps=2)
    search, _ = border_search(instance, np.array([0, 0, 1, 1]), compactness_weight=1.0)
    assert search.cut_km() == pytest.approx(2 * 8.5, abs=0.4)
    # border with territory t minus border with "territory -1", which no unit is in
    unit, nowhere = np.array([1]), np.array([-1])
    with_top, with_bottom = (border_change(search, unit, np.array([t]), nowhere)[0] for t in (0, 1))
    assert with_top == pytest.approx(11.1, abs=0.2) and with_bottom == pytest.approx(8.5, abs=0.2)
    search.apply(1, 0, 1)
    assert search.cut_km() == pytest.approx(11.1 + 8.5, abs=0.4)


def test_a_probe_run_spends_no_time_on_the_compactness_polish():
    # 4 x 4 equal cells, k = 2, TAM hard 5%: a balanced comb (8 cells each). Any single
    # move unbalances it, so only the polish's swaps can straighten the border. A probe of
    # the race of starts (polish=False) leaves it as it is; a full run shortens the border.
    units, adjacency = grid(4, 4)
    options = OptimizeOptions(targets=(BalanceTarget("tam_usd", 0.05, hard=True),))
    instance = build_instance(units, adjacency, unit_points_km(units), options, n_reps=2)
    comb = np.array([0, 0, 0, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1, 1, 1])
    probe, at = border_search(instance, comb, compactness_weight=1.0)
    run_border_search(probe, at, time_limit_s=2, polish=False)
    assert np.array_equal(probe.labels, comb)
    full, at = border_search(instance, comb, compactness_weight=1.0)
    run_border_search(full, at, time_limit_s=2)
    assert full.violation() == 0 and full.cut_km() < probe.cut_km()
