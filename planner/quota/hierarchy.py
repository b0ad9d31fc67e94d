"""Quotas rolled up the sales hierarchy: territory, manager, region, company, each with its fairness.

A territory belongs to the manager of the rep who covers it (``reps.manager_id``; a
vacant territory or a rep without a manager rolls up to ``"(no manager)"``), a manager to
the region where most of their territories' potential lies (``territory_region``, e.g.
from the units' ``region`` column; one region ``"(all)"`` without it), and regions to the
company. A level's quota is the sum of its children's times ``1 + over_assignment_frac``
of that level (0 by default: managers and regions carry exactly their teams' quotas).
Each node's fairness figures are those of its own territories
(:func:`planner.quota.fairness.fairness_report`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from planner.errors import PlannerError
from planner.quota.fairness import fairness_report

LEVELS = ("company", "region", "manager", "territory")
NO_MANAGER = "(no manager)"
ALL_REGIONS = "(all)"
COMPANY = "company"
COLUMNS = [
    "level",
    "node_id",
    "parent_id",
    "territories",
    "quota_cents",
    "potential_usd",
    "forecast_usd",
    "quota_potential_spearman",
    "quota_per_potential_gini",
    "attainment_size_spearman",
    "at_or_above_quota_frac",
]


def quota_hierarchy(
    quotas_cents: pd.Series,
    potential_usd: pd.Series,
    forecast_usd: pd.Series,
    territory_manager: pd.Series,
    territory_region: pd.Series | None = None,
    *,
    over_assignment_frac: Mapping[str, float] | None = None,
    forecast_cv_frac: float | None = None,
) -> pd.DataFrame:
    """The hierarchy of quotas, company first, each node followed by its children.

    Parameters
    ----------
    quotas_cents, potential_usd, forecast_usd : pandas.Series
        Per territory (index ``territory_id``): annual quota (whole cents), potential, forecast.
    territory_manager : pandas.Series
        Manager id per territory (missing: no manager).
    territory_region : pandas.Series, optional
        Region per territory; managers go to the region with most of their potential.
    over_assignment_frac : mapping, optional
        Over-assignment per level (``"manager"``, ``"region"``, ``"company"``), e.g.
        ``{"manager": 0.05}``: a manager's quota is 5% above the sum of their territories'.
    forecast_cv_frac : float, optional
        Forecast uncertainty for the share at or above quota (point forecasts when None).

    Returns
    -------
    pandas.DataFrame
        One row per node: ``level``, ``node_id``, ``parent_id``, ``territories`` (count),
        ``quota_cents`` (int64), ``potential_usd``, ``forecast_usd`` and the node's
        fairness figures over its territories.
    """
    over = dict(over_assignment_frac or {})
    unknown = set(over) - set(LEVELS[:3])
    if unknown or any(not -0.5 <= v <= 1 for v in over.values()):
        raise PlannerError(
            f"over-assignment per level {over} must name 'manager', 'region' or 'company' with a fraction "
            "between -0.5 and 1, e.g. {'manager': 0.05}"
        )
    territories = pd.Index(quotas_cents.index.astype(str), name="territory_id")
    frame = pd.DataFrame(
        {
            "quota_cents": quotas_cents.to_numpy(dtype=np.int64),
            "potential_usd": potential_usd.reindex(territories).to_numpy(dtype=float),
            "forecast_usd": forecast_usd.reindex(territories).to_numpy(dtype=float),
        },
        index=territories,
    )
    frame["manager"] = territory_manager.reindex(territories).astype(object).fillna(NO_MANAGER).astype(str)
    regions = (
        territory_region.reindex(territories).astype(object).fillna(ALL_REGIONS).astype(str)
        if territory_region is not None
        else pd.Series(ALL_REGIONS, index=territories)
    )
    weight = frame["potential_usd"].groupby([frame["manager"], regions]).sum()
    manager_region = weight.groupby(level=0).idxmax().map(lambda key: key[1])
    frame["region"] = frame["manager"].map(manager_region)

    rows: list[dict] = []

    def node(level: str, node_id: str, parent: str | None, members: pd.DataFrame, quota: int) -> None:
        report = fairness_report(
            members["quota_cents"],
            members["potential_usd"],
            members["forecast_usd"],
            forecast_cv_frac=forecast_cv_frac,
        )
        rows.append(
            {
                "level": level,
                "node_id": node_id,
                "parent_id": parent,
                "territories": len(members),
                "quota_cents": int(quota),
                "potential_usd": float(members["potential_usd"].sum()),
                "forecast_usd": float(members["forecast_usd"].sum()),
                **report.summary(),
            }
        )

    def raised(cents: int, level: str) -> int:
        return round(cents * (1 + over.get(level, 0.0)))

    region_quotas = {}
    for region, in_region in frame.groupby("region", sort=True):
        managers = {
            m: raised(int(team["quota_cents"].sum()), "manager") for m, team in in_region.groupby("manager")
        }
        region_quotas[region] = (in_region, managers, raised(sum(managers.values()), "region"))
    company = raised(sum(q for _, _, q in region_quotas.values()), "company")
    node("company", COMPANY, None, frame, company)
    for region, (in_region, managers, quota) in region_quotas.items():
        node("region", region, COMPANY, in_region, quota)
        for manager, team in in_region.groupby("manager", sort=True):
            node("manager", manager, region, team, managers[manager])
            for territory, one in team.iterrows():
                node("territory", str(territory), manager, team.loc[[territory]], int(one["quota_cents"]))
    return pd.DataFrame(rows, columns=COLUMNS)


def territory_regions(units: pd.DataFrame, assignment: pd.Series) -> pd.Series | None:
    """Region of each territory: the ``region`` of the units with most of its potential (None without)."""
    if "region" not in units.columns:
        return None
    weight = units["tam_usd"] if "tam_usd" in units.columns else pd.Series(1.0, index=units.index)
    table = pd.DataFrame(
        {"territory": assignment.reindex(units.index), "region": units["region"], "w": weight}
    )
    table = table.dropna(subset=["territory"])
    sums = table.groupby(["territory", "region"])["w"].sum()
    return sums.groupby(level=0).idxmax().map(lambda key: key[1]).rename_axis("territory_id")
