"""A realignment planned on the territory graph: which territories to relocate, what crosses each border.

Rebalancing a plan moves load from over-full territories to under-full ones. When they
are not neighbours the load passes through the territories between (each crossing moves
it again), unless an under-full territory far away is dissolved into its neighbours and
re-formed inside the over-full one (relocation: it moves its own load plus the share it is
given). Which is cheaper depends on the whole map, so it is decided on the territory
graph, one node per territory, by a small mixed-integer program (OR-Tools with SCIP):

- flows ``f[a, b] >= 0`` of primary load across each border of the current plan (each
  crossing counts as moved);
- ``relocate[d]`` (binary) for each under-full territory that may be dissolved: all of its
  load leaves, and it is re-formed by carving one rep's share out of a host;
- ``hosted[h]`` (integer): territories re-formed inside host ``h``, carved from it.

Without a budget it finds the least moved load that brings every territory within
``TARGET_SHARE`` of the tolerance; with a budget (share of the primary measure) it
minimises the total excess beyond tolerance plus the worst territory's. The model
ignores unit sizes and contiguity, so its least move is an estimate, not a bound; the plan
it returns is carried out unit by unit (:func:`carry_out`) and the search finishes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp

from planner.optimize.instance import Instance
from planner.optimize.search.accept import keeps_contiguity, within_budget
from planner.optimize.search.relocation import carve, dissolvable, dissolve
from planner.optimize.search.state import SearchState
from planner.optimize.transport import flows_between, territory_pairs

TARGET_SHARE = 0.5  # without a budget, the plan brings every territory within this share of the tolerance
MODEL_SECONDS = 10.0  # safety cap on the solver (the model is a few hundred variables)
MAX_HOSTED = 8  # territories re-formed inside one host at most
ROUNDS = 4  # plans made and carried out at most, each on what the last one left
CLOSE_ENOUGH = 0.25  # a push stops this share of the tolerance short of its amount


@dataclass(frozen=True)
class RealignmentPlan:
    """What the territory-level model decided (loads in reps' fair shares of the primary measure).

    ``final`` is the load each territory should end with (0 for a relocated one);
    ``hosted[h]`` counts the territories re-formed inside ``h`` and ``carved[h]`` the load
    carved out of it; ``moved`` is the model's moved share of the primary measure (flows
    plus carved shares); ``size`` counts the model's variables.
    """

    relocated: tuple[int, ...]
    hosted: dict[int, int]
    carved: dict[int, float]
    final: np.ndarray
    moved: float
    size: int


def _primary_is_disruption(instance: Instance) -> bool:
    """True when disruption is counted on the primary measure (the model's flows are in it)."""
    primary = instance.share[:, 0]
    return bool(np.allclose(instance.disrupt_weight, primary / primary.sum(), atol=1e-12))


def plan_realignment(
    instance: Instance, labels: np.ndarray, reps: np.ndarray, budget: float | None
) -> RealignmentPlan | None:
    """The territory-level plan for rebalancing ``labels``; None when there is nothing to plan.

    ``budget`` is the share of the primary measure the plan may move (None: no budget).

    Nothing is planned when the primary measure is not hard, disruption is counted on
    another measure, every territory is already within tolerance, or the model has no
    solution (e.g. every under-full territory is locked and none borders the excess).
    """
    if not instance.hard[0] or not _primary_is_disruption(instance):
        return None
    K = instance.n_territories
    tol = float(instance.tolerances[0])
    load = np.bincount(labels, weights=instance.share[:, 0], minlength=K)
    active = (reps > 0) & ~instance.frozen_territory
    if not (np.abs(load - reps) > tol * reps + 1e-9)[active].any():
        return None
    pairs = territory_pairs(instance, labels, active)
    may_relocate = dissolvable(instance, reps) & active & (load < 1.0 - tol)
    counts = np.bincount(labels, minlength=K)
    may_host = active & (load >= (reps + 1) * (1.0 - tol)) & (counts >= 2)

    solver = pywraplp.Solver.CreateSolver("SCIP")
    solver.SetTimeLimit(int(MODEL_SECONDS * 1000))
    flow = [solver.NumVar(0.0, solver.infinity(), "") for _ in pairs]
    relocate = {int(d): solver.BoolVar("") for d in np.flatnonzero(may_relocate)}
    hosted = {int(h): solver.IntVar(0, min(MAX_HOSTED, int(load[h])), "") for h in np.flatnonzero(may_host)}
    carved = {h: solver.NumVar(0.0, solver.infinity(), "") for h in hosted}
    net = [0.0] * K
    for (x, y), f in zip(pairs.tolist(), flow, strict=True):
        net[x] -= f
        net[y] += f
    final = [load[t] + net[t] - carved.get(t, 0.0) for t in range(K)]
    for h, n in hosted.items():
        solver.Add(carved[h] >= (1.0 - tol) * n)
        solver.Add(carved[h] <= (1.0 + tol) * n)
    solver.Add(sum(hosted.values()) == sum(relocate.values()))
    moved = sum(flow) + sum(carved.values())
    band = TARGET_SHARE * tol if budget is None else tol
    big = float(load.sum())
    outside = []
    worst = solver.NumVar(0.0, solver.infinity(), "")
    for t in np.flatnonzero(active).tolist():
        kept = 1 - relocate[t] if t in relocate else 1
        gone = relocate.get(t, 0)
        solver.Add(final[t] >= 0.0)
        solver.Add(final[t] <= big * kept)  # a relocated territory leaves nothing behind
        if budget is None:
            solver.Add(final[t] <= (1.0 + band) * reps[t])
            solver.Add(final[t] >= (1.0 - band) * reps[t] * kept)
            continue
        over = solver.NumVar(0.0, solver.infinity(), "")
        solver.Add(over >= final[t] - (1.0 + band) * reps[t])
        solver.Add(over >= (1.0 - band) * reps[t] - final[t] - big * gone)
        solver.Add(worst >= over / reps[t])
        outside.append(over)
    if budget is None:
        solver.Minimize(moved)
    else:
        solver.Add(moved <= budget * float(reps.sum()))
        solver.Minimize(sum(outside) + worst)
    clock_items = len(pairs) + len(relocate) + 2 * len(hosted) + K
    if solver.Solve() not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        return None
    return RealignmentPlan(
        relocated=tuple(d for d, v in relocate.items() if v.solution_value() > 0.5),
        hosted={h: round(n.solution_value()) for h, n in hosted.items() if n.solution_value() > 0.5},
        carved={h: c.solution_value() for h, c in carved.items() if hosted[h].solution_value() > 0.5},
        final=np.array(
            [final[t] if isinstance(final[t], float) else final[t].solution_value() for t in range(K)]
        ),
        moved=float(moved.solution_value()) / float(reps.sum()),
        size=clock_items,
    )


def carry_out(state: SearchState, plan: RealignmentPlan, rng: np.random.Generator) -> bool:
    """Make ``plan`` on the state's plan: relocate, then push each border's flow unit by unit.

    Relocated territories are dissolved into their neighbours and carved out of their
    hosts along random spanning trees; then the least-crossing flows from the loads to the
    plan's final loads are pushed across borders, sources first, each by units on the
    border that keep the giver connected (units returning to their reference territory
    first, then those nearest the receiver), each while it brings the border's amount
    closer. Stops pushing where the budget would be exceeded. Returns False (the state
    unchanged) when a relocation cannot be made.
    """
    inst = state.instance
    before = state.snapshot()
    labels = state.labels.copy()
    for d in plan.relocated:
        labels = dissolve(inst, state.reps, labels, d, state.neighbors)
    target = plan.final.copy()
    waiting = list(plan.relocated)
    for h, n in sorted(plan.hosted.items()):
        each = plan.carved[h] / n
        for _ in range(n):
            d = waiting.pop(0)
            left = float(inst.share[labels == h, 0].sum()) - each
            carved = carve(inst, state.reps, labels, h, d, rng, keep=left)
            if carved is None:
                return False
            labels, target[d] = carved, each
    state.reset(labels)
    state.clock.charge("relocate", inst.n_units * (1 + len(plan.relocated)))
    if not state.within_budget():
        state.restore(before)
        return False
    load = np.bincount(state.labels, weights=inst.share[:, 0], minlength=inst.n_territories)
    active = (state.reps > 0) & ~inst.frozen_territory
    flows = flows_between(
        inst,
        state.labels,
        np.where(active, np.maximum(load - target, 0.0), 0.0),
        np.where(active, np.maximum(target - load, 0.0), 0.0),
    )
    for a, b, amount in _sources_first(flows):
        _push(state, a, b, amount)
    return True


def _sources_first(flows: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """The flows ordered so that a territory passes load on only after receiving what it passes."""
    incoming: dict[int, int] = {}
    for _, b, _ in flows:
        incoming[b] = incoming.get(b, 0) + 1
    ready = sorted({a for a, _, _ in flows} - set(incoming))
    order, seen = [], set()
    while ready:
        t = ready.pop(0)
        for flow in flows:
            if flow[0] == t and flow not in seen:
                seen.add(flow)
                order.append(flow)
                incoming[flow[1]] -= 1
                if incoming[flow[1]] == 0:
                    ready.append(flow[1])
    return order + [flow for flow in flows if flow not in seen]


def _push(state: SearchState, a: int, b: int, amount: float) -> float:
    """Move units of ``a`` on its border with ``b`` to ``b`` until ``amount`` fair shares went over."""
    inst = state.instance
    share = inst.share[:, 0]
    slack = CLOSE_ENOUGH * float(inst.tolerances[0])
    sent = 0.0
    while amount - sent > slack and state.count[a] > 1:
        members = state.members(a)
        on_border = [
            int(u)
            for u in members
            if state.movable[u] and any(state.labels[v] == b for v in state.neighbors[u])
        ]
        centre = state.first[b] / max(state.mass[b], 1e-12)
        fits = [u for u in on_border if share[u] < 2.0 * (amount - sent)]  # brings the amount closer
        fits.sort(key=lambda u: (inst.reference[u] != b, float(np.hypot(*(state.xy[u] - centre)))))
        chosen = next((u for u in fits if keeps_contiguity(state, u, a)), None)
        if chosen is None:
            break
        with state.trial() as trial:
            state.apply(chosen, a, b)
            trial.keep_if(within_budget)
        if not trial.kept:
            break
        sent += float(share[chosen])
    return sent


def realign(state: SearchState, rng: np.random.Generator) -> int:
    """Plan on the territory graph and carry the plan out, up to ``ROUNDS`` times; returns rounds kept.

    Each round plans what the last left (within what is left of the budget) and is kept
    only when it lowered the excess beyond tolerance, worst territory and total.
    """
    kept = 0
    for _ in range(ROUNDS):
        before = state.snapshot()
        excess = _excess_key(state)
        left = None if state.max_disruption is None else state.max_disruption - state.disruption
        if left is not None and left <= 0:
            break
        plan = plan_realignment(state.instance, state.labels, state.reps, left)
        if plan is None:
            break
        state.clock.charge("territory_model", plan.size)
        if not carry_out(state, plan, rng) or _excess_key(state) >= excess:
            state.restore(before)
            break
        kept += 1
    return kept


def _excess_key(state: SearchState) -> tuple[float, float]:
    """Worst and total excess beyond the hard tolerances, in tolerance units."""
    return state.worst_hard_excess(), state.hard_violation()
