"""The frame of every state-changing store command: one transaction, role check, revision, audit.

:func:`command` opens the transaction, looks up the acting user and checks their role
(:mod:`planner.store.roles`); :meth:`Command.bump` takes the version's write lock with a
compare-and-swap of its revision (optimistic locking); :meth:`Command.audit` appends the
audit event in the same transaction. An error anywhere rolls everything back, so a refused
or failed command writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.engine import Connection, Engine

from planner.errors import ConflictError, PlanError
from planner.store import schema
from planner.store.queries import has_users, last_event, load_info, load_user
from planner.store.records import User, VersionInfo, now, utc
from planner.store.roles import require
from planner.store.workflow import require_editable


@dataclass
class Command:
    """A state-changing command in progress.

    Attributes
    ----------
    conn : sqlalchemy.engine.Connection
        The command's transaction.
    user : User or None
        The acting user, already allowed to act; None only while the first user is added.
    version : VersionInfo or None
        The version whose revision the command bumped (after the bump), if any.
    """

    conn: Connection
    user: User | None
    version: VersionInfo | None = None

    def bump(
        self, version_id: int, expected_revision: int | None = None, *, editing: str | None = None
    ) -> VersionInfo:
        """Bump the version's revision (taking its write lock) and return its info.

        Parameters
        ----------
        version_id : int
            The version the command changes.
        expected_revision : int, optional
            The revision the caller last read; :class:`ConflictError` when someone saved since.
        editing : str, optional
            What the command does to the version (e.g. ``"edit quotas"``); when given, the
            version must be editable (:func:`planner.store.workflow.require_editable`).
        """
        self.version = _bump(self.conn, version_id, expected_revision, self.user.user_id)
        if editing is not None:
            require_editable(self.version.status, editing)
        return self.version

    def audit(
        self,
        action: str,
        *,
        version_id: int | None = None,
        territory_id: str | None = None,
        line: str | None = None,
        before: dict | None = None,
        after: dict | None = None,
        reason: str | None = None,
        by: str | None = None,
    ) -> None:
        """Append the command's audit event.

        ``version_id`` defaults to the bumped version and ``by`` (the user recorded) to the
        acting user; ``before`` and ``after`` are stored as JSON text.
        """
        if version_id is None and self.version is not None:
            version_id = self.version.version_id
        self.conn.execute(
            schema.audit_events.insert().values(
                at=now(),
                user_id=self.user.user_id if by is None else by,
                action=action,
                version_id=version_id,
                territory_id=territory_id,
                line=line,
                before=_json(before),
                after=_json(after),
                reason=reason,
            )
        )


@contextmanager
def command(
    engine: Engine,
    actor: str | None,
    permission: str,
    *,
    version_id: int | None = None,
    expected_revision: int | None = None,
    editing: str | None = None,
    bootstrap: bool = False,
) -> Iterator[Command]:
    """Run a command in one transaction as ``actor``, who needs ``permission``.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        The store's database.
    actor : str or None
        Acting user id; :class:`PermissionDenied` when unknown or not allowed.
    permission : str
        Action the actor's role must allow (a key of :data:`planner.store.roles.PERMISSIONS`).
    version_id : int, optional
        When given, the version's revision is bumped first (:meth:`Command.bump`, with
        ``expected_revision`` and ``editing``); commands that must check something before
        locking call :meth:`Command.bump` themselves.
    expected_revision : int, optional
        See :meth:`Command.bump`.
    editing : str, optional
        See :meth:`Command.bump`.
    bootstrap : bool
        Adding a user: while the store has no users, skip the user and role check
        (``Command.user`` is None).

    Yields
    ------
    Command
        The transaction, acting user and bumped version; committed when the block ends.
    """
    with engine.begin() as conn:
        if bootstrap and not has_users(conn):
            user = None
        else:
            user = load_user(conn, actor)
            require(user.user_id, user.role, permission)
        cmd = Command(conn, user)
        if version_id is not None:
            cmd.bump(version_id, expected_revision, editing=editing)
        yield cmd


def require_reason(text: str, *, what: str = "reason") -> None:
    """Raise :class:`PlanError` unless ``text`` (a reason or comment for the audit log) is given."""
    if not text or not text.strip():
        raise PlanError(f"a {what} is required: say why, for the audit log")


def _bump(conn: Connection, version_id: int, expected: int | None, actor: str) -> VersionInfo:
    """Compare-and-swap the version's revision (first write: takes the write lock)."""
    versions = schema.plan_versions
    condition = versions.c.version_id == version_id
    if expected is not None:
        condition = condition & (versions.c.revision == expected)
    updated = conn.execute(versions.update().where(condition).values(revision=versions.c.revision + 1))
    if updated.rowcount == 1:
        return load_info(conn, version_id)
    info = load_info(conn, version_id)  # raises for an unknown version
    last = last_event(conn, version_id)
    by = f" by '{last.user_id}' ({last.action} at {utc(last.at):%Y-%m-%d %H:%M} UTC)" if last else ""
    raise ConflictError(
        f"v{version_id} was changed{by} since you loaded it (revision {info.revision}, you had "
        f"{expected}); '{actor}': reload the plan and re-apply your change"
    )


def _json(payload: dict | None) -> str | None:
    return None if payload is None else json.dumps(payload, sort_keys=True, default=str)
