"""Realignment by transport: how much load must cross each border, and border units that carry it.

The least share of the load that must change territory to balance a plan is the sum of
the territories' excesses (the transport floor). When an over-full territory has no
under-filled neighbour, its excess has to pass through balanced territories on the way;
a min-cost flow over the territory graph (sources: excess, sinks: deficit, one unit of
cost per border crossed) says how much must cross each border, with the least total. The
flows are then carried by moving units across each border, those with the most neighbours
on the receiving side first, so that the receiving territory grows as a compact front and
both stay connected. This realigns a plan while moving close to the floor; the border search
then finishes the balance within the disruption budget. Loads are the instance's composite
load (one rep's fair share = 1).
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from planner.optimize.instance import Instance, composite_load

FLOW_SCALE = 1_000_000  # integer flow units per rep's fair share
TARGET_SHARE = 0.5  # flows bring every territory within this share of its (tightest hard) tolerance


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
    total = min(excess.sum(), deficit.sum())
    if total <= 0:
        return []
    supply = np.round(excess / excess.sum() * total * FLOW_SCALE).astype(np.int64)
    demand = np.round(deficit / deficit.sum() * total * FLOW_SCALE).astype(np.int64)
    demand[np.argmax(demand)] += supply.sum() - demand.sum()  # rounding: supplies must sum to zero
    rows = np.repeat(np.arange(instance.n_units), np.diff(instance.indptr))
    a, b = labels[rows], labels[instance.indices]
    cross = (a != b) & ~instance.frozen_territory[a] & ~instance.frozen_territory[b]
    pairs = np.unique(np.column_stack([a[cross], b[cross]]), axis=0)
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


def _keeps_connected(labels: np.ndarray, neighbors: list[list[int]], u: int, a: int) -> bool:
    """Would territory ``a`` stay connected without unit ``u``? (search from one of its neighbours in a)."""
    inside = [v for v in neighbors[u] if labels[v] == a]
    if len(inside) <= 1:
        return True
    targets, seen, stack = set(inside[1:]), {u, inside[0]}, [inside[0]]
    while stack and targets:
        for y in neighbors[stack.pop()]:
            if y not in seen and labels[y] == a:
                targets.discard(y)
                seen.add(y)
                stack.append(y)
    return not targets


def carry_flows(
    instance: Instance,
    labels: np.ndarray,
    neighbors: list[list[int]],
    flows: list[tuple[int, int, float]],
    *,
    max_disruption: float | None = None,
) -> np.ndarray:
    """Labels with units moved across each border to carry ``flows`` (see :func:`border_flows`).

    For each flow, units of the sending territory that touch the receiving one move over,
    the unit with the most neighbours already in the receiving territory first (ties: the
    one whose load best fits what is left to carry), while the sender stays connected and
    keeps a unit, locked units stay, and the share of the disruption measure moved stays
    within ``max_disruption``.
    """
    labels = labels.copy()
    weight = composite_load(instance)
    count = np.bincount(labels, minlength=instance.n_territories)
    movable = instance.locked < 0
    has_ref = instance.reference >= 0
    disruption = float(instance.disrupt_weight[has_ref & (labels != instance.reference)].sum())
    budget = np.inf if max_disruption is None else max_disruption + 1e-12
    for a, b, amount in flows:
        left = amount
        refused: set[int] = set()
        while left > 1e-9 and count[a] > 1:
            front = {
                u
                for v in np.flatnonzero(labels == b)
                for u in neighbors[v]
                if labels[u] == a and movable[u] and u not in refused
            }
            if not front:
                break
            grip = {u: sum(labels[v] == b for v in neighbors[u]) for u in front}
            u = max(front, key=lambda u: (grip[u], -abs(weight[u] - left), -u))
            if weight[u] > 2.0 * left:
                refused.add(u)
                continue
            change = (
                instance.disrupt_weight[u]
                * has_ref[u]
                * (float(b != instance.reference[u]) - float(a != instance.reference[u]))
            )
            if disruption + change > budget or not _keeps_connected(labels, neighbors, u, a):
                refused.add(u)
                continue
            labels[u] = b
            count[a] -= 1
            count[b] += 1
            disruption += change
            left -= weight[u]
    return labels
