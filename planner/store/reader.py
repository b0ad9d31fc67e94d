"""Read-only queries of the plan store: users, versions, proposals, approved plans, the audit log."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from planner.errors import PlanError
from planner.plans.approved import ApprovedPlan
from planner.plans.plan import Plan
from planner.store import schema
from planner.store.queries import load_info, load_user
from planner.store.records import PlanVersion, User, VersionInfo, info_from_row, user_from_row
from planner.store.workflow import Status


class PlanReader:
    """Reads of the plan store; :class:`planner.store.store.PlanStore` adds the commands.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        The store's database.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._approved: dict[int, ApprovedPlan] = {}  # approved content never changes: read it once

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    def users(self) -> list[User]:
        """Every user, sorted by id."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(schema.users).order_by(schema.users.c.user_id)).all()
        return [user_from_row(r) for r in rows]

    def user(self, user_id: str) -> User:
        """The user with ``user_id``; :class:`PermissionDenied` when unknown."""
        with self.engine.connect() as conn:
            return load_user(conn, user_id)

    def info(self, version_id: int) -> VersionInfo:
        """Status, revision and history fields of one version."""
        with self.engine.connect() as conn:
            return load_info(conn, version_id)

    def versions(self) -> list[VersionInfo]:
        """Every version, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(schema.plan_versions).order_by(schema.plan_versions.c.version_id.desc())
            ).all()
        return [info_from_row(r) for r in rows]

    def version(self, version_id: int) -> PlanVersion:
        """Load a whole version (one consistent read)."""
        with self.engine.connect() as conn, conn.begin():
            info = load_info(conn, version_id)
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

    def proposals(self, version_id: int | None = None, status: str | None = None) -> pd.DataFrame:
        """Proposals (optionally of one version and/or one status), oldest first."""
        query = sa.select(schema.proposals).order_by(schema.proposals.c.proposal_id)
        if version_id is not None:
            query = query.where(schema.proposals.c.version_id == version_id)
        if status is not None:
            query = query.where(schema.proposals.c.status == status)
        with self.engine.connect() as conn:
            return pd.read_sql(query, conn).set_index("proposal_id")

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
