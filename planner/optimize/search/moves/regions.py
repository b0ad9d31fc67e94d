"""Region re-solves: the worst territories and their neighbours re-solved exactly by CP-SAT."""

from __future__ import annotations

import numpy as np

from planner.optimize.exact import solve_region
from planner.optimize.search.accept import lowers_violation, territories_connected, within_budget
from planner.optimize.search.state import EPS, SearchState
from planner.optimize.work_clock import WorkClock

REGION_UNITS = 120  # units re-solved at once by CP-SAT; the rest of each territory stays put
REGION_NEIGHBOURS = 3  # most complementary neighbours considered for each region
REGION_SECONDS = 1.0  # CP-SAT deterministic time per region
VIOLATION_WEIGHT = 20.0  # in a region, deviation beyond tolerance costs this much more


def _region_groups(state: SearchState, t: int) -> list[tuple[int, ...]]:
    """Territory groups to re-solve around ``t``: t with 1-2 of its most complementary neighbours.

    Complementary = deviating the other way, measure by measure (in tolerance units),
    so that units passed between them can fix both.
    """
    adjacent = [b for b in state.territory_graph().get(t, ()) if not state.instance.frozen_territory[b]]
    if not adjacent:
        return []
    z = state.deviations() * state.w / state.tol
    fit = {b: -float(z[t] @ z[b]) for b in adjacent}
    best = sorted(adjacent, key=lambda b: (-fit[b], b))[:REGION_NEIGHBOURS]
    pairs = [(t, best[i], best[j]) for i in range(len(best)) for j in range(i + 1, len(best))]
    return [tuple(sorted(g)) for g in pairs + [(t, b) for b in best]]


def _region_units(state: SearchState, group: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Up to ``REGION_UNITS`` units of ``group``, nearest (in hops) to the borders between them."""
    labels, neighbors = state.labels, state.neighbors
    inside = np.isin(labels, group)
    state.clock.charge("pass", state.instance.n_units)
    state.clock.charge("visit", int(inside.sum()))
    border = [
        int(u)
        for u in np.flatnonzero(inside)
        if any(inside[v] and labels[v] != labels[u] for v in neighbors[u])
    ]
    rng.shuffle(border)
    seen = set(border[:REGION_UNITS])
    queue = list(seen)
    for u in queue:
        if len(seen) >= REGION_UNITS:
            break
        for v in neighbors[u]:
            if inside[v] and v not in seen and len(seen) < REGION_UNITS:
                seen.add(v)
                queue.append(v)
    return np.array(sorted(seen), dtype=int)


def resolve_regions(
    state: SearchState, *, rng: np.random.Generator, clock: WorkClock, deadline: float
) -> int:
    """Re-solve the worst territories with their neighbours by CP-SAT until balanced or out of time.

    Picks the territory furthest out of tolerance and 1-2 complementary neighbours, frees
    the units nearest their shared borders, and lets
    :func:`planner.optimize.exact.solve_region` (hinted with the current plan) minimise
    violation first, then deviation and cut edges. A result is kept when it is
    contiguous and lowers total violation. This balances several measures at once, which
    one-unit moves and swaps cannot when units are lumpy. Returns the number of units
    that changed territory.
    """
    tried: set[tuple[int, ...]] = set()
    changed = 0
    seed = 0
    while state.violation() > EPS and clock.now() < deadline - 0.1:
        violation = state.territory_violation()
        group = None
        for t in np.argsort(-violation, kind="stable"):
            if violation[t] <= EPS:
                break
            group = next((g for g in _region_groups(state, int(t)) if g not in tried), None)
            if group is not None:
                break
        if group is None:
            break
        tried.add(group)
        units = _region_units(state, group, rng)
        seed += 1
        result = solve_region(
            state.current_instance(),
            state.labels,
            units,
            np.array(group),
            compactness_weight=0.0,
            disruption_weight=0.0,
            time_limit_s=min(REGION_SECONDS, max(deadline - clock.now(), 0.05)),
            seed=seed,
            workers=1,
            violation_weight=VIOLATION_WEIGHT,
        )
        clock.charge("model", len(units) * len(group))
        clock.charge("cpsat", result.deterministic_seconds)
        if result.labels is None or not territories_connected(state, result.labels, group):
            continue
        old = state.labels
        lowers = lowers_violation(state.violation())
        with state.trial() as trial:
            state.relabel(result.labels)
            trial.keep_if(lowers, within_budget)
        if trial.kept:
            changed += int((old != state.labels).sum())
            tried = {g for g in tried if not set(g) & set(group)}
    return changed
