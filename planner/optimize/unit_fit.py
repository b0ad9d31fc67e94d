"""Proof that a unit fits no territory within tolerance.

A territory is a connected group of units. When every connected group holding unit ``u``
is either lighter than one rep's lower band or heavier than its upper band on a hard
measure, no plan can put ``u`` in a territory within tolerance, whatever the search does:
lumpy units on a peninsula or an island chain (Long Island's counties, joined to the
mainland by one short border) are the usual case.

Any such group lies within the units reachable from ``u`` by paths lighter than the upper
band (node-weighted shortest paths), a small region around lumpy units. A CP-SAT model over
that region (one Boolean per unit, connectivity by a single-commodity flow from ``u``)
decides whether a group within the band exists; "infeasible" is the proof.
"""

from __future__ import annotations

import heapq

import numpy as np
from ortools.sat.python import cp_model

from planner.optimize.instance import Instance

MAX_REGION_UNITS = 300  # a larger region around the unit is not searched (no proof either way)
SECONDS = 0.5  # CP-SAT time per unit (deterministic time)
SCALE = 100_000  # integer weight units per rep's fair share
CHECKED_UNITS = 5  # units of out-of-tolerance territories checked for a proof after a run


def reachable(instance: Instance, unit: int, limit: float, weight: np.ndarray) -> np.ndarray:
    """Units joined to ``unit`` by a path whose total ``weight`` (both ends included) is at most ``limit``."""
    best = {unit: float(weight[unit])}
    heap = [(best[unit], unit)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > best.get(u, np.inf):
            continue
        for v in instance.indices[instance.indptr[u] : instance.indptr[u + 1]].tolist():
            nd = d + float(weight[v])
            if nd <= limit and nd < best.get(v, np.inf):
                best[v] = nd
                heapq.heappush(heap, (nd, v))
    return np.array(sorted(best), dtype=np.int64)


def fits_within(instance: Instance, unit: int, reps: int = 1) -> bool | None:
    """Whether some connected group holding ``unit`` is within every hard band of ``reps`` reps.

    True or False when decided (False is a proof that no plan can balance its territory),
    None when the region around the unit is too big or CP-SAT ran out of time.
    """
    hard = np.flatnonzero(instance.hard)
    if not len(hard):
        return None
    share = instance.share[:, hard]
    lower = (1.0 - instance.tolerances[hard]) * reps
    upper = (1.0 + instance.tolerances[hard]) * reps
    if (share[unit] > upper).any():
        return False
    # A path heavier than the upper band on any hard measure cannot lie inside a group.
    region = reachable(instance, unit, float(upper[0]), share[:, 0])
    if len(region) > MAX_REGION_UNITS:
        return None
    position = {int(u): i for i, u in enumerate(region)}
    model = cp_model.CpModel()
    take = [model.NewBoolVar("") for _ in region]
    model.Add(take[position[unit]] == 1)
    weights = np.round(share[region] * SCALE).astype(np.int64)
    for j in range(len(hard)):
        total = sum(int(w) * x for w, x in zip(weights[:, j], take, strict=True))
        model.Add(total >= int(np.ceil(lower[j] * SCALE)))
        model.Add(total <= int(np.floor(upper[j] * SCALE)))
    n = len(region)
    inflow: list[list] = [[] for _ in region]
    outflow: list[list] = [[] for _ in region]
    for i, u in enumerate(region.tolist()):
        for v in instance.indices[instance.indptr[u] : instance.indptr[u + 1]].tolist():
            if v in position:
                f = model.NewIntVar(0, n - 1, "")
                model.Add(f <= (n - 1) * take[i])
                model.Add(f <= (n - 1) * take[position[v]])
                outflow[i].append(f)
                inflow[position[v]].append(f)
    for i in range(n):
        if i != position[unit]:
            model.Add(sum(inflow[i]) - sum(outflow[i]) == take[i])
    solver = cp_model.CpSolver()
    solver.parameters.max_deterministic_time = SECONDS
    solver.parameters.num_workers = 1
    status = solver.Solve(model)
    if status == cp_model.INFEASIBLE:
        return False
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return True
    return None


def unfit_units(instance: Instance, labels: np.ndarray, reps: np.ndarray) -> list[str]:
    """Sentences naming units of territories out of hard tolerance that no plan can fit.

    Checks the ``CHECKED_UNITS`` biggest units (primary measure) of those territories.
    """
    hard = instance.hard
    if not hard.any():
        return []
    load = np.zeros((instance.n_territories, len(hard)))
    np.add.at(load, labels, instance.share)
    r = np.maximum(reps, 1e-12)[:, None]
    off = ((np.abs(load / r - 1.0) > instance.tolerances + 1e-9) & hard).any(axis=1) & (reps > 0)
    candidates = np.flatnonzero(off[labels])
    candidates = candidates[np.argsort(-instance.share[candidates, 0], kind="stable")][:CHECKED_UNITS]
    names = [m for m, h in zip(instance.measures, hard, strict=True) if h]
    bands = ", ".join(f"+/-{t:.1%} on {m}" for m, t in zip(names, instance.tolerances[hard], strict=True))
    sentences = []
    for u in candidates.tolist():
        territory = int(labels[u])
        if fits_within(instance, u, round(reps[territory])) is False:
            sentences.append(
                f"unit {instance.unit_ids[u]} cannot be in any territory within {bands}: every "
                f"connected group of units holding it is too light or too heavy for "
                f"{round(reps[territory])} rep(s) (proven by CP-SAT over the units within reach)"
            )
    return sentences
