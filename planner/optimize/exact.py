"""Exact territory design with CP-SAT, for small instances and for re-solving a few territories.

Model, for a set of units U and territories T (``solve_region``):

- ``x[u,k]`` = 1 when unit u is in territory k; each unit in exactly one territory;
  locked units fixed; a territory holds at least one unit.
- Contiguity by single-commodity flow: each territory has one root (a unit of U, or,
  when the territory also has units outside U, an *anchor* node standing for that
  outside part); the root sends flow along adjacency arcs whose both ends are in the
  territory, and every other unit of the territory consumes one unit of flow. A unit
  can only be reached through its own territory, so every territory is connected.
- Balance: for each territory k and measure m, ``e[k,m] >= |sum_u s[u,m] x[u,k] - r_k|``
  (shares scaled to integers, one rep's fair share = ``SCALE``); hard tolerances add
  ``|...| <= tau_m r_k``.
- Objective: ``sum_k sum_m (w_m / tau_m) e[k,m]`` (balance, in tolerance units)
  + compactness ``lambda_c x 0.02 x (cut edges)`` (adjacent units in different territories,
  a perimeter proxy; 50 cut edges weigh as much as one tolerance of deviation)
  + disruption ``lambda_d sum x[u,k] v_u [k != ref(u)]``, all scaled to integers.

Solved with CP-SAT (time limit, workers and seed passed explicitly). In tests the exact
mode is compared with brute force on tiny grids, and with the heuristic on small ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from ortools.sat.python import cp_model

from planner.optimize.instance import Instance

SCALE = 10_000  # one rep's fair share, in integer units
OBJ_SCALE = 100_000  # objective units per tolerance of deviation
CUT_EDGE_COST = 0.02  # one cut edge costs 2% of a tolerance of deviation (x compactness weight)
HARD_FACTOR = 10.0  # with violation_weight: violating a hard tolerance costs this many times more


@dataclass(frozen=True)
class ExactResult:
    """Outcome of a CP-SAT solve: labels (or None), status, objective, bound, wall and deterministic seconds.

    ``labels`` covers the whole instance; ``seconds`` is wall-clock time and
    ``deterministic_seconds`` CP-SAT's deterministic time (what the search clock counts).
    """

    labels: np.ndarray | None
    status: str
    objective: float
    bound: float
    seconds: float
    deterministic_seconds: float


def solve_region(
    instance: Instance,
    labels: np.ndarray,
    units: np.ndarray,
    territories: np.ndarray,
    *,
    compactness_weight: float,
    disruption_weight: float,
    time_limit_s: float,
    seed: int = 0,
    workers: int = 1,
    hint: bool = True,
    violation_weight: float | None = None,
) -> ExactResult:
    """Re-assign ``units`` among ``territories`` optimally; all other units keep ``labels``.

    Every unit of ``units`` must currently belong to one of ``territories``. Returns new
    labels for the whole instance (None when no solution was found in time).

    With ``violation_weight``, tolerances are not constraints: each territory's deviation
    beyond its tolerance costs ``violation_weight`` times more than deviation within it,
    so the model always has a solution (the current labels) and minimises violation
    first. This is how the local search re-solves a few territories it cannot balance.

    ``time_limit_s`` is CP-SAT's deterministic time (reproducible runs; ``ExactResult``
    reports the deterministic time used); the wall clock is capped at five times it.
    """
    inst = instance
    units = np.asarray(units)
    territories = np.asarray(territories)
    in_region = np.zeros(inst.n_units, dtype=bool)
    in_region[units] = True
    model = cp_model.CpModel()
    x = {}
    for u in units:
        for k in territories:
            if inst.locked[u] >= 0 and inst.locked[u] != k:
                continue
            x[u, k] = model.new_bool_var(f"x_{u}_{k}")
        model.add_exactly_one(x[u, k] for k in territories if (u, k) in x)

    # Anchors: the part of each territory outside the region, as one extra node.
    n_region = len(units)
    big_m = n_region
    anchored = {}
    for k in territories:
        outside = np.flatnonzero((labels == k) & ~in_region)
        if len(outside):
            anchored[int(k)] = set(outside.tolist())
    # Directed arcs inside the region, plus anchor -> region arcs.
    indptr, indices = inst.indptr, inst.indices
    arcs: list[tuple[int, int]] = []
    anchor_arcs: dict[int, list[int]] = {int(k): [] for k in anchored}
    for u in units:
        for v in indices[indptr[u] : indptr[u + 1]]:
            if in_region[v]:
                arcs.append((int(u), int(v)))
            else:
                k = int(labels[v])
                if k in anchored and v in anchored[k] and u not in anchor_arcs[k]:
                    anchor_arcs[k].append(int(u))
    flow_vars: dict[tuple[int, int, int], cp_model.IntVar] = {}
    anchor_vars: dict[tuple[int, int], cp_model.IntVar] = {}
    root_vars: dict[tuple[int, int], cp_model.IntVar] = {}
    for k in territories:
        k = int(k)
        inflow: dict[int, list] = {int(u): [] for u in units}
        outflow: dict[int, list] = {int(u): [] for u in units}
        for u, v in arcs:
            if (u, k) not in x or (v, k) not in x:
                continue
            f = model.new_int_var(0, big_m, f"f_{u}_{v}_{k}")
            flow_vars[u, v, k] = f
            model.add(f <= big_m * x[u, k])
            model.add(f <= big_m * x[v, k])
            outflow[u].append(f)
            inflow[v].append(f)
        members = [u for u in units if (u, k) in x]
        if k in anchored:
            for u in anchor_arcs[k]:
                if (u, k) in x:
                    f = model.new_int_var(0, big_m, f"a_{u}_{k}")
                    anchor_vars[u, k] = f
                    model.add(f <= big_m * x[u, k])
                    inflow[u].append(f)
            for u in members:
                model.add(sum(inflow[u]) - sum(outflow[u]) >= x[u, k])
        else:
            roots = {u: model.new_bool_var(f"r_{u}_{k}") for u in members}
            root_vars.update({(u, k): r for u, r in roots.items()})
            model.add_exactly_one(roots.values())
            for u in members:
                model.add_implication(roots[u], x[u, k])
                model.add(sum(inflow[u]) - sum(outflow[u]) >= x[u, k] - (big_m + 1) * roots[u])

    extra_hints: list[tuple[cp_model.IntVar, int]] = []
    # Balance.
    share_int = np.round(inst.share * SCALE).astype(np.int64)
    objective = []
    for k in territories:
        k = int(k)
        outside = np.flatnonzero((labels == k) & ~in_region)
        base = (
            share_int[outside].sum(axis=0) if len(outside) else np.zeros(share_int.shape[1], dtype=np.int64)
        )
        for j in range(len(inst.measures)):
            target = round(inst.reps[k] * SCALE)
            total = sum(int(share_int[u, j]) * x[u, k] for u in units if (u, k) in x) + int(base[j])
            bound = int(share_int[:, j].sum()) + target
            e = model.new_int_var(0, bound, f"e_{k}_{j}")
            model.add(e >= total - target)
            model.add(e >= target - total)
            current = int(share_int[labels == k, j].sum())
            extra_hints.append((e, abs(current - target)))
            coef = max(1, round(inst.weights[j] * OBJ_SCALE / (inst.tolerances[j] * SCALE)))
            allowed = int(inst.tolerances[j] * target)
            if violation_weight is not None:
                excess = model.new_int_var(0, bound, f"v_{k}_{j}")
                model.add(excess >= e - allowed)
                extra_hints.append((excess, max(abs(current - target) - allowed, 0)))
                weight = violation_weight * (HARD_FACTOR if inst.hard[j] else 1.0)
                objective.append((max(1, round(coef * weight)), excess))
            elif inst.hard[j]:
                model.add(e <= allowed)
            objective.append((coef, e))
    # Compactness: cut edges (adjacent units in different territories), a perimeter proxy.
    cut_terms = []
    seen_edges = set()
    for u in units:
        for v in indices[indptr[u] : indptr[u + 1]]:
            v = int(v)
            if in_region[v]:
                if (v, int(u)) in seen_edges:
                    continue
                seen_edges.add((int(u), v))
                cut = model.new_bool_var(f"cut_{u}_{v}")
                extra_hints.append((cut, int(labels[u] != labels[v])))
                for k in territories:
                    xu, xv = x.get((u, k)), x.get((v, k))
                    if xu is not None and xv is not None:
                        model.add(cut >= xu - xv)
                    elif xu is not None or xv is not None:
                        model.add(cut >= (xu if xu is not None else xv))
                cut_terms.append(cut)
            elif (u, int(labels[v])) in x:
                cut_terms.append(1 - x[u, int(labels[v])])
            else:
                cut_terms.append(1)
    linear = []
    for (u, k), var in x.items():
        if inst.reference[u] >= 0 and inst.reference[u] != k:
            linear.append((disruption_weight * inst.disrupt_weight[u], var))
    cut_cost = round(compactness_weight * OBJ_SCALE * CUT_EDGE_COST)
    model.minimize(
        sum(coef * e for coef, e in objective)
        + cut_cost * sum(cut_terms)
        + sum(round(c * OBJ_SCALE) * var for c, var in linear)
    )
    if hint:
        _hint_current(model, labels, units, territories, x, flow_vars, anchor_vars, root_vars, inst)
        for var, value in extra_hints:
            model.add_hint(var, value)
    solver = cp_model.CpSolver()
    # Deterministic time makes runs reproducible; the wall-clock cap is a safety net.
    solver.parameters.max_deterministic_time = float(time_limit_s)
    solver.parameters.max_time_in_seconds = float(time_limit_s) * 5
    solver.parameters.num_workers = int(workers)
    # Parallel workers race and share solutions, so two runs can end on different plans of
    # equal cost; interleaved search runs them in deterministic turns: same seed, same plan.
    solver.parameters.interleave_search = int(workers) > 1
    solver.parameters.random_seed = int(seed)
    # No repair_hint: on OR-Tools 9.x it can abort the whole process ("Check failed:
    # heuristics.fixed_search != nullptr"), seen in this test suite with short limits.
    # Presolve may otherwise remove the hinted solution and start from scratch.
    solver.parameters.keep_all_feasible_solutions_in_presolve = bool(hint)
    status = solver.solve(model)
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ExactResult(
            None, name, float("nan"), float("nan"), solver.wall_time, solver.deterministic_time
        )
    new = labels.copy()
    for (u, k), var in x.items():
        if solver.value(var):
            new[u] = k
    return ExactResult(
        new,
        name,
        solver.objective_value,
        solver.best_objective_bound,
        solver.wall_time,
        solver.deterministic_time,
    )


def _hint_current(model, labels, units, territories, x, flow_vars, anchor_vars, root_vars, inst) -> None:
    """Hint the current labels as a complete solution: roots, and flows along BFS trees."""
    for (u, k), var in x.items():
        model.add_hint(var, int(labels[u] == k))
    in_region = set(int(u) for u in units)
    indptr, indices = inst.indptr, inst.indices
    for k in territories:
        k = int(k)
        members = [int(u) for u in units if labels[u] == k]
        if not members:
            continue
        member_set = set(members)
        anchored_members = [u for u in members if (u, k) in anchor_vars]
        sources = anchored_members if anchored_members else members[:1]
        parent = {u: None for u in sources}
        order = list(sources)
        for u in order:  # BFS inside the territory, within the region
            for v in indices[indptr[u] : indptr[u + 1]]:
                v = int(v)
                if v in member_set and v in in_region and v not in parent:
                    parent[v] = u
                    order.append(v)
        size = {u: 1 for u in order}
        for u in reversed(order):
            if parent[u] is not None:
                size[parent[u]] += size[u]
        if not anchored_members:
            for (u, kk), var in root_vars.items():
                if kk == k:
                    model.add_hint(var, int(u == sources[0]))
        for (a, b, kk), var in flow_vars.items():
            if kk == k:
                model.add_hint(var, size[b] if parent.get(b) == a else 0)
        for (u, kk), var in anchor_vars.items():
            if kk == k:
                model.add_hint(var, size[u] if u in sources else 0)


def solve_exact(
    instance: Instance,
    *,
    compactness_weight: float = 1.0,
    disruption_weight: float = 0.0,
    time_limit_s: float = 60.0,
    seed: int = 0,
    workers: int = 2,
    start: np.ndarray | None = None,
) -> ExactResult:
    """Solve the whole instance exactly (practical up to a few hundred units)."""
    labels = start if start is not None else np.where(instance.start >= 0, instance.start, 0)
    units = np.arange(instance.n_units)
    # Interchangeable territories (same reps, no reference, locks or homes): fix the first
    # unit's territory to cut the K! symmetric copies of every plan.
    symmetric = (
        len(set(instance.reps.tolist())) == 1
        and not (instance.reference >= 0).any()
        and not (instance.locked >= 0).any()
    )
    if symmetric and start is None:
        instance = replace(instance, locked=np.where(units == 0, 0, -1))
    return solve_region(
        instance,
        labels,
        units,
        np.arange(instance.n_territories),
        compactness_weight=compactness_weight,
        disruption_weight=disruption_weight,
        time_limit_s=time_limit_s,
        seed=seed,
        workers=workers,
        hint=start is not None,
    )
