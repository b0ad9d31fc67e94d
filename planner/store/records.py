"""What the store hands out: users, version info and whole plan versions, built from database rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pandas as pd
import sqlalchemy as sa

from planner.errors import PlanError
from planner.plans.plan import Plan
from planner.plans.quota_lines import QuotaLine
from planner.store.roles import Role
from planner.store.workflow import Status


@dataclass(frozen=True)
class User:
    """A person using the planner; managers carry the ``rep_id`` their team reports to.

    ``email`` is what the identity provider vouches for when they sign in to the app;
    ``db_login`` the PostgreSQL login they use the command line with on a shared database.
    """

    user_id: str
    name: str
    role: Role
    rep_id: str | None = None
    email: str | None = None
    db_login: str | None = None


@dataclass(frozen=True)
class VersionInfo:
    """One row of ``plan_versions``: status, revision and who did what when."""

    version_id: int
    name: str
    status: Status
    revision: int
    parent_id: int | None
    target_cents: int
    effective_from: date
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None


@dataclass(frozen=True)
class VersionLine:
    """One quota line of a stored version: its definition, target, inputs and phased quotas.

    Amounts are hundredths of the line's unit (cents for USD). ``territories`` is indexed
    by ``territory_id`` with ``potential_cents``, ``forecast_cents``, ``last_quota_cents``
    (may be missing) and ``annual_quota_cents`` (sum of the period quotas); ``quotas`` has
    ``territory_id``, ``period``, ``quota_cents``.
    """

    line: QuotaLine
    target_cents: int
    allocation_basis: dict | None  #: the attainment goal and the total chosen (AttainmentPlan.record)
    territories: pd.DataFrame
    quotas: pd.DataFrame

    @property
    def name(self) -> str:
        """The line's name."""
        return self.line.name

    @property
    def total_cents(self) -> int:
        """Sum of every territory's quota of this line, in hundredths of its unit."""
        return int(self.quotas["quota_cents"].sum())


@dataclass(frozen=True)
class PlanVersion:
    """A plan version as stored: alignment, reps and its quota lines.

    ``reps`` is indexed by ``rep_id`` with ``territory_id``, ``name`` and ``manager_id``;
    ``lines`` maps each line's name to its :class:`VersionLine`, in name order.
    """

    info: VersionInfo
    plan: Plan
    reps: pd.DataFrame
    lines: dict[str, VersionLine]

    def line(self, name: str | None = None) -> VersionLine:
        """The quota line called ``name``; None for the version's only line."""
        if name is None:
            if len(self.lines) != 1:
                raise PlanError(
                    f"v{self.info.version_id} has quota lines {', '.join(self.lines)}; say which line"
                )
            return next(iter(self.lines.values()))
        if name not in self.lines:
            raise PlanError(
                f"v{self.info.version_id} has no quota line '{name}'; its lines are {', '.join(self.lines)}"
            )
        return self.lines[name]

    @property
    def quotas(self) -> pd.DataFrame:
        """Every line's phased quotas: ``territory_id``, ``line``, ``period``, ``quota_cents``."""
        frames = [v.quotas.assign(line=name) for name, v in self.lines.items()]
        table = pd.concat(frames, ignore_index=True)
        return table[["territory_id", "line", "period", "quota_cents"]]

    def team_of(self, manager_rep_id: str | None) -> frozenset[str]:
        """Territories covered by reps who report to ``manager_rep_id``."""
        if manager_rep_id is None:
            return frozenset()
        return frozenset(self.reps.loc[self.reps["manager_id"] == manager_rep_id, "territory_id"])


def now() -> datetime:
    """The current time in UTC (every timestamp the store writes)."""
    return datetime.now(UTC)


def utc(value: datetime | None) -> datetime | None:
    """``value`` marked as UTC when the database returned it without a time zone (SQLite)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def user_from_row(row: sa.Row) -> User:
    """A :class:`User` from a ``users`` row."""
    return User(row.user_id, row.name, Role(row.role), row.rep_id, row.email, row.db_login)


def info_from_row(row: sa.Row) -> VersionInfo:
    """A :class:`VersionInfo` from a ``plan_versions`` row."""
    return VersionInfo(
        version_id=row.version_id,
        name=row.name,
        status=Status(row.status),
        revision=row.revision,
        parent_id=row.parent_id,
        target_cents=int(row.target_cents),
        effective_from=row.effective_from,
        created_by=row.created_by,
        created_at=utc(row.created_at),
        approved_by=row.approved_by,
        approved_at=utc(row.approved_at),
    )
