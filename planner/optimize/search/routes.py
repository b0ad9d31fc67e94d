"""Routes of territories along which excess is passed on, from a territory out of tolerance."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from planner.optimize.search.state import EPS, SearchState
from planner.optimize.work_clock import WorkClock

CHAIN_LENGTH = 4  # longest route of territories a chain passes excess along
CHAIN_ROUTES = 3  # routes tried per territory out of tolerance


def routes(state: SearchState, t: int, length: int, adjacent: dict[int, set[int]]) -> list[list[int]]:
    """Routes from t to its most complementary territories within ``length`` hops, best first.

    Complementary = deviating the other way (negative dot product of deviations in
    tolerance units), so excess passed along a route is absorbed at its end.
    """
    inst = state.instance
    z = state.deviations() * state.w / state.tol
    parent, frontier = {t: -1}, [t]
    for _ in range(length):
        grown = []
        for a in frontier:
            for b in sorted(adjacent.get(a, ())):
                if b not in parent and not inst.frozen_territory[b]:
                    parent[b] = a
                    grown.append(b)
        frontier = grown
    state.clock.charge("visit", len(parent))
    ends = sorted(
        (k for k in parent if k != t and float(z[t] @ z[k]) < 0), key=lambda k: (float(z[t] @ z[k]), k)
    )
    found = []
    for end in ends[:CHAIN_ROUTES]:
        route = [end]
        while parent[route[-1]] != -1:
            route.append(parent[route[-1]])
        found.append(route[::-1])
    return found


def along_routes(
    state: SearchState, clock: WorkClock, deadline: float, length: int, attempt: Callable[[list[int]], int]
) -> int:
    """For each territory out of tolerance (worst first), try ``attempt`` on its routes.

    ``attempt(route)`` passes excess along a route and returns the units it moved (0
    when it undid itself); the first route that moves something is kept. Returns the
    units moved in all.
    """
    moved = 0
    violation = state.territory_violation()
    adjacent = state.territory_graph()
    for t in np.argsort(-violation, kind="stable"):
        t = int(t)
        if violation[t] <= EPS or clock.now() > deadline:
            break
        for route in routes(state, t, length, adjacent):
            passed = attempt(route)
            if passed:
                moved += passed
                violation = state.territory_violation()
                adjacent = state.territory_graph()
                break
    return moved
