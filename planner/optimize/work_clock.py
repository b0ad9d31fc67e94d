"""Deterministic search clock: the same seed and inputs give the same plan on a busy machine too.

Why. A search that stops when the wall clock says so stops after a different number of
steps whenever the machine is busier (another process, a shared CI runner), so the same
seed gives different plans (measured in ``docs/optimizer.md``). Approved plans are
audited, and a planner who re-runs the optimizer must get the plan that was approved.

How. The search counts its work instead: kinds of elementary steps (scored candidate
moves, visited neighbours, passes over all units, units of random spanning trees, CP-SAT's
own deterministic time, ...) each priced in microseconds as measured on the reference
machine (2 cores; ``benchmarks/calibrate_clock.py`` fits the prices from logged runs).
The clock reads the priced work, so ``time_limit_s`` means seconds of the reference
machine's work, as CP-SAT's ``max_deterministic_time`` does; the prices carry a margin
(``MARGIN``) so that on that machine a run ends within its time limit. Every reading also
costs a small tick, so a loop that checks the clock always ends.

A wall-clock cap (``WALL_CAP`` times the limit, plus ``WALL_CAP_SLACK_S``) still stops a
run on a much slower or overloaded machine; such a run is marked ``capped`` and may not be
reproducible, and the optimizer says so.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

# Price of each kind of work, microseconds per item on the reference machine
# (fitted by benchmarks/calibrate_clock.py on the benchmark instances).
PRICES: Mapping[str, float] = {
    "tick": 1.0,  # one reading of the clock (kept above zero: every loop that reads it ends)
    "call": 253.0,  # one vectorised scoring call (numpy overhead)
    "scored": 0.88,  # one candidate move or swap scored in a vectorised call
    "visit": 0.1,  # one unit or neighbour visited in a Python loop (kept above zero)
    "apply": 40.0,  # one unit moved, with the checks and re-scoring around it
    "pass": 0.0072,  # one unit (or adjacency entry) in a numpy pass over the whole map
    "tree": 2.1,  # one unit of a random spanning tree and its cut sums
    "reset": 0.22,  # one unit when every tally is recomputed
    "relocate": 0.73,  # one unit of the map when a territory is relocated
    "model": 1940.0,  # one (unit, territory) pair of a CP-SAT region model
    "cpsat": 1.83e6,  # one second of CP-SAT deterministic time
    "construct": 1.75,  # one (unit, territory) pair when the first plan is built
    "territory_model": 150.0,  # one variable of the territory-level realignment model
}
# No margin on the fitted prices: docs/optimizer.md says why (wall time of identical work varies).
MARGIN = 1.0
WALL_CAP = 3.0  # the wall clock stops a run after this many times its time limit ...
WALL_CAP_SLACK_S = 5.0  # ... plus this many seconds


class WorkClock:
    """Seconds of priced work since creation; see the module docstring."""

    def __init__(self, prices: Mapping[str, float] = PRICES) -> None:
        self.prices = {kind: MARGIN * price for kind, price in prices.items()}
        self.counts = dict.fromkeys(self.prices, 0.0)
        self.work_us = 0.0
        self.wall_start = time.perf_counter()
        self.wall_deadline = float("inf")
        self.capped = False

    def cap_wall(self, limit_s: float) -> None:
        """Stop (read as infinitely late) once the wall clock passes the cap for a limit of ``limit_s``."""
        self.wall_deadline = time.perf_counter() + WALL_CAP * limit_s + WALL_CAP_SLACK_S

    def charge(self, kind: str, amount: float = 1.0) -> None:
        """Count ``amount`` items of work of ``kind`` (a key of the prices)."""
        self.counts[kind] += amount
        self.work_us += self.prices[kind] * amount

    def now(self) -> float:
        """Seconds of work so far (each reading costs one tick); infinite once the wall cap passed."""
        self.charge("tick")
        if time.perf_counter() > self.wall_deadline:
            self.capped = True
            return float("inf")
        return self.work_us * 1e-6

    def wall_seconds(self) -> float:
        """Wall-clock seconds since creation."""
        return time.perf_counter() - self.wall_start
