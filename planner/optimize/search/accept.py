"""Acceptance: named predicates that decide whether a move, or a group of moves, may be kept.

Each is a plain function of the state (or makes one), so ``trial.keep_if(...)`` can say
which one refused. Connectivity checks charge their visits to the search clock.
"""

from __future__ import annotations

import numpy as np

from planner.optimize.search.state import EPS, Check, SearchState


def within_budget(state: SearchState) -> bool:
    """The disruption budget (if any) is respected."""
    return state.within_budget()


def lowers_violation(before: float) -> Check:
    """A check that total tolerance violation fell below ``before``."""

    def lowers_total_violation(state: SearchState) -> bool:
        return state.violation() < before - EPS

    return lowers_total_violation


def keeps_contiguity(state: SearchState, u: int, a: int) -> bool:
    """Would territory ``a`` stay connected without unit ``u``? (local breadth-first search)."""
    labels, neighbors = state.labels, state.neighbors
    inside = [v for v in neighbors[u] if labels[v] == a]
    if len(inside) <= 1:
        return True
    targets = set(inside[1:])
    seen = {u, inside[0]}
    stack = [inside[0]]
    while stack and targets:
        x = stack.pop()
        for y in neighbors[x]:
            if y in seen or labels[y] != a:
                continue
            targets.discard(y)
            seen.add(y)
            stack.append(y)
    state.clock.charge("visit", len(seen))
    return not targets


def territories_connected(state: SearchState, labels: np.ndarray, group: tuple[int, ...]) -> bool:
    """True when every territory of ``group`` is connected (and not empty) under ``labels``."""
    for k in group:
        members = np.flatnonzero(labels == k)
        state.clock.charge("pass", state.instance.n_units)
        state.clock.charge("visit", len(members))
        if not len(members):
            return False
        seen, stack = {int(members[0])}, [int(members[0])]
        while stack:
            for v in state.neighbors[stack.pop()]:
                if v not in seen and labels[v] == k:
                    seen.add(v)
                    stack.append(v)
        if len(seen) != len(members):
            return False
    return True


def exchange_keeps_contiguity(
    state: SearchState, pulled: list[int], pushed: list[int], t: int, b: int
) -> bool:
    """Whether ``state.exchange(pulled, pushed, t, b)`` would leave t and b connected (labels alone)."""
    labels = state.labels
    labels[pulled], labels[pushed] = t, b
    connected = territories_connected(state, labels, (t, b))
    labels[pulled], labels[pushed] = b, t
    return connected
