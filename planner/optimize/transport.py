"""How much load must cross each border to balance a plan whose territories stay where they are.

The least share of the load that must change territory to balance a plan is the sum of
the territories' excesses (the transport floor), reached only when every over-full
territory borders an under-full one or territories may be relocated. When an over-full
territory has no under-filled neighbour, its excess has to pass through balanced
territories on the way: a min-cost flow over the territory graph (sources: excess, sinks:
deficit, one unit of cost per border crossed) says how much must cross each border, with
the least total. Loads are the instance's composite load (one rep's fair share = 1).
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from planner.optimize.instance import Instance, composite_load

FLOW_SCALE = 1_000_000  # integer flow units per rep's fair share
TARGET_SHARE = 0.5  # flows bring every territory within this share of its (tightest hard) tolerance


def territory_pairs(instance: Instance, labels: np.ndarray, taking_part: np.ndarray) -> np.ndarray:
    """Ordered pairs (a, b) of adjacent territories under ``labels``, both in the mask ``taking_part``."""
    rows = np.repeat(np.arange(instance.n_units), np.diff(instance.indptr))
    a, b = labels[rows], labels[instance.indices]
    cross = (a != b) & taking_part[a] & taking_part[b]
    return np.unique(np.column_stack([a[cross], b[cross]]), axis=0)


def border_flows(instance: Instance, labels: np.ndarray, reps: np.ndarray) -> list[tuple[int, int, float]]:
    """Load (fair shares) to pass from territory a to adjacent territory b: ``(a, b, amount)``, largest first.

    Territories whose load is within ``TARGET_SHARE`` of the tightest hard tolerance
    neither send nor receive; frozen territories take no part. Excess and deficit are
    matched as far as the smaller of the two goes.
    """
    K = instance.n_territories
    load = np.bincount(labels, weights=composite_load(instance), minlength=K)
    hard = instance.hard if instance.hard.any() else np.arange(len(instance.measures)) == 0
    slack = TARGET_SHARE * instance.tolerances[hard].min() * reps
    excess = np.where(instance.frozen_territory, 0.0, np.maximum(load - reps - slack, 0.0))
    deficit = np.where(instance.frozen_territory, 0.0, np.maximum(reps - slack - load, 0.0))
    return flows_between(instance, labels, excess, deficit)


def flows_between(
    instance: Instance, labels: np.ndarray, excess: np.ndarray, deficit: np.ndarray
) -> list[tuple[int, int, float]]:
    """Least-crossing flows over the territory graph from ``excess`` to ``deficit`` (per territory).

    Returns ``(a, b, amount)``, largest first; excess and deficit are matched as far as
    the smaller total goes. Frozen territories take no part.
    """
    K = instance.n_territories
    total = min(excess.sum(), deficit.sum())
    if total <= 0:
        return []
    supply = np.round(excess / excess.sum() * total * FLOW_SCALE).astype(np.int64)
    demand = np.round(deficit / deficit.sum() * total * FLOW_SCALE).astype(np.int64)
    demand[np.argmax(demand)] += supply.sum() - demand.sum()  # rounding: supplies must sum to zero
    pairs = territory_pairs(instance, labels, ~instance.frozen_territory)
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(
        pairs[:, 0].astype(np.int32),
        pairs[:, 1].astype(np.int32),
        np.full(len(pairs), int(total * FLOW_SCALE) + 1, dtype=np.int64),
        np.ones(len(pairs), dtype=np.int64),
    )
    solver.set_nodes_supplies(np.arange(K, dtype=np.int32), supply - demand)
    if solver.solve() != solver.OPTIMAL:
        return []
    flows = np.asarray(solver.flows(np.arange(len(pairs)))) / FLOW_SCALE
    order = np.argsort(-flows, kind="stable")
    return [(int(pairs[i, 0]), int(pairs[i, 1]), float(flows[i])) for i in order if flows[i] > 0]


def crossing_share(instance: Instance, labels: np.ndarray, reps: np.ndarray) -> float:
    """Share of the load that crosses a border when the excess is passed on as :func:`border_flows` says.

    Each unit of load is counted once per border it crosses. It estimates what a
    realignment that keeps every territory where it is must move; relocating a territory
    to where the excess is can move less (down to the transport floor).
    """
    return sum(amount for *_, amount in border_flows(instance, labels, reps)) / float(reps.sum())
