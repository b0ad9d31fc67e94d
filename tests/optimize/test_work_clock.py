"""The deterministic search clock: same seed and inputs, same plan, whatever the machine's load."""

from __future__ import annotations

import time

import networkx as nx
import numpy as np
import pytest

from planner.optimize import work_clock
from planner.optimize.api import optimize
from planner.optimize.options import BalanceTarget, OptimizeOptions
from planner.optimize.search import SearchState
from planner.optimize.work_clock import WorkClock
from tests.conftest import grid_with_bookings


def test_the_clock_reads_priced_work_and_each_reading_costs_a_tick():
    clock = WorkClock(prices={"tick": 2.0, "scored": 0.5, "apply": 10.0})
    clock.charge("scored", 1000)
    clock.charge("apply", 3)
    assert clock.now() == pytest.approx(work_clock.MARGIN * (2.0 + 500.0 + 30.0) * 1e-6)
    assert clock.now() == pytest.approx(work_clock.MARGIN * (4.0 + 500.0 + 30.0) * 1e-6)
    assert clock.counts == {"tick": 2, "scored": 1000, "apply": 3}
    assert not clock.capped


def test_the_wall_cap_reads_as_infinitely_late(monkeypatch):
    monkeypatch.setattr(work_clock, "WALL_CAP", 0.0)
    monkeypatch.setattr(work_clock, "WALL_CAP_SLACK_S", 0.0)
    clock = WorkClock()
    clock.cap_wall(10.0)
    time.sleep(0.001)
    assert clock.now() == float("inf") and clock.capped


def two_measure_grid():
    """A 24x24 grid with lumpy TAM and sparse bookings: not balanced within a short time limit."""
    rng = np.random.default_rng(5)
    tam = rng.lognormal(4.0, 0.8, 24 * 24)
    bookings = rng.lognormal(3.0, 1.0, 24 * 24) * (rng.random(24 * 24) < 0.4)
    return grid_with_bookings(24, 24, tam, bookings)


def both_hard(time_limit_s: float) -> OptimizeOptions:
    targets = tuple(BalanceTarget(m, 0.01, hard=True) for m in ("tam_usd", "bookings_usd"))
    return OptimizeOptions(targets=targets, time_limit_s=time_limit_s, seed=4)


def test_same_seed_same_plan_when_the_time_limit_stops_the_search_on_a_busier_machine(monkeypatch):
    units, adjacency = two_measure_grid()
    first = optimize(units, adjacency, n_reps=12, options=both_hard(0.3))
    assert not first.stats.converged  # the time limit stopped it: where a wall clock would differ

    move = SearchState._move

    def busy_move(self, u, a, b):  # the same work, on a machine that is busy elsewhere
        until = time.perf_counter() + 3e-4
        while time.perf_counter() < until:
            pass
        move(self, u, a, b)

    monkeypatch.setattr(SearchState, "_move", busy_move)
    second = optimize(units, adjacency, n_reps=12, options=both_hard(0.3))
    assert first.plan.assignment.equals(second.plan.assignment)
    assert not any("wall clock" in message for message in second.messages)


def test_a_run_stopped_by_the_wall_cap_still_returns_a_whole_plan_and_says_it_may_differ(monkeypatch):
    monkeypatch.setattr(work_clock, "WALL_CAP", 0.0)
    monkeypatch.setattr(work_clock, "WALL_CAP_SLACK_S", 0.0)
    units, adjacency = two_measure_grid()
    result = optimize(units, adjacency, n_reps=12, options=both_hard(5.0))
    assignment = result.plan.assignment
    assert assignment.notna().all() and assignment.index.equals(units.index)
    graph = adjacency.to_networkx()
    for territory in result.plan.territories:
        assert nx.is_connected(graph.subgraph(result.plan.units_of(territory)))
    assert any("stopped by the wall clock" in message for message in result.messages)
    assert result.seconds < 5.0
