"""Read-only queries of the plan store: users, versions, proposals, approved plans, the audit log."""

from __future__ import annotations

import json

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from planner.errors import PlanError
from planner.plans.approved import ApprovedPlan
from planner.plans.plan import Plan
from planner.plans.quota_lines import QuotaLine
from planner.store import schema
from planner.store.guards import target_gaps
from planner.store.queries import load_info, load_user, version_line
from planner.store.records import PlanVersion, User, VersionInfo, VersionLine, info_from_row, user_from_row
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

    def user_by_email(self, email: str) -> User | None:
        """The user who signs in with ``email`` (case-insensitive), or None."""
        query = sa.select(schema.users).where(schema.users.c.email == email.strip().lower())
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else user_from_row(row)

    def login_user(self) -> tuple[str, User | None]:
        """PostgreSQL: the database login this store connects as, and the user mapped to it (or None)."""
        with self.engine.connect() as conn:
            login = conn.exec_driver_sql("SELECT current_user").scalar_one()
            row = conn.execute(sa.select(schema.users).where(schema.users.c.db_login == login)).first()
        return login, None if row is None else user_from_row(row)

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

            def read(table: sa.Table, *columns: sa.Column, order: tuple = ()) -> pd.DataFrame:
                query = sa.select(*(columns or (table,))).where(table.c.version_id == version_id)
                return pd.read_sql(query.order_by(*order), conn)

            units = read(
                schema.version_units,
                schema.version_units.c.unit_id,
                schema.version_units.c.territory_id,
                order=(schema.version_units.c.unit_id,),
            )
            reps = read(schema.version_reps)
            lines = read(schema.version_lines, order=(schema.version_lines.c.line,))
            territories = read(schema.version_territories)
            quotas_table = schema.version_quotas
            quotas = read(
                quotas_table,
                quotas_table.c.territory_id,
                quotas_table.c.line,
                quotas_table.c.period,
                quotas_table.c.quota_cents,
                order=(quotas_table.c.line, quotas_table.c.territory_id, quotas_table.c.period),
            )
        reps = reps.drop(columns="version_id").set_index("rep_id").sort_index()
        plan = Plan(
            units.set_index("unit_id")["territory_id"],
            reps["territory_id"],
            name=f"v{version_id} {info.name}",
        )
        quotas["quota_cents"] = quotas["quota_cents"].astype("int64")
        territories = territories.drop(columns="version_id")
        version_lines = {}
        for row in lines.itertuples(index=False):
            line_quotas = quotas.loc[quotas["line"] == row.line].drop(columns="line").reset_index(drop=True)
            line_territories = (
                territories.loc[territories["line"] == row.line]
                .drop(columns="line")
                .set_index("territory_id")
                .sort_index()
            )
            annual = line_quotas.groupby("territory_id")["quota_cents"].sum()
            line_territories["annual_quota_cents"] = annual.reindex(
                line_territories.index, fill_value=0
            ).astype("int64")
            line_territories["last_quota_cents"] = line_territories["last_quota_cents"].astype("Int64")
            version_lines[row.line] = VersionLine(
                QuotaLine(row.line, row.unit, row.potential, row.source),
                int(row.target_cents),
                json.loads(row.allocation_basis) if row.allocation_basis else None,
                line_territories,
                line_quotas,
            )
        return PlanVersion(info, plan, reps, version_lines)

    def target_gaps(self, version_id: int) -> list[str]:
        """The lines whose quota total is off target by more than the approval bound, in words."""
        with self.engine.connect() as conn:
            return target_gaps(conn, version_id)

    def quota_line(self, version_id: int, name: str | None = None) -> QuotaLine:
        """The quota line ``name`` of a version (None: its only line)."""
        with self.engine.connect() as conn:
            return version_line(conn, version_id, name)

    def proposals(self, version_id: int | None = None, status: str | None = None) -> pd.DataFrame:
        """Proposals (of one version, one status, when given), oldest first, with the unit of their line."""
        proposals, lines = schema.proposals, schema.version_lines
        joined = proposals.join(
            lines, (lines.c.version_id == proposals.c.version_id) & (lines.c.line == proposals.c.line)
        )
        query = sa.select(proposals, lines.c.unit).select_from(joined).order_by(proposals.c.proposal_id)
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
            lines=tuple(v.line for v in version.lines.values()),
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
