"""Turn units, adjacency, a reference plan and options into the arrays the solvers work on.

Everything the solvers need is computed here once and checked before any search:
measures scaled so that one rep's fair share is 1.0, the territories and their rep
counts (multi-rep territories for units too big for one rep), locks, rep homes and
the reference labels for disruption. Requests that cannot be met raise
:class:`~planner.errors.InfeasibleError` saying which constraint to relax and by how much.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from planner.data.adjacency import Adjacency
from planner.errors import InfeasibleError, PlannerError
from planner.optimize.locks import lock_corridors, locked_labels
from planner.optimize.options import OptimizeOptions
from planner.optimize.sizing import lumpy_partners, multi_rep_groups, reps_needed
from planner.plans.plan import Plan


@dataclass(frozen=True)
class Instance:
    """Arrays of one optimization request (n units, m measures, K territories).

    Attributes
    ----------
    unit_ids : Index
        Unit ids; position i is unit i everywhere below.
    share : ndarray (n, m)
        Each balanced measure divided by one rep's fair share (total / reps): a
        territory with r reps is balanced when its column sums equal r.
    tolerances, weights : ndarray (m,)
        Tolerance (fraction) and weight per measure; ``hard`` marks hard tolerances.
    indptr, indices : ndarray
        Adjacency in CSR form (with island links).
    border_km : ndarray
        Shared border length (km) of each adjacency entry (aligned with ``indices``);
        zeros when the adjacency has none (then cut length plays no part).
    xy_km : ndarray (n, 2)
        Unit centroids, km, equal-area CRS.
    compact_weight : ndarray (n,)
        Weight of each unit in the dispersion term (sums to 1).
    disrupt_weight : ndarray (n,)
        Share of the disruption measure held by each unit (sums to 1).
    start : ndarray (n,) int
        Territory index each unit starts in (the reference plan's, or big units
        seeding multi-rep territories), -1 where it starts unassigned.
    reference : ndarray (n,) int
        Territory index of each unit in the reference plan, -1 where it has none
        (then moving it costs no disruption).
    locked : ndarray (n,) int
        Territory index a unit is locked to, or -1.
    territory_ids : list of str
        Territory ids; index k is territory k.
    reps : ndarray (K,)
        Reps per territory (>= 1).
    territory_homes_km : ndarray (K, 2)
        Rep home per territory in km, NaN where there is none.
    frozen_territory : ndarray (K,) bool
        Locked territories: no unit leaves or joins.
    unfit_one_rep : tuple of str
        Without pooled reps: why a unit cannot be in a one-rep territory within tolerance on
        every hard measure (its share of each, the bands), for the result to say so.
    fixed_reps : ndarray (K,) bool
        Territories whose rep count the user fixed (``reps_per_territory``): the search
        never changes it.
    multi_rep_units : DataFrame
        Units that need a multi-rep territory (too big for one rep, or no one-rep
        territory can hold them on every hard measure, and their partners):
        ``territory_id``, ``share_of_one_rep``, ``reps_needed``, ``reason``.
    """

    unit_ids: pd.Index
    measures: tuple[str, ...]
    share: np.ndarray
    tolerances: np.ndarray
    weights: np.ndarray
    hard: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    xy_km: np.ndarray
    compact_weight: np.ndarray
    disrupt_weight: np.ndarray
    start: np.ndarray
    reference: np.ndarray
    locked: np.ndarray
    territory_ids: list[str]
    reps: np.ndarray
    territory_homes_km: np.ndarray
    frozen_territory: np.ndarray
    multi_rep_units: pd.DataFrame
    border_km: np.ndarray
    fixed_reps: np.ndarray
    unfit_one_rep: tuple[str, ...] = ()

    @property
    def n_units(self) -> int:
        """Number of units."""
        return len(self.unit_ids)

    @property
    def n_territories(self) -> int:
        """Number of territories K."""
        return len(self.territory_ids)


SPARSE_SHARE = 0.25  # a measure that is zero in at least this share of units is sparse


def sparse_measures(instance: Instance) -> np.ndarray:
    """Mask of the measures that are zero in at least ``SPARSE_SHARE`` of the units.

    Border moves cannot carry such a measure across a region (most moves leave it
    unchanged): 57% of the demo counties have no bookings.
    """
    return (instance.share <= 0).mean(axis=0) >= SPARSE_SHARE


def unit_reps_needed(instance: Instance) -> np.ndarray:
    """Reps each unit needs on its own: the fewest reps any territory holding it can have.

    Sized on the hard measures (the primary when none is hard), like the multi-rep
    territories of :func:`build_instance`.
    """
    sizing = instance.hard if instance.hard.any() else np.arange(len(instance.measures)) == 0
    return reps_needed(instance.share, instance.tolerances, sizing)


def _size_groups(
    need: np.ndarray,
    partners: dict[int, int],
    share: np.ndarray,
    tolerances: np.ndarray,
    sizing: np.ndarray,
    adjacency: Adjacency,
    unit_ids: pd.Index,
    ref_labels: np.ndarray,
    ref_ids: list[str],
    ref_reps: np.ndarray,
    k: int,
    options: OptimizeOptions,
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Multi-rep groups, their reps, and the territories: ids, reps, start and reference labels."""
    n_groups, group = multi_rep_groups(need, partners, adjacency)
    # A group with a unit no one-rep territory can hold needs at least two reps.
    group_reps = np.array(
        [
            max(
                reps_needed(share[group == g].sum(axis=0), tolerances, sizing),
                2 if any(group[u] == g for u in partners) else 1,
            )
            for g in range(n_groups)
        ],
        dtype=int,
    )
    territory_ids, reps, start, reference_labels = _choose_territories(
        unit_ids, ref_labels, ref_ids, ref_reps, k, group, group_reps, share, options
    )
    return territory_ids, reps, start, reference_labels, group, group_reps


def build_instance(
    units: pd.DataFrame,
    adjacency: Adjacency,
    points_km: pd.DataFrame,
    options: OptimizeOptions,
    *,
    n_reps: int | None = None,
    reference: Plan | None = None,
    rep_homes_km: pd.DataFrame | None = None,
) -> Instance:
    """Check the request and build the solver arrays.

    Parameters
    ----------
    units : DataFrame
        Indexed by unit_id, with every measure of ``options.targets`` (and the
        disruption measure) as columns.
    adjacency : Adjacency
        Adjacency of the same units.
    points_km : DataFrame
        ``x_km``, ``y_km`` per unit (see :func:`planner.plans.metrics.unit_points_km`).
    n_reps : int, optional
        Number of reps to plan for (k). Default: the reference plan's reps (at least one
        per territory).
    reference : Plan, optional
        Current alignment: the start of the search, and the plan disruption is measured against.
    rep_homes_km : DataFrame, optional
        Rep homes ``x_km``, ``y_km`` indexed by rep_id.
    """
    measures = tuple(t.measure for t in options.targets)
    missing = [m for m in (*measures, options.disruption_measure) if m and m not in units.columns]
    if missing:
        raise PlannerError(
            f"units have no column {missing}; available measures: {list(units.select_dtypes('number'))}"
        )
    if not adjacency.unit_ids.equals(units.index):
        raise PlannerError("adjacency and units list different units; build the adjacency from these units")
    n = len(units)
    values = units[list(measures)].to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise PlannerError(
            f"unit {units.index[row]}: {measures[col]} is {values[row, col]}; "
            "measures must be finite and >= 0"
        )
    totals = values.sum(axis=0)
    zero = [m for m, t in zip(measures, totals, strict=True) if t <= 0]
    if zero:
        raise PlannerError(
            f"measure(s) {zero} sum to 0 over all units; nothing to balance, drop them from targets"
        )

    ref_labels, ref_ids, ref_reps = _reference_territories(reference, units.index)
    k = n_reps if n_reps is not None else (int(ref_reps.sum()) if ref_ids else None)
    if k is None:
        raise PlannerError("give the number of reps (k) or a reference plan to start from")
    if k < 1:
        raise InfeasibleError(f"k is {k}", constraint="k", suggestion="plan for at least 1 rep")
    if k > n:
        raise InfeasibleError(
            f"k = {k} reps but only {n} units: some territory would be empty",
            constraint="k",
            suggestion=f"reduce k to at most {n}, or use smaller units (e.g. ZIPs instead of counties)",
        )
    tolerances = np.array([t.tolerance for t in options.targets])
    share = values / (totals / k)
    hard = np.array([t.hard for t in options.targets])
    sizing = hard if hard.any() else np.arange(len(measures)) == 0
    need = reps_needed(share, tolerances, sizing)
    big = np.flatnonzero(need > 1)
    if len(big) and not options.allow_multi_rep:
        worst = big[np.argmax(share[big].max(axis=1))]
        j = int(np.argmax(share[worst]))
        raise InfeasibleError(
            f"unit {units.index[worst]} alone holds {share[worst, j]:.2f}x one rep's fair share "
            f"of {measures[j]} "
            f"(upper tolerance {1 + tolerances[j]:.2f}x)",
            constraint=f"the {measures[j]} tolerance, or allow multi-rep territories",
            suggestion=f"raise the tolerance to at least {share[worst, j] - 1:.0%}, or allow_multi_rep=True "
            f"({need[worst]} reps for its territory)",
        )

    skip = units.index.isin(list(options.locked_units))
    # With pooled reps and two or more hard measures, whose mix differs between units, each
    # unit no one-rep territory can hold starts in a multi-rep territory with a partner.
    # Otherwise territories are sized by the big units alone (with pooled reps, the search
    # merges stuck territories of lumpy units: planner.optimize.search.moves.reps).
    found = (
        lumpy_partners(share, tolerances, sizing, need, adjacency, skip)
        if options.allow_multi_rep and sizing.sum() >= 2
        else {}
    )
    partners = found if options.pool_reps else {}
    unfit = tuple(
        f"unit {units.index[u]} "
        f"{_group_reason(u, need, found, share, tolerances, sizing, measures, units.index)}: its "
        f"one-rep territory cannot be within tolerance (pool_reps=True would give the two a 2-rep "
        f"territory; or relax the tolerances)"
        for u in ([] if options.pool_reps else sorted(found))
    )
    sizing_args = (
        share,
        tolerances,
        sizing,
        adjacency,
        units.index,
        ref_labels,
        ref_ids,
        ref_reps,
        k,
        options,
    )
    try:
        territory_ids, reps, start, reference_labels, group, group_reps = _size_groups(
            need, partners, *sizing_args
        )
    except InfeasibleError:
        if not partners:
            raise
        # Not enough reps to give every such unit a multi-rep territory: size for the big
        # units only, and let the result report the tolerance it cannot meet.
        partners = {}
        territory_ids, reps, start, reference_labels, group, group_reps = _size_groups(
            need, partners, *sizing_args
        )
    territory_index = {t: i for i, t in enumerate(territory_ids)}
    locked = locked_labels(units.index, options, territory_index)
    locked = lock_corridors(locked, start, adjacency)
    # Units that need a multi-rep territory anchor it.
    anchor = (group >= 0) & (locked < 0) & (start >= 0)
    locked[anchor] = start[anchor]
    frozen = np.array([t in set(options.locked_territories) for t in territory_ids])
    if frozen.any():
        locked = np.where(np.isin(start, np.flatnonzero(frozen)), start, locked)

    disrupt_col = options.disruption_measure or options.primary
    dv = units[disrupt_col].to_numpy(dtype=float)
    disrupt_weight = dv / dv.sum() if dv.sum() > 0 else np.full(n, 1.0 / n)
    primary_share = share[:, 0] / share[:, 0].sum()
    compact_weight = 0.5 * primary_share + 0.5 / n
    homes = _homes(territory_ids, reference, rep_homes_km) if options.use_rep_homes else None
    in_group = np.flatnonzero(group >= 0)
    multi = pd.DataFrame(
        {
            "territory_id": [territory_ids[start[u]] if start[u] >= 0 else "" for u in in_group],
            "share_of_one_rep": share[in_group].max(axis=1),
            "reps_needed": [
                int(reps[start[u]]) if start[u] >= 0 else int(group_reps[group[u]]) for u in in_group
            ],
            "reason": [
                _group_reason(u, need, partners, share, tolerances, sizing, measures, units.index)
                for u in in_group
            ],
        },
        index=units.index[in_group],
    ).rename_axis("unit_id")
    matrix = adjacency.matrix
    instance = Instance(
        unit_ids=units.index,
        measures=measures,
        share=share,
        tolerances=tolerances,
        weights=np.array([t.weight for t in options.targets], dtype=float),
        hard=np.array([t.hard for t in options.targets]),
        indptr=np.asarray(matrix.indptr),
        indices=np.asarray(matrix.indices),
        xy_km=points_km.reindex(units.index)[["x_km", "y_km"]].to_numpy(dtype=float),
        compact_weight=compact_weight,
        disrupt_weight=disrupt_weight,
        start=start,
        reference=reference_labels,
        locked=locked,
        territory_ids=territory_ids,
        reps=reps.astype(float),
        territory_homes_km=homes if homes is not None else np.full((len(territory_ids), 2), np.nan),
        frozen_territory=frozen,
        multi_rep_units=multi,
        border_km=(
            np.asarray(adjacency.border_km, dtype=float)
            if adjacency.border_km is not None
            else np.zeros(len(matrix.indices))
        ),
        fixed_reps=np.isin(territory_ids, list(options.reps_per_territory or {})),
        unfit_one_rep=unfit,
    )
    _check_locks_balance(instance)
    return instance


def _reference_territories(
    reference: Plan | None, unit_ids: pd.Index
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Reference labels (index into the sorted territory list), ids, and reps per territory."""
    if reference is None:
        return np.full(len(unit_ids), -1), [], np.array([], dtype=int)
    assignment = reference.assignment.reindex(unit_ids)
    if assignment.isna().any():
        missing = unit_ids[assignment.isna().to_numpy()][:5].tolist()
        raise PlannerError(
            f"the reference plan has no territory for units {missing}; give a plan over the same units"
        )
    ids = list(reference.territories)
    labels = pd.Index(ids).get_indexer(assignment.to_numpy())
    reps = reference.rep_count().reindex(ids).fillna(0).clip(lower=1).to_numpy(dtype=int)
    return labels, ids, reps


def _choose_territories(
    unit_ids: pd.Index,
    ref_labels: np.ndarray,
    ref_ids: list[str],
    ref_reps: np.ndarray,
    k: int,
    group: np.ndarray,
    group_reps: np.ndarray,
    share: np.ndarray,
    options: OptimizeOptions,
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Territory ids, reps per territory (summing to k), start and reference labels (-1 = none).

    Each multi-rep group (see :func:`multi_rep_groups`) gets one territory with the reps
    it needs. With a reference plan whose reps sum to k, its territories are kept; a
    group's territory is the reference territory of its biggest unit, and the group's
    other units start there; territories that must grow take their extra reps from the
    smallest other territories, which are dissolved (their units start unassigned).
    Without one, or when k differs, territories are new (``T001``...) and every unit
    starts unassigned, except the groups, which seed the first territories.
    """
    fixed = dict(options.reps_per_territory or {})
    n_groups = len(group_reps)
    if ref_ids and int(ref_reps.sum()) == k:
        reps = ref_reps.copy()
        for territory, count in fixed.items():
            if territory not in ref_ids:
                raise PlannerError(
                    f"reps_per_territory names unknown territory '{territory}'; known: {ref_ids[:10]}..."
                )
            reps[ref_ids.index(territory)] = int(count)
        homes = []
        for g in range(n_groups):
            members = np.flatnonzero(group == g)
            home = int(ref_labels[members[np.argmax(share[members].max(axis=1))]])
            homes.append(home)
            if ref_ids[home] not in fixed:
                reps[home] = max(reps[home], group_reps[g])
        labels = ref_labels.copy()
        extra = int(reps.sum()) - k
        if extra > 0:
            load = np.bincount(ref_labels, weights=share[:, 0], minlength=len(ref_ids)) / reps
            protected = set(options.locked_territories) | set(fixed) | {ref_ids[home] for home in homes}
            order = [
                t for t in np.argsort(load, kind="stable") if ref_ids[t] not in protected and reps[t] == 1
            ]
            if len(order) < extra:
                raise InfeasibleError(
                    f"the big units need {extra} more reps than the {k} available",
                    constraint="k",
                    suggestion=f"plan for at least {k + extra - len(order)} more reps",
                )
            dropped = order[:extra]
            reps[dropped] = 0
            labels[np.isin(labels, dropped)] = -1
        keep = np.flatnonzero(reps > 0)
        remap = np.full(len(ref_ids), -1)
        remap[keep] = np.arange(len(keep))
        reference = np.where(labels >= 0, remap[np.maximum(labels, 0)], -1)
        start = reference.copy()
        for g, home in enumerate(homes):
            start[group == g] = remap[home]
        return [ref_ids[t] for t in keep], reps[keep], start, reference

    if fixed:
        raise PlannerError(
            "reps_per_territory names territories of a reference plan, but territories are new here "
            f"(no reference plan, or its reps ({int(ref_reps.sum())}) differ from k = {k}); "
            "pass the reference plan and plan for its number of reps"
        )
    n_territories = k - int((group_reps - 1).sum())
    if n_territories < max(n_groups, 1):
        raise InfeasibleError(
            f"the units too big for one rep need {int(group_reps.sum())} reps, more than k = {k}",
            constraint="k",
            suggestion=f"plan for at least {int(group_reps.sum())} reps",
        )
    ids = [f"T{i + 1:03d}" for i in range(n_territories)]
    reps = np.ones(n_territories, dtype=int)
    reps[:n_groups] = group_reps  # the first territories are seeded on the groups
    return ids, reps, group.copy(), np.full(len(unit_ids), -1)


def _group_reason(
    u: int,
    need: np.ndarray,
    partners: dict[int, int],
    share: np.ndarray,
    tolerances: np.ndarray,
    sizing: np.ndarray,
    measures: tuple[str, ...],
    unit_ids: pd.Index,
) -> str:
    """Why unit ``u`` is in a multi-rep territory, in words."""
    if need[u] > 1:
        return f"holds {share[u].max():.2f}x one rep's fair share"
    if u in partners:
        held = " and ".join(f"{share[u, j]:.2f}x of {measures[j]}" for j in np.flatnonzero(sizing))
        bands = ", ".join(
            f"{measures[j]} {1 - tolerances[j]:.2f}-{1 + tolerances[j]:.2f}x" for j in np.flatnonzero(sizing)
        )
        return (
            f"holds {held} one rep's fair share, and no contiguous set of units containing it is within "
            f"one rep's band on every hard measure ({bands}); it shares a territory with "
            f"{unit_ids[partners[u]]}"
        )
    owners = [unit_ids[w] for w, v in partners.items() if v == u]
    return f"shares a territory with {', '.join(owners)}, which no one-rep territory can hold"


def _homes(
    territory_ids: list[str], reference: Plan | None, rep_homes_km: pd.DataFrame | None
) -> np.ndarray | None:
    """Mean rep home (km) of each territory's reps, NaN where it has none."""
    if reference is None or rep_homes_km is None or not len(rep_homes_km):
        return None
    reps = reference.territory_reps
    joined = rep_homes_km.reindex(reps.index)[["x_km", "y_km"]].assign(territory_id=reps.to_numpy()).dropna()
    centre = joined.groupby("territory_id")[["x_km", "y_km"]].mean()
    return centre.reindex(territory_ids).to_numpy(dtype=float)


def _check_locks_balance(instance: Instance) -> None:
    """Units locked to one territory must not already exceed its upper tolerance."""
    locked = instance.locked
    if not (locked >= 0).any():
        return
    K = instance.n_territories
    for j, measure in enumerate(instance.measures):
        if not instance.hard[j]:
            continue
        load = (
            np.bincount(locked[locked >= 0], weights=instance.share[locked >= 0, j], minlength=K)
            / instance.reps
        )
        over = np.flatnonzero(load > 1 + instance.tolerances[j] + 1e-9)
        if len(over):
            t = over[np.argmax(load[over])]
            raise InfeasibleError(
                f"units locked to territory {instance.territory_ids[t]} already hold {load[t]:.0%} of its "
                f"{measure} target (upper tolerance {1 + instance.tolerances[j]:.0%})",
                constraint=f"the locks on {instance.territory_ids[t]} or the {measure} tolerance",
                suggestion=f"unlock units worth at least {load[t] - 1 - instance.tolerances[j]:.0%} "
                "of a target, "
                f"or raise the {measure} tolerance to {load[t] - 1:.0%}",
            )


def adjacency_lists(instance: Instance) -> list[list[int]]:
    """Neighbours of each unit as Python lists (fast to walk in pure-Python loops)."""
    indptr, indices = instance.indptr.tolist(), instance.indices.tolist()
    return [indices[indptr[u] : indptr[u + 1]] for u in range(len(indptr) - 1)]


def without_territories(
    instance: Instance, labels: np.ndarray, drop: np.ndarray
) -> tuple[Instance, np.ndarray]:
    """The instance and labels without the territories marked in ``drop``, which hold no unit.

    The search retires a territory when it gives its rep to another (see
    :mod:`planner.optimize.search.relocation`); the result lists only the territories that remain.
    Unit arrays pointing at a dropped territory (start, reference) become -1.
    """
    if (drop[labels]).any():
        raise ValueError("a territory to drop still holds units")
    keep = np.flatnonzero(~drop)
    remap = np.full(instance.n_territories + 1, -1)  # the last entry maps -1 to -1
    remap[keep] = np.arange(len(keep))
    smaller = replace(
        instance,
        start=remap[instance.start],
        reference=remap[instance.reference],
        locked=remap[instance.locked],
        territory_ids=[instance.territory_ids[t] for t in keep],
        reps=instance.reps[keep],
        territory_homes_km=instance.territory_homes_km[keep],
        frozen_territory=instance.frozen_territory[keep],
        fixed_reps=instance.fixed_reps[keep],
    )
    return smaller, remap[labels]


def composite_load(instance: Instance) -> np.ndarray:
    """Weighted mean of each unit's share over the hard measures, or all when none is hard.

    One rep's fair share = 1. Soft measures do not shape the start: the hard ones come first.
    """
    weights = instance.weights * instance.hard if instance.hard.any() else instance.weights
    weights = weights if weights.sum() > 0 else np.ones(len(weights))
    return instance.share @ (weights / weights.sum())
