"""An approved plan: the contract between quota workflow, exports and the comp calculator.

The workflow (:mod:`planner.store`) approves plan versions; exports and the comp
calculator read them as :class:`ApprovedPlan` values and never touch the database.
Several approved plans ordered by ``effective_from`` form the effective-dated history
that crediting uses for mid-period realignments.

Quota table columns (``ApprovedPlan.quotas``):

- ``territory_id`` (str): a territory of ``plan``;
- ``line`` (str): the quota line (:mod:`planner.quota.lines`); optional on input, where a
  table without it is the single line ``bookings``;
- ``period`` (str): ``"YYYY-MM"`` for monthly or ``"YYYY-Qn"`` for quarterly phasing;
- ``quota_cents`` (int64): the territory's quota for that period, in hundredths of the
  line's unit (integer cents for USD lines).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from planner.errors import PlanError
from planner.plans.plan import Plan
from planner.plans.quota_lines import HUNDREDTHS, QuotaLine, check_lines

QUOTA_COLUMNS = ("territory_id", "line", "period", "quota_cents")
PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$"


def check_quota_table(
    quotas: pd.DataFrame, plan: Plan, lines: tuple[QuotaLine, ...] = (QuotaLine(),)
) -> pd.DataFrame:
    """Validate a quota table against ``plan`` and its ``lines``; return it with clean dtypes.

    Raises :class:`PlanError` naming the bad column, period, territory or line.
    """
    if "line" not in quotas.columns and len(lines) == 1:
        quotas = quotas.assign(line=lines[0].name)
    missing = [c for c in QUOTA_COLUMNS if c not in quotas.columns]
    if missing:
        raise PlanError(f"quota table lacks column(s) {missing}; give {list(QUOTA_COLUMNS)}")
    table = quotas.loc[:, list(QUOTA_COLUMNS)].copy()
    table["territory_id"] = table["territory_id"].astype(str)
    table["period"] = table["period"].astype(str)
    table["line"] = table["line"].astype(str)
    unknown_lines = sorted(set(table["line"]) - {line.name for line in lines})
    if unknown_lines:
        raise PlanError(
            f"quotas for unknown lines {unknown_lines[:5]}; "
            f"the plan's lines are {[line.name for line in lines]}"
        )
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
    duplicated = table.duplicated(["territory_id", "line", "period"])
    if duplicated.any():
        first = table.loc[duplicated, ["territory_id", "line", "period"]].iloc[0].tolist()
        raise PlanError(f"quota given twice for territory {first[0]}, line {first[1]}, in period {first[2]}")
    counted = [line.name for line in lines if line.counts]
    fractional = table["line"].isin(counted) & (table["quota_cents"] % HUNDREDTHS != 0)
    if fractional.any():
        row = table.loc[fractional].iloc[0]
        raise PlanError(
            f"line {row['line']} counts whole units, but territory {row['territory_id']} has "
            f"{row['quota_cents'] / HUNDREDTHS} in {row['period']}"
        )
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
        Phased quotas, columns ``territory_id``, ``line``, ``period``, ``quota_cents`` (see module doc).
    lines : tuple of QuotaLine
        The plan's quota lines (default: the single USD line ``bookings``).
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
    lines: tuple[QuotaLine, ...] = (QuotaLine(),)
    approved_by: str = ""
    approved_at: datetime | None = None

    def __post_init__(self) -> None:
        check_lines(list(self.lines))
        object.__setattr__(self, "quotas", check_quota_table(self.quotas, self.plan, self.lines))

    def line(self, name: str | None = None) -> QuotaLine:
        """The quota line called ``name``; None for the plan's only line."""
        if name is None and len(self.lines) == 1:
            return self.lines[0]
        names = [line.name for line in self.lines]
        if name not in names:
            asked = f"no quota line '{name}'" if name is not None else "several quota lines"
            raise PlanError(f"plan '{self.name}' has {asked}; its lines are {', '.join(names)}")
        return self.lines[names.index(name)]

    def line_quotas(self, name: str | None = None) -> pd.DataFrame:
        """The phased quotas of one line (``territory_id``, ``period``, ``quota_cents``)."""
        line = self.line(name)
        rows = self.quotas.loc[self.quotas["line"] == line.name]
        return rows.drop(columns="line").reset_index(drop=True)

    def annual_quota_cents(self, line: str | None = None) -> pd.Series:
        """Sum of one line's period quotas per territory (int64 hundredths), indexed by territory_id."""
        return self.line_quotas(line).groupby("territory_id")["quota_cents"].sum().astype("int64")
