"""One optimizer benchmark case in its own process.

Usage: ``python -m benchmarks.optimizer_case INSTANCE METHOD``.

Prints one JSON line: wall time, peak memory, a fingerprint of the plan (to compare
re-runs), and the plan's metrics computed by :func:`planner.plans.metrics.plan_report` (the same
functions for every method).
Instances: ``counties50``, ``counties50hard``, ``counties50bookings`` (demo counties, k = 50,
from the demo's current plan; TAM hard and bookings soft, both hard, bookings alone hard with
TAM only reported),
``counties200``, ``voronoi10k``, ``voronoi40k`` (k = 500). Methods: ``terrain``,
``gerrychain`` (big units carved out first, then ``recursive_tree_part`` and ReCom for
Terrain's time, balanced on the first target's measure: bookings in
``counties50bookings``, TAM elsewhere; see :func:`run_gerrychain`), ``spopt`` (``Skater`` with a TAM floor).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import resource
import sys
import time
import warnings
from functools import partial

import networkx as nx
import numpy as np
import pandas as pd

from benchmarks.instances import voronoi_units
from planner.data.adjacency import build_adjacency
from planner.optimize.api import optimize, protected_unit_locks
from planner.optimize.options import BalanceTarget, OptimizeOptions
from planner.plans.metrics import plan_report
from planner.plans.plan import Plan

RECOM_ATTEMPTS = 500  # balanced-cut attempts per split (ReCom then draws another pair)
WIDEN = (1, 2, 4, 8, 16)  # tolerance multiples tried by recursive_tree_part, in order
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
    """GerryChain as a user would run it on lumpy units, for the same time as Terrain.

    1. Units above one district's upper band are carved out first, each its own
       district with the fewest reps that fit it (GerryChain cannot split a unit).
    2. ``recursive_tree_part`` splits each connected piece of the rest into districts
       (districts shared by TAM, largest remainder); when no cut is found at the
       tolerance, it is retried at wider tolerances (``WIDEN``; the row reports the plan it got).
    3. ReCom steps on the largest piece for Terrain's time limit, keeping the plan with
       the least worst deviation.
    """
    from gerrychain import Graph, MarkovChain, Partition
    from gerrychain.accept import always_accept
    from gerrychain.constraints import within_percent_of_ideal_population
    from gerrychain.partition import recursive_tree_part
    from gerrychain.proposals import recom
    from gerrychain.tree import bipartition_tree
    from gerrychain.updaters import Tally

    measure, eps = targets[0].measure, targets[0].tolerance
    value = units[measure].astype(float)
    ideal = float(value.sum()) / k
    big = value[value > (1 + eps) * ideal]
    big_reps = {u: math.ceil(v / ((1 + eps) * ideal)) for u, v in big.items()}
    labels = {u: f"G{i:03d}" for i, u in enumerate(big.index)}
    reps = {f"G{i:03d}": r for i, r in enumerate(big_reps.values())}
    rest = adjacency.to_networkx().subgraph([u for u in units.index if u not in big_reps]).copy()
    pieces = sorted(nx.connected_components(rest), key=lambda c: -value[list(c)].sum())
    left = k - sum(big_reps.values())
    shares = (
        np.array([value[list(c)].sum() for c in pieces]) / value[~value.index.isin(big.index)].sum() * left
    )
    counts = np.maximum(np.floor(shares).astype(int), 1)
    for i in np.argsort(-(shares - np.floor(shares)))[: max(left - counts.sum(), 0)]:
        counts[i] += 1
    rng = random.Random(0)
    largest = None
    for piece, count in zip(pieces, counts, strict=True):
        sub = rest.subgraph(piece).copy()
        nx.set_node_attributes(sub, {node: float(value[node]) for node in sub.nodes}, "tam")
        graph = Graph.from_networkx(sub)
        names = [f"G{len(reps) + i:03d}" for i in range(count)]
        target = float(value[list(piece)].sum()) / count
        for widen in WIDEN:
            try:
                parts = (
                    recursive_tree_part(
                        graph,
                        names,
                        target,
                        "tam",
                        eps * widen,
                        bipartition_tree_fn=partial(bipartition_tree, max_attempts=RECOM_ATTEMPTS),
                        rng=rng,
                    )
                    if count > 1
                    else {node: names[0] for node in graph.nodes}
                )
                break
            except RuntimeError:
                parts = None
        if parts is None:
            raise RuntimeError(
                f"recursive_tree_part: no cut at {WIDEN[-1]}x the tolerance, piece of {count} districts"
            )
        labels.update(parts)
        reps.update(dict.fromkeys(names, 1))
        if largest is None:
            largest = (graph, parts, target, widen)
    graph, parts, target, widen = largest
    partition = Partition(graph, parts, {"tam": Tally("tam", alias="tam")})
    chain = MarkovChain(
        proposal=partial(
            recom, pop_col="tam", pop_target=target, epsilon=eps * widen, node_repeats=2, rng=rng
        ),
        constraints=[within_percent_of_ideal_population(partition, eps * widen, pop_key="tam")],
        accept=always_accept,
        initial_state=partition,
        total_steps=10**9,
    )
    best, best_dev = partition, np.inf
    deadline = time.perf_counter() + time_limit
    for step in chain:
        dev = max(abs(t / target - 1.0) for t in step["tam"].values())
        if dev < best_dev:
            best, best_dev = step, dev
        if time.perf_counter() > deadline:
            break
    labels.update(dict(best.assignment))
    plan = Plan(pd.Series(labels).reindex(units.index))
    return plan, pd.Series(reps, name="reps")


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
