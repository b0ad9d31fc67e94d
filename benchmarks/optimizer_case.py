"""One optimizer benchmark case in its own process.

Usage: ``python -m benchmarks.optimizer_case INSTANCE METHOD``.

Prints one JSON line: wall time, peak memory, a fingerprint of the plan (to compare
re-runs), and the plan's metrics computed by :func:`planner.plans.metrics.plan_report` (the same
functions for every method).
Instances: ``counties50``, ``counties50hard``, ``counties50bookings`` (demo counties, k = 50,
from the demo's current plan; TAM hard and bookings soft, both hard, bookings alone hard with
TAM only reported),
``counties200``, ``voronoi10k``, ``voronoi40k`` (k = 500). Methods: ``terrain``,
``gerrychain`` (``recursive_tree_part`` balanced on the first target's measure: bookings
in ``counties50bookings``, TAM elsewhere), ``spopt`` (``Skater`` with a TAM floor).
"""

from __future__ import annotations

import hashlib
import json
import random
import resource
import sys
import time
import warnings

import pandas as pd

from benchmarks.instances import voronoi_units
from planner.data.adjacency import build_adjacency
from planner.optimize.api import optimize, protected_unit_locks
from planner.optimize.options import BalanceTarget, OptimizeOptions
from planner.plans.metrics import plan_report
from planner.plans.plan import Plan

INSTANCES = {
    # name: (k, targets as (measure, tolerance, hard), first one balanced by the baselines, time limit s);
    # hard None: not a target, only reported against that tolerance
    "counties50": (50, (("tam_usd", 0.01, True), ("bookings_usd", 0.03, False)), 10.0),
    "counties50hard": (50, (("tam_usd", 0.01, True), ("bookings_usd", 0.03, True)), 10.0),
    "counties50bookings": (50, (("bookings_usd", 0.03, True), ("tam_usd", 0.01, None)), 10.0),
    "counties200": (200, (("tam_usd", 0.02, True), ("bookings_usd", 0.05, False)), 20.0),
    "voronoi10k": (500, (("tam_usd", 0.02, True), ("accounts", 0.05, False)), 60.0),
    "voronoi40k": (500, (("tam_usd", 0.02, True), ("accounts", 0.05, False)), 110.0),
}


def load(name: str):
    if name.startswith("counties"):
        from planner.data.demo import load_demo

        data = load_demo()
        return data.units, data.plan, data.reps, data
    n = 10_000 if name == "voronoi10k" else 40_000
    return voronoi_units(n, seed=7, sigma=0.5), None, None, None


def balance_targets(instance: str) -> tuple[BalanceTarget, ...]:
    """The optimizer's targets for ``instance`` (the reported-only measures left out)."""
    _, specs, _ = INSTANCES[instance]
    return tuple(BalanceTarget(m, tol, hard=hard) for m, tol, hard in specs if hard is not None)


def run_terrain(units, adjacency, k, targets, reference, reps, data, time_limit):
    locks = protected_unit_locks(data) if data is not None and k == 50 else {}
    options = OptimizeOptions(targets=targets, time_limit_s=time_limit, locked_units=locks, seed=0)
    start_ref = reference if k == 50 else None
    result = optimize(
        units, adjacency, n_reps=k, reference=start_ref, reps=reps if k == 50 else None, options=options
    )
    return result.plan, result.report.reps


def run_gerrychain(units, adjacency, k, targets, time_limit):
    from gerrychain import Graph
    from gerrychain.partition import recursive_tree_part

    graph = adjacency.to_networkx()
    for unit_id, value in units[targets[0].measure].items():
        graph.nodes[unit_id]["tam"] = float(value)
    graph = Graph.from_networkx(graph)
    total = float(units[targets[0].measure].sum())
    assignment = recursive_tree_part(
        graph,
        range(k),
        pop_target=total / k,
        pop_col="tam",
        epsilon=targets[0].tolerance,
        rng=random.Random(0),
    )
    return Plan(pd.Series({u: f"G{p:03d}" for u, p in assignment.items()}).reindex(units.index)), None


def run_spopt(units, adjacency, k, targets, time_limit):
    """PySAL spopt Skater: k contiguous regions, homogeneous in TAM, each at least n/(2k) units.

    spopt has no k-region method with a floor on a measure's sum, so balance is not its goal:
    it is the regionalisation baseline for contiguity, compactness and speed.
    """
    from libpysal.weights import W
    from spopt.region import Skater

    position = {u: i for i, u in enumerate(units.index)}
    weights = W(
        {i: [position[v] for v in adjacency.neighbors(u)] for u, i in position.items()}, silence_warnings=True
    )
    frame = units.reset_index(drop=True)
    frame = frame.assign(tam_std=(frame["tam_usd"] - frame["tam_usd"].mean()) / frame["tam_usd"].std())
    model = Skater(frame, weights, ["tam_std"], n_clusters=k, floor=max(1, len(units) // (2 * k)))
    model.solve()
    return Plan(pd.Series([f"S{label:03d}" for label in model.labels_], index=units.index)), None


def main(instance: str, method: str) -> None:
    warnings.simplefilter("ignore")
    k, specs, time_limit = INSTANCES[instance]
    units, reference, reps, data = load(instance)
    adjacency = build_adjacency(units)
    targets = balance_targets(instance)
    start = time.perf_counter()
    if method == "terrain":
        plan, rep_counts = run_terrain(units, adjacency, k, targets, reference, reps, data, time_limit)
    elif method == "gerrychain":
        plan, rep_counts = run_gerrychain(units, adjacency, k, targets, time_limit)
    else:
        plan, rep_counts = run_spopt(units, adjacency, k, targets, time_limit)
    seconds = time.perf_counter() - start
    report = plan_report(
        plan,
        units,
        adjacency,
        {measure: tolerance for measure, tolerance, _ in specs},
        reps=rep_counts,
        reference=reference if reference is not None and k == 50 else None,
        with_polsby_popper=len(units) <= 20_000,
    )
    summary = report.summary()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "territories": int(plan.assignment.nunique()),
                "plan_sha": hashlib.sha256(plan.assignment.to_csv().encode()).hexdigest()[:12],
                **{key: float(value) for key, value in summary.items()},
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
