"""The search state: incremental tallies equal a recount, trials keep or undo, refusals are named."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from planner.optimize.instance import build_instance
from planner.optimize.options import BalanceTarget, OptimizeOptions
from planner.optimize.search.accept import keeps_contiguity, lowers_violation, within_budget
from planner.plans.metrics import unit_points_km
from planner.plans.plan import Plan
from tests.conftest import border_search, grid_with_bookings

TALLIES = ("load", "count", "mass", "first", "second", "moved")


def grid_state(rows: int, cols: int, seed: int, *, max_disruption: float | None = None):
    """Column halves of a random grid (TAM hard, bookings soft) as reference; None if a unit is too big."""
    rng = np.random.default_rng(seed)
    units, adjacency = grid_with_bookings(
        rows, cols, rng.integers(1, 50, rows * cols), rng.integers(0, 9, rows * cols)
    )
    halves = np.tile(np.arange(cols) * 2 // cols, rows)
    options = OptimizeOptions(
        targets=(BalanceTarget("tam_usd", 0.05, hard=True), BalanceTarget("bookings_usd", 0.1)),
        max_disruption=max_disruption,
    )
    reference = Plan(
        units.index.to_series().map(dict(zip(units.index, [f"T{h}" for h in halves], strict=True)))
    )
    instance = build_instance(units, adjacency, unit_points_km(units), options, reference=reference)
    if (instance.reference < 0).any():
        return None  # a unit too big for one rep starts unassigned
    state, at = border_search(instance, instance.reference)
    state.max_disruption = max_disruption
    return state, at, rng


def tallies(state) -> dict[str, np.ndarray]:
    return {name: getattr(state, name).copy() for name in TALLIES} | {
        "disruption": np.array(state.disruption)
    }


def assert_tallies_equal(a: dict, b: dict) -> None:
    for name in a:
        assert np.allclose(a[name], b[name], atol=1e-9), name


def random_border_moves(state, rng, n: int) -> None:
    """Up to ``n`` random moves of a border unit into an adjacent territory (contiguity not checked)."""
    for _ in range(n):
        u = int(rng.integers(state.instance.n_units))
        others = [int(state.labels[v]) for v in state.neighbors[u] if state.labels[v] != state.labels[u]]
        if others and state.count[state.labels[u]] > 1:
            state.apply(u, int(state.labels[u]), others[0])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.integers(2, 5), cols=st.integers(2, 6), seed=st.integers(0, 10_000), n=st.integers(1, 12))
def test_incremental_tallies_equal_a_recount_from_the_labels(rows, cols, seed, n):
    built = grid_state(rows, cols, seed)
    assume(built is not None)
    state, _, rng = built
    random_border_moves(state, rng, n)
    moved = tallies(state)
    state.reset(state.labels)
    assert_tallies_equal(moved, tallies(state))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.integers(2, 5),
    cols=st.integers(2, 6),
    seed=st.integers(0, 10_000),
    n=st.integers(1, 12),
    relabel_at=st.integers(0, 12),
)
def test_a_trial_not_kept_leaves_labels_reps_and_tallies_as_they_were(rows, cols, seed, n, relabel_at):
    built = grid_state(rows, cols, seed)
    assume(built is not None)
    state, _, rng = built
    labels, reps, before = state.labels.copy(), state.reps.copy(), tallies(state)
    with state.trial():
        random_border_moves(state, rng, relabel_at)
        if relabel_at < n:  # a whole new labelling in the middle of the moves, with other rep counts
            state.relabel(rng.permutation(state.labels), reps=state.reps + 1)
        random_border_moves(state, rng, n - relabel_at)
    assert np.array_equal(state.labels, labels)
    assert np.array_equal(state.reps, reps)
    assert_tallies_equal(before, tallies(state))


def test_a_kept_trial_keeps_its_moves():
    state, _, _ = grid_state(3, 4, 1)
    u = int(np.flatnonzero(state.labels == 0)[-1])
    with state.trial() as trial:
        state.apply(u, 0, 1)
        trial.keep()
    assert state.labels[u] == 1 and trial.refused_by is None


def test_a_refusal_names_the_check_that_refused():
    state, _, _ = grid_state(3, 4, 2, max_disruption=0.0)  # no unit may leave the reference plan
    u = int(np.flatnonzero(state.labels == 0)[-1])
    with state.trial() as trial:
        state.apply(u, 0, 1)
        assert not trial.keep_if(lowers_violation(np.inf), within_budget)
    assert trial.refused_by == "within budget"
    assert state.labels[u] == 0 and state.disruption == 0


def test_trials_do_not_nest():
    state, _, _ = grid_state(2, 2, 0)
    with state.trial(), pytest.raises(RuntimeError, match="do not nest"), state.trial():
        pass


def test_the_instance_is_never_changed_by_the_search():
    state, _, _ = grid_state(3, 4, 3)
    reps = state.instance.reps.copy()
    state.change_reps(0, 1.0)
    state.relabel(state.labels, reps=state.reps + 1)
    assert np.array_equal(state.instance.reps, reps)
    assert state.current_instance().reps.tolist() == (state.reps).tolist()


def test_a_unit_whose_removal_splits_its_territory_is_refused():
    # A 1 x 3 line all in territory 0 but the last unit: removing the middle unit of
    # territory 0 = {0, 1} leaves {0}, connected; on a line 0 0 0 | 1 the middle one splits it.
    state, _, _ = grid_state(1, 4, 4)
    state.relabel(np.array([0, 0, 0, 1]))
    assert not keeps_contiguity(state, 1, 0)
    assert keeps_contiguity(state, 2, 0) and keeps_contiguity(state, 0, 0)
