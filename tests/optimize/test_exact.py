"""The exact CP-SAT model agrees with brute force on tiny grids."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

from planner.data.adjacency import build_adjacency
from planner.optimize.exact import CUT_EDGE_COST, OBJ_SCALE, SCALE, solve_exact
from planner.optimize.instance import build_instance
from planner.optimize.options import BalanceTarget, OptimizeOptions
from planner.plans.metrics import unit_points_km
from tests.conftest import grid_units


def tiny_instance(rows, cols, k, tam, tolerance=0.05):
    units = grid_units(rows, cols).set_index("unit_id")
    units["tam_usd"] = np.asarray(tam, dtype=float)
    adjacency = build_adjacency(units)
    options = OptimizeOptions(targets=(BalanceTarget("tam_usd", tolerance),))
    return build_instance(units, adjacency, unit_points_km(units), options, n_reps=k), adjacency


def model_objective(instance, labels) -> float:
    """The exact model's objective for one labelling, computed by hand."""
    share = np.round(instance.share * SCALE).astype(np.int64)
    total = 0.0
    for k in range(instance.n_territories):
        target = round(instance.reps[k] * SCALE)
        coef = max(1, round(instance.weights[0] * OBJ_SCALE / (instance.tolerances[0] * SCALE)))
        total += coef * abs(int(share[labels == k, 0].sum()) - target)
    rows = np.repeat(np.arange(instance.n_units), np.diff(instance.indptr))
    cut = int((labels[rows] != labels[instance.indices]).sum() // 2)
    return total + round(OBJ_SCALE * CUT_EDGE_COST) * cut


def brute_force(instance, adjacency) -> float:
    graph = nx.relabel_nodes(adjacency.to_networkx(), {u: i for i, u in enumerate(adjacency.unit_ids)})
    best = np.inf
    K = instance.n_territories
    for labels in itertools.product(range(K), repeat=instance.n_units):
        labels = np.array(labels)
        if labels[0] != 0 or len(set(labels)) < K:
            continue  # symmetry: unit 0 in territory 0; no empty territory
        if all(nx.is_connected(graph.subgraph(np.flatnonzero(labels == k).tolist())) for k in range(K)):
            best = min(best, model_objective(instance, labels))
    return best


@pytest.mark.parametrize(
    ("rows", "cols", "k", "tam"),
    [
        (2, 3, 2, [1, 2, 3, 4, 5, 6]),
        (2, 3, 3, [4, 1, 1, 4, 1, 1]),
        (3, 3, 3, [1, 1, 1, 1, 1, 1, 1, 1, 1]),
        (3, 3, 2, [9, 1, 1, 1, 1, 1, 1, 1, 9]),
    ],
)
def test_exact_model_matches_brute_force(rows, cols, k, tam):
    instance, adjacency = tiny_instance(rows, cols, k, tam)
    result = solve_exact(instance, compactness_weight=1.0, time_limit_s=20)
    assert result.status == "OPTIMAL"
    assert result.objective == pytest.approx(brute_force(instance, adjacency))
    assert model_objective(instance, result.labels) == pytest.approx(result.objective)


def test_region_with_violation_weight_minimises_violation_where_hard_tolerances_are_infeasible():
    # TAM 1..6 on a 2x3 grid, k = 2: 21 / 2 = 10.5 per territory, so every plan is at least
    # 0.5 / 10.5 = 4.8% off and a hard 1% tolerance has no solution; with violation_weight the
    # model returns the least-violating contiguous plan (10 / 11) instead.
    from planner.optimize.exact import solve_region

    units = grid_units(2, 3).set_index("unit_id")
    units["tam_usd"] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    options = OptimizeOptions(targets=(BalanceTarget("tam_usd", 0.01, hard=True),))
    adjacency = build_adjacency(units)
    instance = build_instance(units, adjacency, unit_points_km(units), options, n_reps=2)
    start = np.array([0, 0, 0, 1, 1, 1])  # rows: 6 vs 15
    everything, both = np.arange(6), np.array([0, 1])
    kwargs = {"compactness_weight": 0.0, "disruption_weight": 0.0, "time_limit_s": 10}
    assert solve_region(instance, start, everything, both, **kwargs).labels is None
    result = solve_region(instance, start, everything, both, violation_weight=20.0, **kwargs)
    assert result.status == "OPTIMAL"
    totals = sorted(np.bincount(result.labels, weights=units["tam_usd"].to_numpy()))
    assert totals == [10.0, 11.0]
    graph = nx.relabel_nodes(adjacency.to_networkx(), {u: i for i, u in enumerate(adjacency.unit_ids)})
    assert all(nx.is_connected(graph.subgraph(np.flatnonzero(result.labels == k).tolist())) for k in (0, 1))


def test_two_workers_give_the_same_plan_for_the_same_seed():
    # A uniform 6x6 grid into 4 territories has many plans of equal cost: racing workers
    # could end on different ones; interleaved search must not.
    instance, _ = tiny_instance(6, 6, 4, [100] * 36)
    runs = [solve_exact(instance, time_limit_s=2.0, seed=3, workers=2) for _ in range(3)]
    assert all(run.labels is not None for run in runs)
    assert all(np.array_equal(run.labels, runs[0].labels) for run in runs[1:])
    assert all(run.deterministic_seconds > 0 for run in runs)
