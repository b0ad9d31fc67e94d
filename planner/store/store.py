"""The plan store: versioned plans, quota proposals, approvals and the audit log in a database.

Storage goes through SQLAlchemy, so the same code runs on an SQLite file (the embedded
default, zero set-up) and on PostgreSQL (a team deployment: pass its URL). The schema is
created and upgraded by Alembic (:func:`planner.store.migrate.migrate`).

Guarantees
----------
- Roles are enforced here, in the core (:mod:`planner.store.roles`), for every action.
- Every change runs in one transaction together with its audit event: a failed or
  killed save leaves the database as it was, and approved versions are never touched.
- Optimistic locking: each version has a ``revision`` number. A change first does
  ``UPDATE plan_versions SET revision = revision + 1 WHERE revision = <expected>``; when
  someone saved in between, nothing is written and :class:`ConflictError` says who
  changed what, so nobody silently overwrites a colleague's edit.
- The audit log is append-only (database triggers refuse UPDATE and DELETE).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from planner.errors import ConflictError, PermissionDenied, PlanError
from planner.money import split_cents, usd_to_cents
from planner.plans.approved import ApprovedPlan, check_quota_table
from planner.plans.plan import Plan
from planner.store import schema
from planner.store.migrate import create_engine_for, migrate
from planner.store.roles import Role, require, require_team
from planner.store.workflow import Status, next_status, require_editable


@dataclass(frozen=True)
class User:
    """A person using the planner; managers carry the ``rep_id`` their team reports to."""

    user_id: str
    name: str
    role: Role
    rep_id: str | None = None


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
class PlanVersion:
    """A plan version as stored: alignment, reps, territory inputs and phased quotas.

    ``territories`` is indexed by ``territory_id`` with ``potential_cents``,
    ``forecast_cents``, ``last_quota_cents`` (may be missing) and ``annual_quota_cents``
    (sum of the period quotas). ``reps`` is indexed by ``rep_id`` with ``territory_id``,
    ``name`` and ``manager_id``. ``quotas`` follows :mod:`planner.plans.approved`.
    """

    info: VersionInfo
    plan: Plan
    reps: pd.DataFrame
    territories: pd.DataFrame
    quotas: pd.DataFrame

    def team_of(self, manager_rep_id: str | None) -> frozenset[str]:
        """Territories covered by reps who report to ``manager_rep_id``."""
        if manager_rep_id is None:
            return frozenset()
        return frozenset(self.reps.loc[self.reps["manager_id"] == manager_rep_id, "territory_id"])

    @property
    def total_quota_cents(self) -> int:
        """Sum of every territory's quota, in cents."""
        return int(self.quotas["quota_cents"].sum())


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _json(payload: dict | None) -> str | None:
    return None if payload is None else json.dumps(payload, sort_keys=True, default=str)


class PlanStore:
    """Versioned plans with proposals, approvals and an audit log, in SQLite or PostgreSQL.

    Parameters
    ----------
    url : str
        SQLAlchemy URL, e.g. ``sqlite:///terrain.db`` or
        ``postgresql+psycopg://user:password@host/db``.
    schema_name : str, optional
        PostgreSQL schema to use (created when missing); lets tests isolate themselves.

    Every mutating method takes the acting ``user_id`` first and an optional
    ``expected_revision`` (the revision the caller last read); pass it from interactive
    clients so a stale screen gets :class:`ConflictError` instead of overwriting.
    """

    def __init__(self, url: str, *, schema_name: str | None = None) -> None:
        self.url = url
        self.engine: Engine = create_engine_for(url, schema_name=schema_name)
        self._approved: dict[int, ApprovedPlan] = {}  # approved content never changes: read it once
        migrate(self.engine)

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    # ----------------------------------------------------------------- users
    def add_user(
        self, actor: str | None, user_id: str, name: str, role: Role | str, rep_id: str | None = None
    ) -> User:
        """Add a user. The very first user must be an admin and needs no actor; later ones need an admin."""
        role = Role(role)
        with self._transaction() as conn:
            has_users = conn.execute(sa.select(sa.func.count()).select_from(schema.users)).scalar_one() > 0
            if has_users:
                acting = self._user(conn, actor)
                require(acting.user_id, acting.role, "manage_users")
            elif role is not Role.ADMIN:
                raise PermissionDenied("the first user must be an admin (who then adds the others)")
            if conn.execute(
                sa.select(schema.users.c.user_id).where(schema.users.c.user_id == user_id)
            ).first():
                raise PlanError(f"user '{user_id}' exists already; choose another user id")
            if role is Role.MANAGER and not rep_id:
                raise PlanError(f"manager '{user_id}' needs the rep_id their team reports to")
            conn.execute(
                schema.users.insert().values(user_id=user_id, name=name, role=role.value, rep_id=rep_id)
            )
            self._audit(conn, actor or user_id, "add_user", after={"user_id": user_id, "role": role.value})
        return User(user_id, name, role, rep_id)

    def users(self) -> list[User]:
        """Every user, sorted by id."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(schema.users).order_by(schema.users.c.user_id)).all()
        return [User(r.user_id, r.name, Role(r.role), r.rep_id) for r in rows]

    def user(self, user_id: str) -> User:
        """The user with ``user_id``; :class:`PermissionDenied` when unknown."""
        with self.engine.connect() as conn:
            return self._user(conn, user_id)

    # -------------------------------------------------------------- versions
    def create_version(
        self,
        actor: str,
        *,
        name: str,
        plan: Plan,
        reps: pd.DataFrame,
        territories: pd.DataFrame,
        quotas: pd.DataFrame,
        target_cents: int,
        effective_from: date,
    ) -> VersionInfo:
        """Save a new draft version.

        Parameters
        ----------
        actor : str
            Acting user (admin).
        name : str
            Label, e.g. ``"FY2027 draft"``.
        plan : Plan
            Alignment and rep coverage.
        reps : pandas.DataFrame
            Indexed by ``rep_id`` with ``name`` and ``manager_id`` (every rep of the plan).
        territories : pandas.DataFrame
            Indexed by ``territory_id`` with ``potential_usd`` and ``forecast_usd`` and
            optionally ``last_quota_cents``; one row per territory of the plan.
        quotas : pandas.DataFrame
            Phased quotas (``territory_id``, ``period``, ``quota_cents``).
        target_cents : int
            Company target the quotas were allocated from, in cents.
        effective_from : datetime.date
            First day the plan applies.
        """
        quota_table = check_quota_table(quotas, plan)
        territory_rows = self._territory_rows(plan, territories)
        rep_rows = self._rep_rows(plan, reps)
        with self._transaction() as conn:
            acting = self._user(conn, actor)
            require(acting.user_id, acting.role, "create_version")
            version_id = self._insert_version(
                conn, acting.user_id, name, int(target_cents), effective_from, parent_id=None
            )
            self._insert_contents(conn, version_id, plan, rep_rows, territory_rows, quota_table)
            self._audit(
                conn,
                acting.user_id,
                "create_version",
                version_id,
                after={"name": name, "total_quota_cents": int(quota_table["quota_cents"].sum())},
            )
        return self.info(version_id)

    def copy_version(self, actor: str, version_id: int, *, name: str) -> VersionInfo:
        """Start a new draft from a copy of ``version_id`` (the way to change an approved plan)."""
        with self._transaction() as conn:
            acting = self._user(conn, actor)
            require(acting.user_id, acting.role, "create_version")
            source = self._info(conn, version_id)
            new_id = self._insert_version(
                conn, acting.user_id, name, source.target_cents, source.effective_from, parent_id=version_id
            )
            for table in (
                schema.version_units,
                schema.version_reps,
                schema.version_territories,
                schema.version_quotas,
            ):
                columns = [c for c in table.c if c.name != "version_id"]
                select = sa.select(sa.literal(new_id), *columns).where(table.c.version_id == version_id)
                conn.execute(table.insert().from_select(["version_id", *(c.name for c in columns)], select))
            self._audit(conn, acting.user_id, "copy_version", new_id, before={"copied_from": version_id})
        return self.info(new_id)

    def info(self, version_id: int) -> VersionInfo:
        """Status, revision and history fields of one version."""
        with self.engine.connect() as conn:
            return self._info(conn, version_id)

    def versions(self) -> list[VersionInfo]:
        """Every version, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(schema.plan_versions).order_by(schema.plan_versions.c.version_id.desc())
            ).all()
        return [self._info_from_row(r) for r in rows]

    def version(self, version_id: int) -> PlanVersion:
        """Load a whole version (one consistent read)."""
        with self.engine.connect() as conn, conn.begin():
            info = self._info(conn, version_id)
            units = pd.read_sql(
                sa.select(schema.version_units.c.unit_id, schema.version_units.c.territory_id)
                .where(schema.version_units.c.version_id == version_id)
                .order_by(schema.version_units.c.unit_id),
                conn,
            )
            reps = pd.read_sql(
                sa.select(schema.version_reps).where(schema.version_reps.c.version_id == version_id), conn
            )
            territories = pd.read_sql(
                sa.select(schema.version_territories).where(
                    schema.version_territories.c.version_id == version_id
                ),
                conn,
            )
            quotas = pd.read_sql(
                sa.select(
                    schema.version_quotas.c.territory_id,
                    schema.version_quotas.c.period,
                    schema.version_quotas.c.quota_cents,
                )
                .where(schema.version_quotas.c.version_id == version_id)
                .order_by(schema.version_quotas.c.territory_id, schema.version_quotas.c.period),
                conn,
            )
        reps = reps.drop(columns="version_id").set_index("rep_id").sort_index()
        plan = Plan(
            units.set_index("unit_id")["territory_id"],
            reps["territory_id"],
            name=f"v{version_id} {info.name}",
        )
        territories = territories.drop(columns="version_id").set_index("territory_id").sort_index()
        quotas["quota_cents"] = quotas["quota_cents"].astype("int64")
        annual = quotas.groupby("territory_id")["quota_cents"].sum()
        territories["annual_quota_cents"] = annual.reindex(territories.index, fill_value=0).astype("int64")
        territories["last_quota_cents"] = territories["last_quota_cents"].astype("Int64")
        return PlanVersion(info, plan, reps, territories, quotas)

    # ---------------------------------------------------------------- quotas
    def set_quota(
        self,
        actor: str,
        version_id: int,
        territory_id: str,
        annual_quota_cents: int,
        *,
        reason: str,
        expected_revision: int | None = None,
    ) -> VersionInfo:
        """Set a territory's annual quota directly (admin, draft or proposed versions only).

        The new annual amount is phased like the old one (same period shares, exact cents).
        """
        self._check_reason(reason)
        with self._transaction() as conn:
            acting = self._user(conn, actor)
            require(acting.user_id, acting.role, "edit_quota")
            info = self._bump(conn, version_id, expected_revision, acting.user_id)
            require_editable(info.status, "edit quotas")
            before = self._rephase(conn, version_id, territory_id, int(annual_quota_cents))
            self._audit(
                conn,
                acting.user_id,
                "edit_quota",
                version_id,
                territory_id,
                before={"annual_quota_cents": before},
                after={"annual_quota_cents": int(annual_quota_cents)},
                reason=reason,
            )
        return self.info(version_id)

    def propose(
        self,
        actor: str,
        version_id: int,
        territory_id: str,
        proposed_quota_cents: int,
        *,
        reason: str,
        expected_revision: int | None = None,
    ) -> int:
        """Propose a new annual quota for a territory; return the proposal id.

        Managers may propose only for their own team's territories. The proposal records
        the quota the proposer saw, so a later change to it is detected when deciding.
        """
        self._check_reason(reason)
        if int(proposed_quota_cents) < 0:
            raise PlanError(f"a quota cannot be negative ({proposed_quota_cents} cents); propose 0 or more")
        with self._transaction() as conn:
            acting = self._user(conn, actor)
            require(acting.user_id, acting.role, "propose")
            info = self._bump(conn, version_id, expected_revision, acting.user_id)
            require_editable(info.status, "propose adjustments")
            team = self._team(conn, version_id, acting.rep_id)
            require_team(acting.user_id, acting.role, territory_id, team)
            current = self._annual_quota(conn, version_id, territory_id)
            proposal_id = conn.execute(
                schema.proposals.insert()
                .values(
                    version_id=version_id,
                    territory_id=territory_id,
                    proposed_by=acting.user_id,
                    base_quota_cents=current,
                    proposed_quota_cents=int(proposed_quota_cents),
                    reason=reason,
                    status="pending",
                    created_at=_now(),
                )
                .returning(schema.proposals.c.proposal_id)
            ).scalar_one()
            self._audit(
                conn,
                acting.user_id,
                "propose",
                version_id,
                territory_id,
                before={"annual_quota_cents": current},
                after={"annual_quota_cents": int(proposed_quota_cents), "proposal_id": proposal_id},
                reason=reason,
            )
        return int(proposal_id)

    def decide(
        self,
        actor: str,
        proposal_id: int,
        *,
        accept: bool,
        comment: str,
        expected_revision: int | None = None,
    ) -> VersionInfo:
        """Accept (apply the proposed quota) or reject a pending proposal, with a comment.

        Raises :class:`ConflictError` when the territory's quota changed since the proposal
        was made (the manager should propose again against the new figure).
        """
        self._check_reason(comment, what="comment")
        with self._transaction() as conn:
            acting = self._user(conn, actor)
            require(acting.user_id, acting.role, "decide")
            proposal = self._proposal(conn, proposal_id)
            if proposal.proposed_by == acting.user_id:
                raise PermissionDenied(
                    f"user '{acting.user_id}' proposed #{proposal_id} and may not decide it; "
                    "ask another approver"
                )
            info = self._bump(conn, proposal.version_id, expected_revision, acting.user_id)
            require_editable(info.status, "decide proposals")
            if proposal.status != "pending":
                raise PlanError(f"proposal #{proposal_id} is already {proposal.status}")
            current = self._annual_quota(conn, proposal.version_id, proposal.territory_id)
            if accept and current != proposal.base_quota_cents:
                raise ConflictError(
                    f"territory {proposal.territory_id}'s quota changed from {proposal.base_quota_cents} to "
                    f"{current} cents since proposal #{proposal_id} was made; reject it and ask "
                    f"'{proposal.proposed_by}' to propose again against the new quota"
                )
            if accept:
                self._rephase(conn, proposal.version_id, proposal.territory_id, proposal.proposed_quota_cents)
            status = "accepted" if accept else "rejected"
            conn.execute(
                schema.proposals.update()
                .where(schema.proposals.c.proposal_id == proposal_id)
                .values(status=status, decided_by=acting.user_id, decided_at=_now(), comment=comment)
            )
            self._audit(
                conn,
                acting.user_id,
                "accept" if accept else "reject",
                proposal.version_id,
                proposal.territory_id,
                before={"annual_quota_cents": current, "proposal_id": proposal_id},
                after={"annual_quota_cents": proposal.proposed_quota_cents if accept else current},
                reason=comment,
            )
        return self.info(proposal.version_id)

    def withdraw(self, actor: str, proposal_id: int) -> None:
        """Withdraw one's own pending proposal."""
        with self._transaction() as conn:
            acting = self._user(conn, actor)
            require(acting.user_id, acting.role, "withdraw")
            proposal = self._proposal(conn, proposal_id)
            if proposal.proposed_by != acting.user_id:
                raise PermissionDenied(f"only '{proposal.proposed_by}' may withdraw proposal #{proposal_id}")
            if proposal.status != "pending":
                raise PlanError(f"proposal #{proposal_id} is already {proposal.status}")
            info = self._bump(conn, proposal.version_id, None, acting.user_id)
            require_editable(info.status, "withdraw proposals")
            conn.execute(
                schema.proposals.update()
                .where(schema.proposals.c.proposal_id == proposal_id)
                .values(status="withdrawn")
            )
            self._audit(conn, acting.user_id, "withdraw", proposal.version_id, proposal.territory_id)

    def proposals(self, version_id: int | None = None, status: str | None = None) -> pd.DataFrame:
        """Proposals (optionally of one version and/or one status), oldest first."""
        query = sa.select(schema.proposals).order_by(schema.proposals.c.proposal_id)
        if version_id is not None:
            query = query.where(schema.proposals.c.version_id == version_id)
        if status is not None:
            query = query.where(schema.proposals.c.status == status)
        with self.engine.connect() as conn:
            return pd.read_sql(query, conn).set_index("proposal_id")

    # ------------------------------------------------------------ workflow
    def transition(
        self,
        actor: str,
        version_id: int,
        action: str,
        *,
        comment: str = "",
        expected_revision: int | None = None,
    ) -> VersionInfo:
        """Move a version through the workflow: ``submit``, ``return``, ``approve`` or ``publish``.

        Approving needs every proposal decided first.
        """
        with self._transaction() as conn:
            acting = self._user(conn, actor)
            require(acting.user_id, acting.role, action)
            info = self._bump(conn, version_id, expected_revision, acting.user_id)
            new_status = next_status(info.status, action)
            values: dict = {"status": new_status.value}
            if new_status is Status.APPROVED:
                pending = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(schema.proposals)
                    .where(
                        schema.proposals.c.version_id == version_id, schema.proposals.c.status == "pending"
                    )
                ).scalar_one()
                if pending:
                    raise PlanError(
                        f"{pending} proposal(s) still pending on v{version_id}; decide them first"
                    )
                values.update(approved_by=acting.user_id, approved_at=_now())
            conn.execute(
                schema.plan_versions.update()
                .where(schema.plan_versions.c.version_id == version_id)
                .values(**values)
            )
            self._audit(
                conn,
                acting.user_id,
                action,
                version_id,
                before={"status": info.status.value},
                after={"status": new_status.value},
                reason=comment or None,
            )
        return self.info(version_id)

    def approved_plan(self, version_id: int) -> ApprovedPlan:
        """An approved or published version as an :class:`ApprovedPlan` (for exports and comp; read-only).

        Approved content never changes, so each version is read from the database once per store.
        """
        if version_id in self._approved:
            return self._approved[version_id]
        version = self.version(version_id)
        if version.info.status not in (Status.APPROVED, Status.PUBLISHED):
            raise PlanError(f"v{version_id} is {version.info.status.value}, not approved; approve it first")
        approved = ApprovedPlan(
            version_id=version_id,
            name=version.info.name,
            effective_from=version.info.effective_from,
            plan=version.plan,
            quotas=version.quotas,
            approved_by=version.info.approved_by or "",
            approved_at=version.info.approved_at,
        )
        self._approved[version_id] = approved
        return approved

    def published_plans(self) -> list[ApprovedPlan]:
        """Published versions ordered by ``effective_from`` (then version id): the comp calculator's input."""
        published = [v for v in self.versions() if v.status is Status.PUBLISHED]
        published.sort(key=lambda v: (v.effective_from, v.version_id))
        return [self.approved_plan(v.version_id) for v in published]

    def audit_log(self, version_id: int | None = None) -> pd.DataFrame:
        """Audit events, oldest first.

        Columns: at (UTC), user_id, action, version_id, territory_id, before and after
        (JSON text), reason.
        """
        query = sa.select(schema.audit_events).order_by(schema.audit_events.c.event_id)
        if version_id is not None:
            query = query.where(schema.audit_events.c.version_id == version_id)
        with self.engine.connect() as conn:
            log = pd.read_sql(query, conn).set_index("event_id")
        log["at"] = pd.to_datetime(log["at"], utc=True)
        return log

    # ------------------------------------------------------------- helpers
    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @staticmethod
    def _check_reason(text: str, *, what: str = "reason") -> None:
        if not text or not text.strip():
            raise PlanError(f"a {what} is required: say why, for the audit log")

    @staticmethod
    def _user(conn: Connection, user_id: str | None) -> User:
        row = conn.execute(sa.select(schema.users).where(schema.users.c.user_id == user_id)).first()
        if row is None:
            raise PermissionDenied(f"unknown user '{user_id}'; an admin must add them first")
        return User(row.user_id, row.name, Role(row.role), row.rep_id)

    @staticmethod
    def _info_from_row(row: sa.Row) -> VersionInfo:
        return VersionInfo(
            version_id=row.version_id,
            name=row.name,
            status=Status(row.status),
            revision=row.revision,
            parent_id=row.parent_id,
            target_cents=int(row.target_cents),
            effective_from=row.effective_from,
            created_by=row.created_by,
            created_at=_utc(row.created_at),
            approved_by=row.approved_by,
            approved_at=_utc(row.approved_at),
        )

    def _info(self, conn: Connection, version_id: int) -> VersionInfo:
        row = conn.execute(
            sa.select(schema.plan_versions).where(schema.plan_versions.c.version_id == version_id)
        ).first()
        if row is None:
            raise PlanError(f"no plan version {version_id}; see `planner quota versions` for the list")
        return self._info_from_row(row)

    def _bump(self, conn: Connection, version_id: int, expected: int | None, actor: str) -> VersionInfo:
        """Compare-and-swap the version's revision (first statement: takes the write lock)."""
        versions = schema.plan_versions
        condition = versions.c.version_id == version_id
        if expected is not None:
            condition = condition & (versions.c.revision == expected)
        updated = conn.execute(versions.update().where(condition).values(revision=versions.c.revision + 1))
        if updated.rowcount == 1:
            return self._info(conn, version_id)
        info = self._info(conn, version_id)  # raises for an unknown version
        last = conn.execute(
            sa.select(schema.audit_events.c.user_id, schema.audit_events.c.action, schema.audit_events.c.at)
            .where(schema.audit_events.c.version_id == version_id)
            .order_by(schema.audit_events.c.event_id.desc())
            .limit(1)
        ).first()
        by = f" by '{last.user_id}' ({last.action} at {_utc(last.at):%Y-%m-%d %H:%M} UTC)" if last else ""
        raise ConflictError(
            f"v{version_id} was changed{by} since you loaded it (revision {info.revision}, you had "
            f"{expected}); '{actor}': reload the plan and re-apply your change"
        )

    def _insert_version(
        self, conn: Connection, actor: str, name: str, target_cents: int, effective_from: date, parent_id
    ) -> int:
        return conn.execute(
            schema.plan_versions.insert()
            .values(
                name=name,
                status=Status.DRAFT.value,
                revision=1,
                parent_id=parent_id,
                target_cents=target_cents,
                effective_from=effective_from,
                created_by=actor,
                created_at=_now(),
            )
            .returning(schema.plan_versions.c.version_id)
        ).scalar_one()

    def _insert_contents(
        self,
        conn: Connection,
        version_id: int,
        plan: Plan,
        rep_rows: list[dict],
        territory_rows: list[dict],
        quotas: pd.DataFrame,
    ) -> None:
        assignment = plan.assignment
        unit_rows = [
            {"version_id": version_id, "unit_id": u, "territory_id": t}
            for u, t in zip(assignment.index, assignment.to_numpy(), strict=True)
        ]
        quota_rows = [
            {"version_id": version_id, "territory_id": t, "period": p, "quota_cents": int(c)}
            for t, p, c in quotas.itertuples(index=False)
        ]
        for table, rows in (
            (schema.version_units, unit_rows),
            (schema.version_reps, [dict(r, version_id=version_id) for r in rep_rows]),
            (schema.version_territories, [dict(r, version_id=version_id) for r in territory_rows]),
            (schema.version_quotas, quota_rows),
        ):
            if rows:
                conn.execute(table.insert(), rows)

    @staticmethod
    def _territory_rows(plan: Plan, territories: pd.DataFrame) -> list[dict]:
        missing_columns = [c for c in ("potential_usd", "forecast_usd") if c not in territories.columns]
        if missing_columns:
            raise PlanError(f"territory inputs lack column(s) {missing_columns}")
        missing = sorted(set(plan.territories) - set(territories.index.astype(str)))
        if missing:
            raise PlanError(f"territory inputs lack territories {missing[:10]} of the plan")
        rows = []
        for territory_id in plan.territories:
            row = territories.loc[territory_id]
            last = row.get("last_quota_cents")
            for column in ("potential_usd", "forecast_usd"):
                if not np.isfinite(row[column]) or row[column] < 0:
                    raise PlanError(f"territory {territory_id}: {column} must be a non-negative number")
            rows.append(
                {
                    "territory_id": territory_id,
                    "potential_cents": usd_to_cents(row["potential_usd"]),
                    "forecast_cents": usd_to_cents(row["forecast_usd"]),
                    "last_quota_cents": None if last is None or pd.isna(last) else int(last),
                }
            )
        return rows

    @staticmethod
    def _rep_rows(plan: Plan, reps: pd.DataFrame) -> list[dict]:
        coverage = plan.territory_reps
        unknown = sorted(set(coverage.index) - set(reps.index.astype(str)))
        if unknown:
            raise PlanError(f"reps {unknown[:10]} cover territories but are missing from the reps table")
        rows = []
        for rep_id, territory_id in coverage.items():
            manager = reps.loc[rep_id].get("manager_id")
            rows.append(
                {
                    "rep_id": rep_id,
                    "territory_id": territory_id,
                    "name": str(reps.loc[rep_id, "name"]),
                    "manager_id": None
                    if manager is None or pd.isna(manager) or manager == ""
                    else str(manager),
                }
            )
        return rows

    @staticmethod
    def _team(conn: Connection, version_id: int, manager_rep_id: str | None) -> frozenset[str]:
        if manager_rep_id is None:
            return frozenset()
        rows = conn.execute(
            sa.select(schema.version_reps.c.territory_id).where(
                schema.version_reps.c.version_id == version_id,
                schema.version_reps.c.manager_id == manager_rep_id,
            )
        ).scalars()
        return frozenset(rows)

    @staticmethod
    def _annual_quota(conn: Connection, version_id: int, territory_id: str) -> int:
        quotas = schema.version_quotas
        total, count = conn.execute(
            sa.select(sa.func.sum(quotas.c.quota_cents), sa.func.count()).where(
                quotas.c.version_id == version_id, quotas.c.territory_id == territory_id
            )
        ).one()
        if not count:
            raise PlanError(
                f"territory '{territory_id}' has no quota in v{version_id}; check the territory id"
            )
        return int(total)

    def _rephase(self, conn: Connection, version_id: int, territory_id: str, annual_cents: int) -> int:
        """Set a territory's annual quota keeping its period shares; return the old annual quota."""
        if annual_cents < 0:
            raise PlanError(f"a quota cannot be negative ({annual_cents} cents)")
        quotas = schema.version_quotas
        rows = conn.execute(
            sa.select(quotas.c.period, quotas.c.quota_cents)
            .where(quotas.c.version_id == version_id, quotas.c.territory_id == territory_id)
            .order_by(quotas.c.period)
        ).all()
        if not rows:
            raise PlanError(
                f"territory '{territory_id}' has no quota in v{version_id}; check the territory id"
            )
        old = np.array([r.quota_cents for r in rows], dtype=np.int64)
        new = split_cents(annual_cents, old.astype(float))
        for row, cents in zip(rows, new, strict=True):
            conn.execute(
                quotas.update()
                .where(
                    quotas.c.version_id == version_id,
                    quotas.c.territory_id == territory_id,
                    quotas.c.period == row.period,
                )
                .values(quota_cents=int(cents))
            )
        return int(old.sum())

    @staticmethod
    def _proposal(conn: Connection, proposal_id: int) -> sa.Row:
        row = conn.execute(
            sa.select(schema.proposals).where(schema.proposals.c.proposal_id == proposal_id)
        ).first()
        if row is None:
            raise PlanError(f"no proposal #{proposal_id}")
        return row

    @staticmethod
    def _audit(
        conn: Connection,
        actor: str,
        action: str,
        version_id: int | None = None,
        territory_id: str | None = None,
        *,
        before: dict | None = None,
        after: dict | None = None,
        reason: str | None = None,
    ) -> None:
        conn.execute(
            schema.audit_events.insert().values(
                at=_now(),
                user_id=actor,
                action=action,
                version_id=version_id,
                territory_id=territory_id,
                before=_json(before),
                after=_json(after),
                reason=reason,
            )
        )
