"""Rep counts that change during the search: shifts, merges and retired donors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.data.adjacency import build_adjacency
from planner.errors import InfeasibleError
from planner.optimize.api import optimize
from planner.optimize.instance import adjacency_lists, build_instance, without_territories
from planner.optimize.options import BalanceTarget, OptimizeOptions
from planner.optimize.search.moves.reps import merge_lumpy, relocate, shift_reps
from planner.optimize.search.relocation import dissolvable, merge, resizable, retire
from planner.plans.metrics import contiguity_violations, unit_points_km
from planner.plans.plan import Plan
from tests.conftest import border_search, grid_units

TAM_HARD = (BalanceTarget("tam_usd", 0.05, hard=True),)


def grid_instance(rows: int, cols: int, tam, k: int, reference: list[str] | None = None, **options):
    """Instance on a grid; ``reference`` names each cell's territory, rep counts from ``reps``."""
    units = grid_units(rows, cols).set_index("unit_id")
    units["tam_usd"] = np.asarray(tam, dtype=float)
    adjacency = build_adjacency(units)
    plan = None
    if reference is not None:
        plan = Plan(pd.Series(reference, index=units.index), options.pop("reps"))
    opts = OptimizeOptions(targets=TAM_HARD, **options)
    instance = build_instance(units, adjacency, unit_points_km(units), opts, n_reps=k, reference=plan)
    return instance, adjacency, units


def rep_table(counts: dict[str, int]) -> pd.Series:
    """``territory_id`` by ``rep_id``: ``counts`` reps for each territory."""
    ids = [t for t, n in counts.items() for _ in range(n)]
    return pd.Series(ids, index=[f"R{i}" for i in range(len(ids))])


def test_a_territory_with_a_rep_count_the_user_fixed_is_neither_dissolved_nor_resized():
    labels = ["A", "A", "B", "C"]
    instance, _, _ = grid_instance(
        1, 4, [1, 1, 1, 1], 3, labels, reps=rep_table({"A": 1, "B": 1, "C": 1}), reps_per_territory={"B": 1}
    )
    assert resizable(instance, instance.reps).tolist() == [True, False, True]
    assert dissolvable(instance, instance.reps).tolist() == [True, False, True]


def test_retire_gives_the_donor_rep_to_the_heir_and_its_units_to_its_neighbours():
    # Line A A | B | C C with one rep each: B's rep goes to A, which touches B and, now
    # with two reps, is the least loaded per rep, so it takes B's unit too.
    instance, _, _ = grid_instance(
        1, 5, [1] * 5, 3, ["A", "A", "B", "C", "C"], reps=rep_table({"A": 1, "B": 1, "C": 1})
    )
    labels, reps = retire(instance, instance.reps, np.array([0, 0, 1, 2, 2]), 1, 0, adjacency_lists(instance))
    assert labels.tolist() == [0, 0, 0, 2, 2]
    assert reps.tolist() == [2, 0, 1]
    assert instance.reps.tolist() == [1, 1, 1]  # the instance is never changed


def test_merge_hands_units_and_reps_to_the_heir():
    instance, _, _ = grid_instance(1, 4, [1] * 4, 4)
    reps = instance.reps.copy()
    labels = merge(reps, np.array([0, 1, 2, 3]), 2, 1)
    assert labels.tolist() == [0, 1, 1, 3]
    assert reps.tolist() == [1, 2, 0, 1]


def test_without_territories_drops_retired_ones_and_renumbers_the_rest():
    instance, _, _ = grid_instance(1, 4, [1] * 4, 4)
    instance.reps[:] = [1, 2, 0, 1]
    smaller, labels = without_territories(instance, np.array([0, 1, 1, 3]), instance.reps <= 0)
    assert smaller.territory_ids == ["T001", "T002", "T004"]
    assert smaller.reps.tolist() == [1, 2, 1]
    assert labels.tolist() == [0, 1, 1, 2]
    with pytest.raises(ValueError, match="still holds units"):
        without_territories(instance, np.array([0, 1, 2, 3]), instance.reps <= 0)


def test_a_rep_shifts_from_a_territory_with_too_many_to_one_with_too_few():
    # 1 x 12 line, k = 6 (two cells per rep). A holds 8 cells with 3 reps (+33%), B holds
    # 4 cells with 3 reps (-33%): one rep moving from B to A balances both exactly.
    reference = ["A"] * 8 + ["B"] * 4
    instance, _, _ = grid_instance(1, 12, [1] * 12, 6, reference, reps=rep_table({"A": 3, "B": 3}))
    search, at = border_search(instance, np.array([0] * 8 + [1] * 4))
    assert search.violation() > 0
    assert shift_reps(search, **at) == 1
    assert search.reps.tolist() == [4, 2]
    assert search.violation() == 0
    assert instance.reps.tolist() == [3, 3]  # the search owns its rep counts


def test_no_shift_when_it_would_not_lower_violation():
    # A: 8 cells, 4 reps (balanced); B: 4 cells, 2 reps (balanced): nothing to gain.
    reference = ["A"] * 8 + ["B"] * 4
    instance, _, _ = grid_instance(1, 12, [1] * 12, 6, reference, reps=rep_table({"A": 4, "B": 2}))
    search, at = border_search(instance, np.array([0] * 8 + [1] * 4))
    assert shift_reps(search, **at) == 0


def test_a_territory_keeps_the_reps_its_biggest_unit_needs():
    # k = 6: A is one unit of 1.3 reps' share with 2 reps (-35%), B holds 4.7 with 4 reps
    # (+17.5%). Moving a rep from A to B would lower both excesses (A +30%, B -6%), but a
    # 1.3-rep unit needs two reps whatever the borders: no shift.
    reference = ["A", "B", "B", "B", "B", "B"]
    tam = [1.3, 0.95, 0.95, 0.95, 0.95, 0.9]
    instance, _, _ = grid_instance(1, 6, tam, 6, reference, reps=rep_table({"A": 2, "B": 4}))
    search, at = border_search(instance, np.array([0, 1, 1, 1, 1, 1]))
    assert shift_reps(search, **at) == 0
    assert search.reps.tolist() == [2, 4]


def lumpy_line():
    """1 x 21 line, k = 20: cells 0.8, 0.5, 0.7 then eighteen 1.0s; one rep = 1.0.

    Territories {0} (-20%), {1, 2} (+20%), then one per cell. No border move helps (unit 1
    moving left gives 1.3 and 0.7), but the first two together hold exactly two reps.
    """
    tam = [0.8, 0.5, 0.7] + [1.0] * 18
    instance, adjacency, units = grid_instance(1, 21, tam, 20)
    labels = np.array([0, 1, 1, *range(2, 20)])
    return instance, adjacency, units, labels


def test_a_stuck_territory_of_a_lumpy_unit_merges_with_the_neighbour_that_balances_it():
    instance, _, _, labels = lumpy_line()
    search, at = border_search(instance, labels)
    assert merge_lumpy(search, **at, stuck=np.zeros(20, dtype=bool)) == 0  # not stuck yet: no merge
    assert merge_lumpy(search, **at, stuck=np.ones(20, dtype=bool)) == 1
    assert search.labels[:3].tolist() == [1, 1, 1]
    assert search.reps[:2].tolist() == [0, 2]
    assert search.violation() == 0


def test_no_merge_beyond_the_share_of_reps_a_merged_territory_may_hold():
    # Same shape with k = 4 (cells 0.8, 0.5, 0.7, 1, 1): merging would give a territory
    # half of all reps, more than MERGE_MAX_SHARE.
    instance, _, _ = grid_instance(1, 5, [0.8, 0.5, 0.7, 1.0, 1.0], 4)
    search, at = border_search(instance, np.array([0, 1, 1, 2, 3]))
    assert merge_lumpy(search, **at, stuck=np.ones(4, dtype=bool)) == 0


def test_a_full_multi_rep_territory_gains_the_rep_of_a_retired_donor():
    # 8 x 8 grid of equal cells, k = 5 (12.8 cells per rep). A = columns 0-4 (40 cells) with
    # 2 reps (+56%), B, C, D = columns 5, 6, 7 with one rep each (-37.5%). A and its
    # neighbour B together are +25% per rep: the block is full. A has several reps, so
    # instead of carving, the donor D (which only touches C) gives its rep to A and its
    # cells to C.
    cols = np.tile(np.arange(8), 8)
    names = np.select([cols < 5, cols < 6, cols < 7], ["A", "B", "C"], "D")
    instance, _, _ = grid_instance(
        8, 8, [1] * 64, 5, list(names), reps=rep_table({"A": 2, "B": 1, "C": 1, "D": 1})
    )
    search, at = border_search(instance, np.select([cols < 5, cols < 6, cols < 7], [0, 1, 2], 3))
    assert relocate(search, **at, count=1, pool_reps=True) == 1
    assert search.reps.tolist() == [3, 1, 1, 0]
    assert np.bincount(search.labels, minlength=4).tolist() == [40, 8, 16, 0]


def test_optimize_reports_the_reps_it_moved_and_drops_retired_territories():
    # The lumpy line through the whole optimizer: the first three cells end in one 2-rep
    # territory, so the plan has 19 territories for 20 reps, and the message says so.
    _, adjacency, units, _ = lumpy_line()
    options = OptimizeOptions(targets=TAM_HARD, time_limit_s=3, seed=0, pool_reps=True)
    result = optimize(units, adjacency, n_reps=20, options=options)
    assert result.status == "balanced"
    assert result.report.reps.sum() == 20
    assert len(result.plan.territories) == 19
    first = result.plan.assignment.iloc[0]
    assert (result.plan.assignment.iloc[:3] == first).all()
    assert result.report.reps[first] == 2
    assert contiguity_violations(result.plan, adjacency) == 0
    assert any(
        m.startswith("the optimizer moved reps") and "gave their reps away" in m for m in result.messages
    )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tam=st.lists(st.sampled_from([0.2, 0.5, 1.0, 3.0, 6.0]), min_size=30, max_size=30),
    k=st.integers(min_value=10, max_value=25),
    seed=st.integers(min_value=0, max_value=3),
)
def test_rep_moves_keep_every_unit_once_every_rep_once_and_territories_contiguous(tam, k, seed):
    units = grid_units(5, 6).set_index("unit_id")
    units["tam_usd"] = tam
    adjacency = build_adjacency(units)
    options = OptimizeOptions(
        targets=(BalanceTarget("tam_usd", 0.02, hard=True),), time_limit_s=0.5, seed=seed, pool_reps=True
    )
    try:
        result = optimize(units, adjacency, n_reps=k, options=options)
    except InfeasibleError:
        return  # big units need more reps than k: explained, not searched
    assignment = result.plan.assignment
    assert assignment.notna().all() and assignment.index.equals(units.index)
    assert contiguity_violations(result.plan, adjacency) == 0
    reps = result.report.reps
    assert reps.sum() == k and (reps >= 1).all()
    assert set(reps.index) == set(assignment.unique())


def test_shift_and_merge_leave_the_search_able_to_restore_its_snapshot():
    instance, _, _, labels = lumpy_line()
    search, at = border_search(instance, labels)
    snapshot = search.snapshot()
    merge_lumpy(search, **at, stuck=np.ones(20, dtype=bool))
    search.restore(snapshot)
    assert np.array_equal(search.labels, labels)
    assert search.reps.tolist() == [1.0] * 20


def test_reps_a_territory_loses_go_to_the_territory_that_gained_them_in_the_plan():
    # 1 x 12 line, k = 6: A holds 8 cells with reps R0-R2, B 4 cells with R3-R5. The two
    # cells on their shared border are locked, so no cell can cross it; only a rep can
    # move: B's last rep (R5) goes to A.
    units = grid_units(1, 12).set_index("unit_id")
    units["tam_usd"] = 1.0
    adjacency = build_adjacency(units)
    names = pd.Series(["A"] * 8 + ["B"] * 4, index=units.index)
    reference = Plan(names, rep_table({"A": 3, "B": 3}))
    options = OptimizeOptions(
        targets=TAM_HARD, time_limit_s=1, locked_units={"r0c7": "A", "r0c8": "B"}, pool_reps=True
    )
    result = optimize(units, adjacency, reference=reference, options=options)
    assert result.status == "balanced"
    assert result.report.reps.to_dict() == {"A": 4, "B": 2}
    assert result.plan.territory_reps.to_dict() == {
        "R0": "A",
        "R1": "A",
        "R2": "A",
        "R3": "B",
        "R4": "B",
        "R5": "A",
    }
    assert any("reps per territory A 3 -> 4, B 3 -> 2" in m for m in result.messages)


def test_no_territories_merge_when_multi_rep_territories_are_not_allowed():
    _, adjacency, units, _ = lumpy_line()
    options = OptimizeOptions(targets=TAM_HARD, time_limit_s=2, seed=0, allow_multi_rep=False)
    result = optimize(units, adjacency, n_reps=20, options=options)
    assert len(result.plan.territories) == 20
    assert (result.report.reps == 1).all()
    assert result.status == "infeasible"
