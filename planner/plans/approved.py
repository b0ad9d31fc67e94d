"""An approved plan: the contract between quota workflow, exports and the comp calculator.

The workflow (:mod:`planner.store`) approves plan versions; exports and the comp
calculator read them as :class:`ApprovedPlan` values and never touch the database.
Several approved plans ordered by ``effective_from`` form the effective-dated history
that crediting uses for mid-period realignments.

Quota table columns (``ApprovedPlan.quotas``):

- ``territory_id`` (str): a territory of ``plan``;
- ``period`` (str): ``"YYYY-MM"`` for monthly or ``"YYYY-Qn"`` for quarterly phasing;
- ``quota_cents`` (int64): the territory's quota for that period, in integer cents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from planner.errors import PlanError
from planner.plans.plan import Plan

QUOTA_COLUMNS = ("territory_id", "period", "quota_cents")
PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$"


def check_quota_table(quotas: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Validate a quota table against ``plan``; return it with clean dtypes.

    Raises :class:`PlanError` naming the bad column, period or territory.
    """
    missing = [c for c in QUOTA_COLUMNS if c not in quotas.columns]
    if missing:
        raise PlanError(f"quota table lacks column(s) {missing}; give {list(QUOTA_COLUMNS)}")
    table = quotas.loc[:, list(QUOTA_COLUMNS)].copy()
    table["territory_id"] = table["territory_id"].astype(str)
    table["period"] = table["period"].astype(str)
    bad_period = table.loc[~table["period"].str.match(PERIOD_PATTERN), "period"].unique().tolist()
    if bad_period:
        raise PlanError(f"quota periods {bad_period[:5]} are not 'YYYY-MM' or 'YYYY-Qn'")
    unknown = sorted(set(table["territory_id"]) - set(plan.territories))
    if unknown:
        raise PlanError(f"quotas for unknown territories {unknown[:10]}; use territory ids of the plan")
    cents = pd.to_numeric(table["quota_cents"], errors="coerce")
    if cents.isna().any() or (cents < 0).any() or (cents != cents.round()).any():
        bad = table.loc[cents.isna() | (cents < 0) | (cents != cents.round()), "quota_cents"].head(5).tolist()
        raise PlanError(f"quota_cents must be whole, non-negative cents; got {bad}")
    table["quota_cents"] = cents.astype("int64")
    duplicated = table.duplicated(["territory_id", "period"])
    if duplicated.any():
        first = table.loc[duplicated, ["territory_id", "period"]].iloc[0].tolist()
        raise PlanError(f"quota given twice for territory {first[0]} in period {first[1]}")
    return table.reset_index(drop=True)


@dataclass(frozen=True)
class ApprovedPlan:
    """One approved (or published) plan version, read-only.

    Parameters
    ----------
    version_id : int
        Id of the version in the store.
    name : str
        Label, e.g. ``"FY2027 v3"``.
    effective_from : datetime.date
        First day the alignment, ownership and quotas apply (until the next approved
        plan's ``effective_from``).
    plan : Plan
        Units to territories (``plan.assignment``) and reps to territories
        (``plan.territory_reps``).
    quotas : pandas.DataFrame
        Phased quotas, columns ``territory_id``, ``period``, ``quota_cents`` (see module doc).
    approved_by : str
        User id of the approver.
    approved_at : datetime.datetime
        When it was approved (UTC).
    """

    version_id: int
    name: str
    effective_from: date
    plan: Plan
    quotas: pd.DataFrame
    approved_by: str = ""
    approved_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "quotas", check_quota_table(self.quotas, self.plan))

    def annual_quota_cents(self) -> pd.Series:
        """Sum of period quotas per territory (int64 cents), indexed by territory_id."""
        return self.quotas.groupby("territory_id")["quota_cents"].sum().astype("int64")
