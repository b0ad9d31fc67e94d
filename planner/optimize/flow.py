"""Balanced allocation of units to territory centres: a transportation problem (OR-Tools min-cost flow).

Each unit supplies its composite load (one rep's fair share = 1, scaled to integers);
each territory takes exactly its reps' share of the total. A unit may ship to its
``N_NEAREST`` nearest centres and to its reference territory (only to its territory when
locked). Shipping costs the squared distance to the centre (compactness, in units of
the mean squared distance) plus a flat penalty when the unit leaves its reference
territory (disruption). The optimum is balanced by construction but splits some units
between territories. Split units are resolved by iterative rounding: the biggest units
are fixed first, each to the territory among those it ships to with the most room left,
and the flow is solved again around them; smaller units follow, so the rounding error
left is that of small units only. Alternating solves with re-centring (capacitated Lloyd
iterations, as in Hess et al., 1965) make territories compact. A costly hub lets any
unit reach any territory, and a costly overflow arc lets a territory exceed its share
(when fixed units over-fill it), so the flow is always feasible. Contiguity is repaired after.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.spatial import cKDTree

from planner.optimize.instance import Instance, composite_load

N_NEAREST = 12
SUPPLY_SCALE = 1_000_000  # integer flow units for the whole composite load
COST_SCALE = 1_000  # integer cost per unit of flow for one mean squared distance
OVERFLOW_COST = 1_000.0  # cost (in mean squared distances) of the feasibility hub
ROUNDING_THRESHOLDS = (0.25, 0.05, 0.01)  # loads (fair share = 1) fixed in each rounding pass


def territory_centres(instance: Instance, labels: np.ndarray, *, use_homes: bool = False) -> np.ndarray:
    """Weighted centroid of each territory's units (km).

    With ``use_homes``, the rep home where known instead (homes seed the first
    allocation; territories then re-centre on their units).
    """
    K = instance.n_territories
    a = instance.compact_weight
    assigned = labels >= 0
    sums = np.zeros((K, 2))
    np.add.at(sums, labels[assigned], instance.xy_km[assigned] * a[assigned, None])
    mass = np.bincount(labels[assigned], weights=a[assigned], minlength=K)
    centroid = sums / np.maximum(mass, 1e-12)[:, None]
    if not use_homes:
        return centroid
    has_home = np.isfinite(instance.territory_homes_km).all(axis=1)
    return np.where(has_home[:, None], instance.territory_homes_km, centroid)


def _capacities(instance: Instance, supply: np.ndarray) -> np.ndarray:
    """Integer load each territory must take: its reps' share (frozen ones: exactly their units)."""
    frozen, locked = instance.frozen_territory, instance.locked
    capacity = np.zeros(instance.n_territories)
    for k in np.flatnonzero(frozen):
        capacity[k] = supply[locked == k].sum()
    open_reps = np.where(frozen, 0.0, instance.reps)
    capacity[~frozen] = open_reps[~frozen] / open_reps.sum() * (supply.sum() - capacity[frozen].sum())
    capacity = np.floor(capacity).astype(np.int64)
    capacity[np.argmax(np.where(frozen, -1, capacity))] += supply.sum() - capacity.sum()
    return capacity


def _arcs(instance: Instance, centres: np.ndarray, fixed: np.ndarray, disruption_penalty: float):
    """Candidate (unit, territory) arcs and their integer costs."""
    n, K = instance.n_units, instance.n_territories
    xy = instance.xy_km
    n_near = min(N_NEAREST, K)
    _, near = cKDTree(centres).query(xy, k=n_near)
    near = near.reshape(n, n_near)
    ref = instance.reference
    has_ref = ref >= 0
    free = fixed < 0
    units = np.concatenate([np.repeat(np.flatnonzero(free), n_near), np.flatnonzero(has_ref & free)])
    terrs = np.concatenate([near[free].ravel(), ref[has_ref & free]])
    keep = ~instance.frozen_territory[terrs]
    units, terrs = units[keep], terrs[keep]
    pinned = np.flatnonzero(~free)
    units, terrs = np.concatenate([units, pinned]), np.concatenate([terrs, fixed[pinned]])
    pairs = np.unique(units.astype(np.int64) * K + terrs)
    units, terrs = pairs // K, pairs % K
    scale = float(((xy - centres[near[:, 0]]) ** 2).sum(axis=1).mean()) or 1.0
    cost = ((xy[units] - centres[terrs]) ** 2).sum(axis=1) / scale
    cost += disruption_penalty * ((ref[units] >= 0) & (ref[units] != terrs))
    return units, terrs, np.round(cost * COST_SCALE).astype(np.int64), near[:, 0]


def _solve_flow(instance, supply, capacity, units, terrs, costs, fixed):
    """Min-cost flow; returns the flow on each (unit, territory) arc."""
    n, K = instance.n_units, instance.n_territories
    solver = min_cost_flow.SimpleMinCostFlow()
    sink, hub = n + K, n + K + 1
    territory_nodes = (n + np.arange(K)).astype(np.int32)
    solver.add_arcs_with_capacity_and_unit_cost(
        units.astype(np.int32), (n + terrs).astype(np.int32), supply[units], costs
    )
    solver.add_arcs_with_capacity_and_unit_cost(
        territory_nodes, np.full(K, sink, dtype=np.int32), capacity, np.zeros(K, dtype=np.int64)
    )
    # Overflow: a territory may take more than its share at a high cost, so fixed units that
    # over-fill it never make the flow infeasible.
    solver.add_arcs_with_capacity_and_unit_cost(
        territory_nodes,
        np.full(K, sink, dtype=np.int32),
        np.full(K, supply.sum(), dtype=np.int64),
        np.full(K, int(OVERFLOW_COST * COST_SCALE), dtype=np.int64),
    )
    free = np.flatnonzero(fixed < 0)
    solver.add_arcs_with_capacity_and_unit_cost(
        free.astype(np.int32),
        np.full(len(free), hub, dtype=np.int32),
        supply[free],
        np.full(len(free), int(OVERFLOW_COST * COST_SCALE), dtype=np.int64),
    )
    open_nodes = territory_nodes[~instance.frozen_territory]
    solver.add_arcs_with_capacity_and_unit_cost(
        np.full(len(open_nodes), hub, dtype=np.int32),
        open_nodes,
        capacity[~instance.frozen_territory],
        np.zeros(len(open_nodes), dtype=np.int64),
    )
    supplies = np.concatenate([supply, np.zeros(K, dtype=np.int64), [-supply.sum(), 0]])
    solver.set_nodes_supplies(np.arange(n + K + 2, dtype=np.int32), supplies)
    status = solver.solve()
    if status != solver.OPTIMAL:
        return None
    return np.asarray(solver.flows(np.arange(len(units))))


def allocate(instance: Instance, centres: np.ndarray, disruption_penalty: float) -> np.ndarray:
    """Territory index per unit, balanced on the composite load, compact around ``centres``.

    ``disruption_penalty`` is the cost, in mean squared distances, of moving one unit of
    load away from its reference territory.
    """
    load = composite_load(instance)
    supply = np.round(load / load.sum() * SUPPLY_SCALE).astype(np.int64)
    capacity = _capacities(instance, supply)
    fixed = instance.locked.copy()
    per_share = supply.sum() / instance.reps.sum()
    best = fixed.copy()
    nearest = None
    for threshold in (*ROUNDING_THRESHOLDS, None):
        units, terrs, costs, nearest = _arcs(instance, centres, fixed, disruption_penalty)
        flows = _solve_flow(instance, supply, capacity, units, terrs, costs, fixed)
        if flows is None:  # cannot happen: the hub and overflow arcs keep it feasible
            raise RuntimeError("the allocation flow has no solution")
        order = np.argsort(flows, kind="stable")
        best = fixed.copy()
        best_flow = np.zeros(instance.n_units, dtype=np.int64)
        best[units[order]] = terrs[order]  # the largest flow of each unit is written last
        best_flow[units[order]] = flows[order]
        if threshold is None:
            break
        room = capacity - np.bincount(fixed[fixed >= 0], weights=supply[fixed >= 0], minlength=len(capacity))
        for u in np.flatnonzero((fixed < 0) & (load >= threshold))[
            np.argsort(-load[(fixed < 0) & (load >= threshold)])
        ]:
            receivers = terrs[(units == u) & (flows > 0)] if best_flow[u] < supply[u] else [best[u]]
            if not len(receivers):
                continue
            target = max(receivers, key=lambda k: room[k])
            if room[target] >= 0.5 * supply[u] or per_share <= 0:
                fixed[u] = target
                room[target] -= supply[u]
    unassigned = best < 0
    best[unassigned] = nearest[unassigned]
    return best
