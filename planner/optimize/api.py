"""Territory optimizer: balanced on several measures, contiguous, compact, minimally disruptive.

Pipeline (scales to tens of thousands of units):

1. :func:`~planner.optimize.instance.build_instance` checks the request (k, multi-rep units, locks)
   and scales every measure so one rep's fair share is 1.
2. :func:`~planner.optimize.construct.initial_labels` starts from the reference plan (territories
   dissolved to free reps for multi-rep territories are absorbed by their neighbours) or,
   without one, grows territories from seeds (rep homes or weighted k-means++); then
   repairs contiguity.
3. :func:`~planner.optimize.search.run_search` moves border units between adjacent
   territories, never disconnecting one, until balance, compactness and disruption stop
   improving (see its module docstring for the objective); where no rep home fixes them,
   it also moves reps between territories and merges lumpy ones, and territories left
   without reps are dropped here.
4. :func:`~planner.plans.metrics.plan_report` measures the result; the status says whether every
   tolerance was met, and if not, which constraint to relax and by how much.

For small instances (a few hundred units), :mod:`planner.optimize.exact` solves a CP-SAT model to
optimality and is used in tests to show how close this heuristic gets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.data.adjacency import Adjacency, build_adjacency
from planner.data.dataset import Dataset
from planner.data.geometry import STORAGE_CRS, equal_area_crs
from planner.errors import InfeasibleError
from planner.optimize.bisection import bisection_labels
from planner.optimize.construct import absorb, initial_labels, repair_contiguity
from planner.optimize.exact import solve_exact
from planner.optimize.explain import Outcome, explain, rep_changes_sentence
from planner.optimize.instance import (
    Instance,
    adjacency_lists,
    build_instance,
    sparse_measures,
    without_territories,
)
from planner.optimize.options import OptimizeOptions, ProgressCallback
from planner.optimize.realign import plan_realignment, realign
from planner.optimize.search import SearchState, SearchStats, default_recombination, run_search
from planner.optimize.transport import crossing_share
from planner.optimize.unit_fit import unfit_units
from planner.optimize.work_clock import WorkClock
from planner.plans.metrics import (
    PlanReport,
    plan_report,
    rep_counts,
    territory_neighbors,
    transport_floor,
    unit_points_km,
)
from planner.plans.plan import Plan

PROBE_SHARE = 0.25  # share of the search time each start gets before the best one continues
BISECTION_TRIES = 2  # bisection starts tried while a hard tolerance is missed (docs/optimizer.md)
WARM_SHARE = 0.25  # share of an exact run's time spent on the heuristic plan that warm-starts CP-SAT


@dataclass(frozen=True)
class OptimizationResult:
    """A plan and everything known about it.

    Attributes
    ----------
    plan : Plan
        The optimized plan (``parent`` is the reference plan when one was given).
    report : PlanReport
        Balance, contiguity, compactness, disruption and travel of the plan.
    status : Outcome
        ``Outcome.BALANCED`` (every tolerance met), ``Outcome.SOFT_TARGETS_MISSED`` (hard
        ones met) or ``Outcome.INFEASIBLE`` (a hard tolerance was not met); a ``str`` enum
        whose values are ``"balanced"``, ``"soft_targets_missed"`` and ``"infeasible"``.
    messages : tuple of str
        Explanations: what forced multi-rep territories, what to relax and by how much.
    multi_rep_units : DataFrame
        Units too big for one rep and the reps their territory needs.
    stats : SearchStats
        Rounds, moves and time of the local search.
    seconds : float
        Wall time of the whole optimization.
    transport_floor : float or None
        With a reference plan: the least share of the disruption measure that must change
        territory to bring every territory of the reference within the primary measure's
        tolerance (see :func:`planner.plans.metrics.transport_floor`).
    """

    plan: Plan
    report: PlanReport
    status: Outcome
    messages: tuple[str, ...]
    multi_rep_units: pd.DataFrame
    stats: SearchStats
    seconds: float
    transport_floor: float | None = None

    @property
    def feasible(self) -> bool:
        """True when every hard tolerance is met."""
        return self.status != Outcome.INFEASIBLE


def _rep_homes_km(reps: pd.DataFrame | None, units: gpd.GeoDataFrame) -> pd.DataFrame | None:
    """Rep homes projected to the units' equal-area CRS, km, indexed by rep_id."""
    if reps is None or not {"home_lat", "home_lon"} <= set(reps.columns) or not len(reps):
        return None
    points = gpd.GeoSeries.from_xy(reps["home_lon"], reps["home_lat"], crs=STORAGE_CRS, index=reps.index)
    projected = points.to_crs(equal_area_crs(units))
    return pd.DataFrame({"x_km": projected.x / 1000.0, "y_km": projected.y / 1000.0}, index=reps.index)


def _result_reps(instance: Instance, reference: Plan | None) -> pd.Series:
    """Which rep covers which result territory.

    Reference reps stay where their territory keeps enough reps; reps of dissolved
    territories, and the last reps (by rep id) of territories that lost reps, go to the
    territories that gained reps.
    """
    if reference is None:
        return pd.Series(dtype=object)
    count = dict(zip(instance.territory_ids, instance.reps, strict=True))
    current = reference.territory_reps.sort_index()
    rank = current.groupby(current).cumcount()
    keeps = current.map(lambda t: count.get(t, 0)).to_numpy() > rank.to_numpy()
    stays = current[keeps]
    freed = list(current.index[~keeps])
    have = stays.value_counts().reindex(instance.territory_ids, fill_value=0)
    extra = {t: int(r) - int(have[t]) for t, r in count.items()}
    reassigned = {}
    for territory, missing in extra.items():
        while missing > 0 and freed:
            reassigned[freed.pop(0)] = territory
            missing -= 1
    return pd.concat([stays, pd.Series(reassigned, dtype=object)])


def optimize(
    units: gpd.GeoDataFrame,
    adjacency: Adjacency,
    *,
    n_reps: int | None = None,
    reference: Plan | None = None,
    reps: pd.DataFrame | None = None,
    options: OptimizeOptions | None = None,
    progress: ProgressCallback | None = None,
) -> OptimizationResult:
    """Assign units to territories, balanced, contiguous and compact.

    Parameters
    ----------
    units : GeoDataFrame
        Indexed by unit_id, with the measures named in ``options.targets``.
    adjacency : Adjacency
        Adjacency of ``units`` (see :func:`planner.data.adjacency.build_adjacency`).
    n_reps : int, optional
        Number of reps to plan for; default: the reference plan's reps.
    reference : Plan, optional
        Current alignment: where the search starts and what disruption is measured against.
    reps : DataFrame, optional
        Reps with ``home_lat``/``home_lon`` (indexed by rep_id): territories of the
        reference plan are centred on their reps' homes.
    options : OptimizeOptions
        Measures, tolerances, weights, locks, budget, time limit, seed.
    progress : callable, optional
        Called with (fraction done, message).

    Raises
    ------
    InfeasibleError
        When the request cannot be met whatever the search does (e.g. k > units, a unit
        too big for one rep with multi-rep territories disallowed, over-full locks).
    """
    options = options or OptimizeOptions()
    started = time.perf_counter()
    notify = progress or (lambda fraction, message: None)
    notify(0.0, "checking the request")
    points = unit_points_km(units)
    rep_homes_km = _rep_homes_km(reps, units) if options.use_rep_homes else None
    instance = build_instance(
        units, adjacency, points, options, n_reps=n_reps, reference=reference, rep_homes_km=rep_homes_km
    )
    rng = np.random.default_rng(options.seed)
    clock = WorkClock()  # time limits are read on it: same seed, same plan (planner.optimize.work_clock)
    clock.cap_wall(options.time_limit_s)
    neighbors = adjacency_lists(instance)
    has_reference = bool((instance.reference >= 0).any())
    crossing = (
        crossing_share(instance, instance.reference, instance.reps)
        if (instance.reference >= 0).all()
        else None
    )
    exact_messages: list[str] = []
    if options.method == "exact":
        warm = optimize(
            units,
            adjacency,
            n_reps=n_reps,
            reference=reference,
            reps=reps,
            options=replace(
                options, method="heuristic", time_limit_s=max(WARM_SHARE * options.time_limit_s, 1.0)
            ),
        )
        position = {t: i for i, t in enumerate(instance.territory_ids)}
        start = warm.plan.assignment.reindex(units.index).map(position).to_numpy(dtype=int)
        labels, stats, exact_messages = _solve_exact(instance, options, notify, start, warm.feasible)
        final_labels = labels
        rep_changes = ""
    else:
        notify(0.05, "building a first contiguous plan")
        labels = initial_labels(
            instance,
            neighbors,
            rng,
            disruption_penalty=2.0 * options.disruption_weight if has_reference else 0.0,
            max_disruption=options.max_disruption,
        )
        clock.charge("construct", instance.n_units * instance.n_territories)
        search_time = max(options.time_limit_s - clock.now(), 0.1)

        sparse = _sparse_hard_measures(instance)

        def searcher(start: np.ndarray) -> SearchState:
            return SearchState(
                instance,
                start,
                neighbors,
                compactness_weight=options.compactness_weight,
                disruption_weight=options.disruption_weight if has_reference else 0.0,
                max_disruption=options.max_disruption,
                clock=clock,
            )

        def run(state: SearchState, time_limit_s: float, progress: ProgressCallback, polish: bool = True):
            return run_search(
                state,
                rng=rng,
                clock=clock,
                time_limit_s=time_limit_s,
                recombination=sparse or default_recombination(state),
                pool_reps=options.pool_reps,
                max_reps=options.max_reps_per_territory,
                progress=progress,
                polish=polish,
            )

        search = searcher(labels)
        if has_reference:
            notify(0.07, "planning the realignment on the territory graph")
            realign(search, rng)
        if sparse:
            search, stats = _race_starts(instance, search, searcher, run, search_time, rng, notify, clock)
        else:
            stats = run(search, search_time, lambda f, m: notify(0.1 + 0.85 * f, m))
        final_labels = search.labels
        # Rep counts as the search left them; territories that gave their rep away are dropped.
        resized = search.current_instance()
        resized, final_labels = without_territories(resized, final_labels, resized.reps <= 0)
        rep_changes = rep_changes_sentence(instance, resized)
        multi = instance.multi_rep_units
        final_reps = multi["territory_id"].map(dict(zip(resized.territory_ids, resized.reps, strict=True)))
        instance = replace(
            resized,
            multi_rep_units=multi.assign(reps_needed=final_reps.fillna(multi["reps_needed"]).astype(int)),
        )
    notify(0.95, "measuring the plan")
    ids = np.array(instance.territory_ids, dtype=object)
    assignment = pd.Series(ids[final_labels], index=units.index)
    plan = Plan(assignment, _result_reps(instance, reference), name="optimized", parent=reference)
    rep_series = pd.Series(instance.reps, index=instance.territory_ids, name="reps")
    territory_homes_km = None
    if np.isfinite(instance.territory_homes_km).all(axis=1).any():
        territory_homes_km = pd.DataFrame(
            instance.territory_homes_km, index=instance.territory_ids, columns=["x_km", "y_km"]
        ).dropna()
    report = plan_report(
        plan,
        units,
        adjacency,
        options.tolerances,
        reps=rep_series,
        reference=reference,
        disruption_measures=list(
            dict.fromkeys(
                [options.disruption_measure or options.primary, *options.tolerances]
                + (["accounts"] if "accounts" in units.columns else [])
            )
        ),
        territory_homes_km=territory_homes_km,
        with_polsby_popper=len(units) <= 20_000,
    )
    budget_binding, unbudgeted = False, None
    out_of_tolerance = bool((report.balance["max_abs_dev"] > report.balance["tolerance"] + 1e-9).any())
    if options.max_disruption is not None and out_of_tolerance and reference is not None:
        notify(0.97, "tolerance missed under the disruption budget: measuring what an unbudgeted run moves")
        free = optimize(
            units,
            adjacency,
            n_reps=n_reps,
            reference=reference,
            reps=reps,
            options=replace(options, max_disruption=None, time_limit_s=max(options.time_limit_s / 2, 1.0)),
        )
        if (free.report.balance["max_abs_dev"] < report.balance["max_abs_dev"] - 1e-9).any():
            budget_binding = True
            unbudgeted = float(free.report.disruption[options.disruption_measure or options.primary])
    status, messages = explain(
        instance, report, options, budget_binding, unbudgeted, territory_neighbors(plan, adjacency)
    )
    for unit_id, row in instance.multi_rep_units.iterrows():
        messages.insert(
            0,
            f"unit {unit_id} {row['reason']}, so its territory has {int(row['reps_needed'])} reps",
        )
    messages.extend(exact_messages)
    if status == Outcome.INFEASIBLE:
        messages.extend(instance.unfit_one_rep)
        messages.extend(unfit_units(instance, final_labels, instance.reps))
    floor = None
    if reference is not None:
        measure = options.disruption_measure or options.primary
        floor = transport_floor(
            reference,
            units,
            measure,
            rep_counts(reference),
            tolerance_frac=options.tolerances.get(measure, 0.0),
        )
        moved = float(report.disruption[measure]) if report.disruption is not None else float("nan")
        times = f" ({moved / floor:.1f}x the floor)" if floor > 0 else ""
        through = (
            f"; passing the excess on through neighbouring territories, with every territory kept in "
            f"place, would move about {crossing:.1%} of the load"
            if crossing is not None and measure == options.primary
            else ""
        )
        messages.append(
            f"transport floor: at least {floor:.1%} of {measure} must change territory to bring every "
            f"territory of the current plan within +/-{options.tolerances.get(measure, 0.0):.1%}; "
            f"this plan moved {moved:.1%}{times}{through}"
        )
    if rep_changes:
        messages.append(rep_changes)
    if clock.capped:
        messages.append(
            f"the search was stopped by the wall clock after {clock.wall_seconds():.0f} s, before its "
            f"{options.time_limit_s:.0f} s of work were done (a slow or busy machine), so the same seed "
            "may give a different plan; re-run it on a less busy machine to reproduce it"
        )
    notify(1.0, f"done: {status}")
    return OptimizationResult(
        plan=plan,
        report=report,
        status=status,
        messages=tuple(messages),
        multi_rep_units=instance.multi_rep_units,
        stats=stats,
        seconds=time.perf_counter() - started,
        transport_floor=floor,
    )


def _sparse_hard_measures(instance: Instance) -> bool:
    """True when every hard measure is sparse (see :func:`planner.optimize.instance.sparse_measures`).

    There, border moves leave the measure unchanged over wide areas, so the local search
    cannot carry it across a region: a recursive bisection start, which balances every
    scale, races the usual one, and the search recombines pairs of territories (as it
    does with two hard measures).

    With a dense hard measure too, the usual start does better and the race is not run
    (measurements in ``docs/optimizer.md``).
    """
    return bool(instance.hard.any() and sparse_measures(instance)[instance.hard].all())


def _race_starts(
    instance: Instance,
    search: SearchState,
    searcher: Callable[[np.ndarray], SearchState],
    run: Callable[..., SearchStats],
    search_time: float,
    rng: np.random.Generator,
    notify: ProgressCallback,
    clock: WorkClock,
) -> tuple[SearchState, SearchStats]:
    """Search from the usual start and from a recursive bisection start; finish the better.

    Each start gets ``PROBE_SHARE`` of the search time, all of it for balance (the
    compactness polish is left to the final run); while the best so far misses a
    hard tolerance, up to ``BISECTION_TRIES`` bisection starts (new random trees each) are
    tried. The one with the least violation of the hard tolerances (ties: the earlier
    start) gets the rest (measurements in ``docs/optimizer.md``).
    """
    deadline = clock.now() + search_time
    probe = PROBE_SHARE * search_time
    runs = [run(search, probe, lambda f, m: notify(0.1 + 0.2 * f, m), polish=False)]
    chosen = runs[0]
    for attempt in range(BISECTION_TRIES):
        if search.hard_violation() <= 0:
            break
        notify(0.3 + 0.1 * attempt, "trying another start: recursive bisection on every measure")
        rival_deadline = min(clock.now() + probe, deadline)
        alternative = bisection_labels(instance, rng, clock=clock, deadline=rival_deadline)
        if alternative is not None:
            rival = searcher(alternative)
            if rival.within_budget():
                left = max(rival_deadline - clock.now(), 0.1)
                rival_run = run(
                    rival, left, lambda f, m, a=attempt: notify(0.3 + 0.1 * (a + f), m), polish=False
                )
                runs.append(rival_run)
                if rival.hard_violation() < search.hard_violation():
                    search, chosen = rival, rival_run
    left = deadline - clock.now()
    if left > 0:  # the probes did not polish: the chosen start is balanced further and polished
        chosen = run(search, left, lambda f, m: notify(0.5 + 0.45 * f, m))
        runs.append(chosen)
    stats = SearchStats(
        rounds=sum(r.rounds for r in runs),
        moves=sum(r.moves for r in runs),
        seconds=sum(r.seconds for r in runs),
        converged=chosen.converged,
    )
    return search, stats


def _solve_exact(
    instance: Instance,
    options: OptimizeOptions,
    notify: ProgressCallback,
    start: np.ndarray,
    start_feasible: bool,
) -> tuple[np.ndarray, SearchStats, list[str]]:
    """Exact mode: the CP-SAT model over every unit, hinted with the heuristic's plan ``start``.

    Returns the labels, the stats and what CP-SAT proved: optimal, a plan and its gap to the
    best bound, or infeasible (an :class:`InfeasibleError` saying which constraints).
    When CP-SAT finds no plan in time, the heuristic's plan is returned with the bound.
    """
    notify(0.3, f"solving the exact model ({instance.n_units} units, {instance.n_territories} territories)")
    result = solve_exact(
        instance,
        compactness_weight=options.compactness_weight,
        disruption_weight=options.disruption_weight,
        time_limit_s=max((1.0 - WARM_SHARE) * options.time_limit_s, 1.0),
        seed=options.seed,
        start=start,
    )
    stats = SearchStats(rounds=0, moves=0, seconds=result.seconds, converged=result.status == "OPTIMAL")
    if result.status == "INFEASIBLE":
        raise InfeasibleError(
            "proven infeasible: CP-SAT proved that no plan meets the hard tolerances together with "
            "contiguity, the locks and the rep counts",
            constraint="the hard tolerances, locks and rep counts",
            suggestion="relax a hard tolerance or make it soft, unlock units, or allow multi-rep territories",
        )
    if result.labels is None:
        note = (
            f"exact mode: CP-SAT found no plan in {result.seconds:.0f} s (status {result.status}); "
            f"this is the heuristic's plan{'' if start_feasible else ', which misses a hard tolerance'}"
        )
        return start, stats, [note]
    gap = abs(result.objective - result.bound) / max(abs(result.objective), 1e-9)
    if result.status == "OPTIMAL":
        note = f"exact mode: proven optimal (objective {result.objective:.6g}) in {result.seconds:.1f} s"
    else:
        note = (
            f"exact mode: status {result.status}, objective {result.objective:.6g}, best bound "
            f"{result.bound:.6g}, gap {gap:.1%} after {result.seconds:.1f} s"
        )
    return result.labels, stats, [note]


def least_realignment_move(
    units: gpd.GeoDataFrame,
    adjacency: Adjacency,
    reference: Plan,
    options: OptimizeOptions,
    reps: pd.DataFrame | None = None,
) -> float | None:
    """Least share of the primary measure that balancing ``reference`` moves, by the territory model.

    The model of :mod:`planner.optimize.realign` (flows across borders, and relocations of
    territories without a rep home) ignores unit sizes and contiguity, so this is an
    estimate of the least, not a bound. Units whose territory gave its rep to a multi-rep
    unit start in a neighbouring territory, as in :func:`optimize`. None when the model does not apply (see
    :func:`~planner.optimize.realign.plan_realignment`).
    """
    homes = _rep_homes_km(reps, units) if options.use_rep_homes else None
    instance = build_instance(
        units, adjacency, unit_points_km(units), options, reference=reference, rep_homes_km=homes
    )
    neighbors = adjacency_lists(instance)
    start = repair_contiguity(instance, absorb(instance, instance.start, neighbors), neighbors)
    plan = plan_realignment(instance, start, instance.reps, None)
    return None if plan is None else plan.moved


def protected_unit_locks(dataset: Dataset) -> dict[str, str]:
    """Units holding a protected account, locked to their current territory."""
    accounts = dataset.accounts
    if "protected" not in accounts.columns:
        return {}
    units = accounts.loc[accounts["protected"] == "yes", "unit_id"].dropna().unique()
    current = dataset.plan.assignment
    return {str(u): str(current[u]) for u in units}


def with_protected_locks(dataset: Dataset, options: OptimizeOptions) -> OptimizeOptions:
    """``options`` with the units of protected accounts locked to their current territory too."""
    return replace(options, locked_units={**protected_unit_locks(dataset), **options.locked_units})


def optimize_dataset(
    dataset: Dataset,
    *,
    n_reps: int | None = None,
    options: OptimizeOptions | None = None,
    progress: ProgressCallback | None = None,
    adjacency: Adjacency | None = None,
) -> OptimizationResult:
    """Optimize a loaded data set from its current plan; protected accounts' units never move."""
    options = with_protected_locks(dataset, options or OptimizeOptions())
    return optimize(
        dataset.units,
        adjacency or build_adjacency(dataset.units),
        n_reps=n_reps,
        reference=dataset.plan,
        reps=dataset.reps,
        options=options,
        progress=progress,
    )
