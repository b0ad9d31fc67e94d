"""Plan metrics: pure functions of a plan, used by the optimizer report, the UI and the tests.

Balance is judged per rep: a territory with ``r`` reps has target ``r x total / reps``
for every measure, and its deviation is ``total / target - 1`` (a fraction; 0.02 = 2%
above target). Distances are in kilometres in the equal-area CRS of the units.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from planner.data.adjacency import Adjacency
from planner.data.geometry import equal_area_crs
from planner.plans.dissolve import union_of
from planner.plans.plan import Plan, diff_plans


def unit_points_km(units: gpd.GeoDataFrame) -> pd.DataFrame:
    """Unit centroids as ``x_km``, ``y_km`` in the units' equal-area CRS, indexed by unit_id."""
    projected = units.geometry.to_crs(equal_area_crs(units))
    centroids = projected.centroid
    return pd.DataFrame({"x_km": centroids.x / 1000.0, "y_km": centroids.y / 1000.0}, index=units.index)


def rep_counts(plan: Plan, reps_per_territory: Mapping[str, int] | pd.Series | None = None) -> pd.Series:
    """Reps per territory: given, or from the plan's ``territory_reps``; at least 1 each."""
    if reps_per_territory is not None:
        counts = pd.Series(reps_per_territory, dtype=float).reindex(plan.territories).fillna(1.0)
    else:
        counts = plan.rep_count().astype(float)
    return counts.clip(lower=1.0).rename("reps")


def territory_totals(plan: Plan, units: pd.DataFrame, measures: list[str]) -> pd.DataFrame:
    """Sum of each measure per territory (index ``territory_id``)."""
    return (
        units[measures]
        .groupby(plan.assignment.reindex(units.index).to_numpy())
        .sum()
        .rename_axis("territory_id")
    )


def deviations(totals: pd.DataFrame, reps: pd.Series) -> pd.DataFrame:
    """Per territory and measure: ``total / (reps x total of all / reps of all) - 1``."""
    reps = reps.reindex(totals.index).fillna(1.0)
    per_rep_target = totals.sum() / reps.sum()
    return totals.div(reps, axis=0) / per_rep_target - 1.0


def balance_summary(
    plan: Plan,
    units: pd.DataFrame,
    tolerances: Mapping[str, float],
    reps: pd.Series | None = None,
) -> pd.DataFrame:
    """Balance per measure (rows): ``max_abs_dev``, ``range``, ``cv``, ``share_within_tol``.

    ``max_abs_dev`` = max |per-rep total - mean| / mean; ``range`` = (max - min) / mean of
    per-rep totals; ``cv`` = coefficient of variation of per-rep totals;
    ``share_within_tol`` = share of territories whose deviation is within the tolerance.
    All are fractions (0.01 = 1%).
    """
    measures = list(tolerances)
    reps = rep_counts(plan) if reps is None else reps
    dev = deviations(territory_totals(plan, units, measures), reps)
    per_rep = dev + 1.0
    rows = {}
    for measure in measures:
        rows[measure] = {
            "tolerance": tolerances[measure],
            "max_abs_dev": float(dev[measure].abs().max()),
            "range": float(per_rep[measure].max() - per_rep[measure].min()),
            "cv": float(per_rep[measure].std(ddof=0) / per_rep[measure].mean()),
            "share_within_tol": float((dev[measure].abs() <= tolerances[measure] + 1e-12).mean()),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("measure")


def _pieces(plan: Plan, adjacency: Adjacency) -> tuple[np.ndarray, np.ndarray]:
    """Territory label and within-territory connected-piece id of every unit (adjacency order)."""
    labels = plan.assignment.reindex(adjacency.unit_ids).to_numpy()
    coo = adjacency.matrix.tocoo()
    same = labels[coo.row] == labels[coo.col]
    inner = sparse.csr_array(
        (np.ones(int(same.sum())), (coo.row[same], coo.col[same])), shape=adjacency.matrix.shape
    )
    return labels, connected_components(inner, directed=False)[1]


def contiguity_pieces(plan: Plan, adjacency: Adjacency) -> pd.Series:
    """Number of connected pieces of each territory in the adjacency graph."""
    labels, component = _pieces(plan, adjacency)
    pieces = pd.Series(component).groupby(labels).nunique()
    return pieces.rename("pieces").rename_axis("territory_id")


def detached_units(plan: Plan, adjacency: Adjacency) -> pd.Series:
    """Units cut off from the main piece of their territory, with that territory.

    For each territory in more than one connected piece, the units of every piece but
    the largest (most units; ties go to the piece holding the smallest unit position).
    Empty when every territory is contiguous.
    """
    labels, component = _pieces(plan, adjacency)
    frame = pd.DataFrame({"territory_id": labels, "piece": component})
    sizes = frame.groupby(["territory_id", "piece"]).size().rename("size").reset_index()
    main = sizes.sort_values(["size", "piece"], ascending=[False, True]).drop_duplicates("territory_id")
    detached = ~frame["piece"].isin(main["piece"]).to_numpy()
    return pd.Series(
        labels[detached], index=pd.Index(adjacency.unit_ids[detached], name="unit_id"), name="territory_id"
    )


def territory_neighbors(plan: Plan, adjacency: Adjacency) -> dict[str, list[str]]:
    """Territories that share a border (an adjacency edge), per territory, sorted by id."""
    labels = plan.assignment.reindex(adjacency.unit_ids).to_numpy()
    coo = adjacency.matrix.tocoo()
    across = labels[coo.row] != labels[coo.col]
    pairs = pd.DataFrame({"a": labels[coo.row[across]], "b": labels[coo.col[across]]}).drop_duplicates()
    neighbors = {t: [] for t in plan.territories}
    for a, group in pairs.groupby("a"):
        neighbors[a] = sorted(group["b"])
    return neighbors


def group_deviation(deviations: pd.DataFrame, reps: pd.Series, territories: list[str]) -> pd.Series:
    """Per-rep deviation of several territories taken together, per measure.

    ``sum(r x (1 + dev)) / sum(r) - 1`` over ``territories``: what their units hold per
    rep against the fair share. When it is beyond a tolerance, no redrawing of the borders
    among these territories alone can bring all of them within it (their totals are fixed).
    """
    r = reps.reindex(territories).fillna(1.0)
    return (deviations.loc[territories] + 1.0).mul(r, axis=0).sum() / r.sum() - 1.0


def transport_floor(
    plan: Plan, units: pd.DataFrame, measure: str, reps: pd.Series, *, tolerance_frac: float = 0.0
) -> float:
    """Least share of ``measure`` that must change territory to bring every territory within tolerance.

    Every territory holding more than its reps' share times ``1 + tolerance_frac`` must
    give the excess away, so the sum of the excesses (as a share of the total) is a lower
    bound on what any plan with these territories and rep counts moves; with
    ``tolerance_frac=0`` it is the floor of perfect balance. Units are indivisible, so the
    true least is at least this.
    """
    totals = territory_totals(plan, units, [measure])[measure]
    r = reps.reindex(totals.index).fillna(1.0)
    fair = totals.sum() / r.sum()
    excess = (totals - r * fair * (1.0 + tolerance_frac)).clip(lower=0.0)
    return float(excess.sum() / totals.sum())


def contiguity_violations(plan: Plan, adjacency: Adjacency) -> int:
    """Sum over territories of (connected pieces - 1); 0 means every territory is contiguous."""
    return int((contiguity_pieces(plan, adjacency) - 1).sum())


def dispersion_km(plan: Plan, points: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """Per territory: weighted mean distance (km) of its units to its weighted centre.

    The centre is the ``weights``-weighted mean of unit centroids; a unit with zero
    weight still counts with a small floor so empty-measure units are not free.
    """
    labels = plan.assignment.reindex(points.index).to_numpy()
    w = weights.reindex(points.index).fillna(0.0).to_numpy(dtype=float)
    w = w + 1e-3 * (w.sum() / max(len(w), 1))
    frame = pd.DataFrame({"x": points["x_km"].to_numpy() * w, "y": points["y_km"].to_numpy() * w, "w": w})
    sums = frame.groupby(labels).sum()
    centre = sums[["x", "y"]].div(sums["w"], axis=0)
    cx = centre["x"].reindex(labels).to_numpy()
    cy = centre["y"].reindex(labels).to_numpy()
    dist = np.hypot(points["x_km"].to_numpy() - cx, points["y_km"].to_numpy() - cy)
    weighted = pd.Series(dist * w).groupby(labels).sum() / sums["w"]
    return weighted.rename("dispersion_km").rename_axis("territory_id")


def polsby_popper(plan: Plan, units: gpd.GeoDataFrame) -> pd.Series:
    """Polsby-Popper compactness 4 pi A / P^2 of each territory's dissolved shape (1 = disc)."""
    projected = units.geometry.to_crs(equal_area_crs(units))
    labels = plan.assignment.reindex(units.index).to_numpy()
    result = {}
    for territory, geoms in projected.groupby(labels):
        shape = union_of(geoms.to_numpy())
        perimeter = shape.length
        result[territory] = 4 * np.pi * shape.area / perimeter**2 if perimeter else 0.0
    return pd.Series(result, name="polsby_popper").rename_axis("territory_id")


def travel_km(
    plan: Plan, points: pd.DataFrame, weights: pd.Series, territory_homes_km: pd.DataFrame
) -> pd.DataFrame:
    """Per territory with a rep home: weighted mean and max distance (km) from home to its units.

    ``territory_homes_km`` has ``x_km``, ``y_km`` indexed by territory_id (one home per territory;
    for a multi-rep territory, the first rep's).
    """
    labels = plan.assignment.reindex(points.index)
    frame = points.assign(territory_id=labels.to_numpy(), w=weights.reindex(points.index).fillna(0.0))
    frame = frame[frame["territory_id"].isin(territory_homes_km.index)]
    home = territory_homes_km.reindex(frame["territory_id"])
    dist = np.hypot(
        frame["x_km"].to_numpy() - home["x_km"].to_numpy(), frame["y_km"].to_numpy() - home["y_km"].to_numpy()
    )
    frame = frame.assign(dist=dist, wd=dist * frame["w"].to_numpy())
    grouped = frame.groupby("territory_id")
    mean = grouped["wd"].sum() / grouped["w"].sum().replace(0.0, np.nan)
    return pd.DataFrame({"mean_km": mean.fillna(grouped["dist"].mean()), "max_km": grouped["dist"].max()})


@dataclass(frozen=True)
class PlanReport:
    """Every metric of one plan (see the functions of this module for definitions)."""

    balance: pd.DataFrame
    deviations: pd.DataFrame
    contiguity_violations: int
    dispersion_km: pd.Series
    polsby_popper: pd.Series | None
    disruption: pd.Series | None
    travel: pd.DataFrame | None
    reps: pd.Series

    def summary(self) -> dict[str, float]:
        """Flat dict of headline numbers (fractions and km), for tables and benchmarks."""
        out: dict[str, float] = {}
        for measure, row in self.balance.iterrows():
            out[f"{measure}_max_abs_dev"] = row["max_abs_dev"]
            out[f"{measure}_within_tol"] = row["share_within_tol"]
        out["contiguity_violations"] = float(self.contiguity_violations)
        out["dispersion_km_mean"] = float(self.dispersion_km.mean())
        if self.polsby_popper is not None:
            out["polsby_popper_min"] = float(self.polsby_popper.min())
            out["polsby_popper_mean"] = float(self.polsby_popper.mean())
        if self.disruption is not None:
            for key, value in self.disruption.items():
                out[f"moved_{key}"] = float(value)
        if self.travel is not None and len(self.travel):
            out["travel_mean_km"] = float(self.travel["mean_km"].mean())
            out["travel_max_km"] = float(self.travel["max_km"].max())
        return out


def plan_report(
    plan: Plan,
    units: gpd.GeoDataFrame,
    adjacency: Adjacency,
    tolerances: Mapping[str, float],
    *,
    reps: pd.Series | None = None,
    reference: Plan | None = None,
    disruption_measures: list[str] | None = None,
    territory_homes_km: pd.DataFrame | None = None,
    weight_measure: str | None = None,
    with_polsby_popper: bool = True,
) -> PlanReport:
    """Compute every metric of ``plan``.

    Parameters
    ----------
    tolerances : mapping
        Measure -> tolerance fraction, for the balance table.
    reps : Series, optional
        Reps per territory (default: from the plan, at least 1).
    reference : Plan, optional
        Plan to measure disruption against (share of units and of each of
        ``disruption_measures`` that changed territory).
    territory_homes_km : DataFrame, optional
        Rep home per territory (``x_km``, ``y_km``) for the travel metric.
    weight_measure : str, optional
        Measure weighting dispersion and travel (default: the first tolerance measure).
    """
    reps = rep_counts(plan) if reps is None else reps
    measures = list(tolerances)
    weight = units[weight_measure or measures[0]]
    points = unit_points_km(units)
    disruption = None
    if reference is not None:
        columns = disruption_measures or measures
        disruption = diff_plans(reference, plan, units[columns]).share_moved
    return PlanReport(
        balance=balance_summary(plan, units, tolerances, reps),
        deviations=deviations(territory_totals(plan, units, measures), reps),
        contiguity_violations=contiguity_violations(plan, adjacency),
        dispersion_km=dispersion_km(plan, points, weight),
        polsby_popper=polsby_popper(plan, units) if with_polsby_popper else None,
        disruption=disruption,
        travel=travel_km(plan, points, weight, territory_homes_km)
        if territory_homes_km is not None
        else None,
        reps=reps,
    )
