"""Fit the prices of :mod:`planner.optimize.work_clock` from runs of the optimizer benchmark instances.

Usage: ``python -m benchmarks.calibrate_clock [INSTANCE ...]`` (default: every instance of
``benchmarks.optimizer_case``). Runs the optimizer on each instance while logging, about
every 50 ms of wall time, how much of each kind of work the search has counted; fits the
prices (microseconds per item, non-negative least squares on the logged increments, each
instance weighted the same) and
prints them with, per instance, the wall seconds against the seconds the fitted and the
current prices give (both before ``planner.optimize.work_clock.MARGIN``). Paste the fitted prices
into ``planner.optimize.work_clock.PRICES`` when the search changes; run it on an otherwise idle
machine.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
from scipy.optimize import nnls

from benchmarks.optimizer_case import INSTANCES, balance_targets, load, run_terrain
from planner.data.adjacency import build_adjacency
from planner.optimize import work_clock

SAMPLE_S = 0.05  # wall seconds between logged samples


def logged_run(instance: str) -> tuple[np.ndarray, np.ndarray]:
    """Counts per kind (rows: samples) and wall seconds of the benchmark's Terrain run on ``instance``."""
    k, _, time_limit = INSTANCES[instance]
    units, reference, reps, data = load(instance)
    adjacency = build_adjacency(units)
    kinds = list(work_clock.PRICES)
    samples: list[list[float]] = []
    walls: list[float] = []
    original_now = work_clock.WorkClock.now
    last = [0.0]

    def logging_now(clock: work_clock.WorkClock) -> float:
        wall = time.perf_counter() - clock.wall_start
        if wall - last[0] >= SAMPLE_S:
            last[0] = wall
            samples.append([clock.counts[kind] for kind in kinds])
            walls.append(wall)
        return original_now(clock)

    work_clock.WorkClock.now = logging_now
    try:
        run_terrain(units, adjacency, k, balance_targets(instance), reference, reps, data, time_limit)
    finally:
        work_clock.WorkClock.now = original_now
    return np.array(samples), np.array(walls)


def main(instances: list[str]) -> None:
    warnings.simplefilter("ignore")
    kinds = list(work_clock.PRICES)
    current = np.array([work_clock.PRICES[kind] for kind in kinds])
    runs = {}
    for instance in instances:
        print(f"running {instance} ...", file=sys.stderr, flush=True)
        runs[instance] = logged_run(instance)
    rows, targets = [], []
    for counts, walls in runs.values():
        weight = 1.0 / np.sqrt(len(walls))  # every instance weighs the same, however long it ran
        rows.append(weight * np.diff(counts, axis=0, prepend=0.0))
        targets.append(weight * np.diff(walls, prepend=0.0))
    design, wall = np.vstack(rows), np.concatenate(targets)
    scale = np.maximum(design.max(axis=0), 1.0)  # columns of comparable size for the solver
    fitted, _ = nnls(design / scale, wall * 1e6)
    fitted = fitted / scale
    print("| kind | current price (us) | fitted price (us) |")
    print("|---|---|---|")
    for kind, now, new in zip(kinds, current, fitted, strict=True):
        print(f"| {kind} | {now:.4g} | {new:.4g} |")
    print()
    print("| instance | wall s | clock s (current prices) | clock s (fitted prices) |")
    print("|---|---|---|---|")
    for instance, (counts, walls) in runs.items():
        total = counts[-1]
        print(
            f"| {instance} | {walls[-1]:.1f} | {total @ current * 1e-6:.1f} | {total @ fitted * 1e-6:.1f} |"
        )


if __name__ == "__main__":
    main(sys.argv[1:] or list(INSTANCES))
