"""Single-row and single-figure lookups inside an open connection, shared by reads and commands.

Each raises a clear error when what it looks up does not exist.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from planner.errors import PermissionDenied, PlanError
from planner.plans.quota_lines import QuotaLine
from planner.store import schema
from planner.store.records import User, VersionInfo, info_from_row, user_from_row


def has_users(conn: Connection) -> bool:
    """Whether the store has any user yet."""
    return conn.execute(sa.select(sa.func.count()).select_from(schema.users)).scalar_one() > 0


def user_exists(conn: Connection, user_id: str) -> bool:
    """Whether ``user_id`` is taken."""
    query = sa.select(schema.users.c.user_id).where(schema.users.c.user_id == user_id)
    return conn.execute(query).first() is not None


def load_user(conn: Connection, user_id: str | None) -> User:
    """The user with ``user_id``; :class:`PermissionDenied` when unknown."""
    row = conn.execute(sa.select(schema.users).where(schema.users.c.user_id == user_id)).first()
    if row is None:
        raise PermissionDenied(f"unknown user '{user_id}'; an admin must add them first")
    return user_from_row(row)


def load_info(conn: Connection, version_id: int) -> VersionInfo:
    """Status, revision and history fields of one version; :class:`PlanError` when unknown."""
    row = conn.execute(
        sa.select(schema.plan_versions).where(schema.plan_versions.c.version_id == version_id)
    ).first()
    if row is None:
        raise PlanError(f"no plan version {version_id}; see `planner quota versions` for the list")
    return info_from_row(row)


def load_proposal(conn: Connection, proposal_id: int) -> sa.Row:
    """The ``proposals`` row of ``proposal_id``; :class:`PlanError` when unknown."""
    row = conn.execute(
        sa.select(schema.proposals).where(schema.proposals.c.proposal_id == proposal_id)
    ).first()
    if row is None:
        raise PlanError(f"no proposal #{proposal_id}")
    return row


def last_event(conn: Connection, version_id: int) -> sa.Row | None:
    """Who did what when, in the newest audit event of a version (None when it has none)."""
    events = schema.audit_events
    return conn.execute(
        sa.select(events.c.user_id, events.c.action, events.c.at)
        .where(events.c.version_id == version_id)
        .order_by(events.c.event_id.desc())
        .limit(1)
    ).first()


def team_territories(conn: Connection, version_id: int, manager_rep_id: str | None) -> frozenset[str]:
    """Territories of a version covered by reps who report to ``manager_rep_id``."""
    if manager_rep_id is None:
        return frozenset()
    rows = conn.execute(
        sa.select(schema.version_reps.c.territory_id).where(
            schema.version_reps.c.version_id == version_id,
            schema.version_reps.c.manager_id == manager_rep_id,
        )
    ).scalars()
    return frozenset(rows)


def version_line(conn: Connection, version_id: int, name: str | None) -> QuotaLine:
    """The quota line ``name`` of a version (None: its only line); :class:`PlanError` naming the lines."""
    lines = schema.version_lines
    rows = conn.execute(
        sa.select(lines.c.line, lines.c.unit, lines.c.potential, lines.c.source)
        .where(lines.c.version_id == version_id)
        .order_by(lines.c.line)
    ).all()
    found = {row.line: QuotaLine(row.line, row.unit, row.potential, row.source) for row in rows}
    if name is None and len(found) == 1:
        return next(iter(found.values()))
    if name in found:
        return found[name]
    asked = f"no quota line '{name}'" if name is not None else "several quota lines"
    raise PlanError(f"v{version_id} has {asked}; say which of {', '.join(found)}")


def annual_quota(conn: Connection, version_id: int, territory_id: str, line: str) -> int:
    """A territory's annual quota of a line (sum of its period quotas), in hundredths of the unit."""
    quotas = schema.version_quotas
    total, count = conn.execute(
        sa.select(sa.func.sum(quotas.c.quota_cents), sa.func.count()).where(
            quotas.c.version_id == version_id,
            quotas.c.territory_id == territory_id,
            quotas.c.line == line,
        )
    ).one()
    if not count:
        raise PlanError(
            f"territory '{territory_id}' has no {line} quota in v{version_id}; check the territory id"
        )
    return int(total)


def pending_proposals(conn: Connection, version_id: int) -> int:
    """How many proposals of a version still wait for a decision."""
    return conn.execute(
        sa.select(sa.func.count())
        .select_from(schema.proposals)
        .where(schema.proposals.c.version_id == version_id, schema.proposals.c.status == "pending")
    ).scalar_one()
