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

Each command runs inside :func:`planner.store.commands.command`; the reads come from
:class:`planner.store.reader.PlanReader`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from planner.errors import ConflictError, PermissionDenied, PlanError
from planner.plans.approved import check_quota_table
from planner.plans.plan import Plan
from planner.plans.quota_lines import QuotaLine, check_lines
from planner.store import contents, schema
from planner.store.adjustments import AdjustmentStore
from planner.store.commands import command, require_reason
from planner.store.contents import LineContents, check_amount
from planner.store.guards import TARGET_GAP_FRAC, target_gaps, territory_potential, unusual_quota
from planner.store.migrate import create_engine_for, migrate
from planner.store.queries import (
    annual_quota,
    load_info,
    load_proposal,
    pending_proposals,
    team_territories,
    user_exists,
    version_line,
)
from planner.store.reader import PlanReader
from planner.store.records import PlanVersion, User, VersionInfo, now
from planner.store.roles import Role, require_team
from planner.store.workflow import Status, next_status

__all__ = ["PlanStore", "PlanVersion", "User", "VersionInfo"]  # the records, re-exported from here too


class PlanStore(AdjustmentStore, PlanReader):
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
        super().__init__(create_engine_for(url, schema_name=schema_name))
        migrate(self.engine)

    def add_user(
        self,
        actor: str | None,
        user_id: str,
        name: str,
        role: Role | str,
        rep_id: str | None = None,
        *,
        email: str | None = None,
        db_login: str | None = None,
    ) -> User:
        """Add a user. The very first user must be an admin and needs no actor; later ones need an admin.

        ``email`` is the address their identity provider signs them in with, ``db_login`` the
        PostgreSQL login they use the command line with (each unique).
        """
        role = Role(role)
        with command(self.engine, actor, "manage_users", bootstrap=True) as cmd:
            if cmd.user is None and role is not Role.ADMIN:
                raise PermissionDenied("the first user must be an admin (who then adds the others)")
            if user_exists(cmd.conn, user_id):
                raise PlanError(f"user '{user_id}' exists already; choose another user id")
            if role is Role.MANAGER and not rep_id:
                raise PlanError(f"manager '{user_id}' needs the rep_id their team reports to")
            email = email.strip().lower() if email is not None else None
            for column, value, what in (
                (schema.users.c.email, email, "email"),
                (schema.users.c.db_login, db_login, "database login"),
            ):
                if value is None:
                    continue
                taken = cmd.conn.execute(sa.select(schema.users.c.user_id).where(column == value)).scalar()
                if taken is not None:
                    raise PlanError(f"{what} {value} is already user '{taken}'; give each user their own")
            cmd.conn.execute(
                schema.users.insert().values(
                    user_id=user_id, name=name, role=role.value, rep_id=rep_id, email=email, db_login=db_login
                )
            )
            cmd.audit("add_user", after={"user_id": user_id, "role": role.value}, by=actor or user_id)
        return User(user_id, name, role, rep_id, email, db_login)

    def create_version(
        self,
        actor: str,
        *,
        name: str,
        plan: Plan,
        reps: pd.DataFrame,
        lines: Sequence[LineContents],
        effective_from: date,
    ) -> VersionInfo:
        """Save a new draft version with one or more quota lines.

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
        lines : sequence of LineContents
            Each quota line's definition, territory inputs, phased quotas, target and
            allocation basis (kept with the version and in the audit log).
        effective_from : datetime.date
            First day the plan applies.
        """
        check_lines([c.line for c in lines])
        definitions = tuple(c.line for c in lines)
        quota_table = check_quota_table(
            pd.concat([c.quotas.assign(line=c.line.name) for c in lines], ignore_index=True),
            plan,
            definitions,
        )
        territory_rows = [
            row for c in lines for row in contents.territory_rows(plan, c.territories, c.line.name)
        ]
        line_rows = [contents.line_row(c) for c in lines]
        rep_rows = contents.rep_rows(plan, reps)
        revenue_target = sum(int(c.target_cents) for c in lines if not c.line.counts)
        with command(self.engine, actor, "create_version") as cmd:
            version_id = contents.insert_version(
                cmd.conn, cmd.user.user_id, name, revenue_target, effective_from, parent_id=None
            )
            self._insert_contents(
                cmd.conn, version_id, plan, rep_rows, line_rows, territory_rows, quota_table
            )
            totals = quota_table.groupby("line")["quota_cents"].sum()
            after: dict = {"name": name, "lines": {}}
            for c in lines:
                summary = {"total_quota_cents": int(totals[c.line.name]), **c.line.record()}
                if c.allocation_basis:
                    summary["allocation_basis"] = c.allocation_basis
                after["lines"][c.line.name] = summary
            cmd.audit("create_version", version_id=version_id, after=after)
        return self.info(version_id)

    def copy_version(self, actor: str, version_id: int, *, name: str) -> VersionInfo:
        """Start a new draft from a copy of ``version_id`` (the way to change an approved plan)."""
        with command(self.engine, actor, "create_version") as cmd:
            source = load_info(cmd.conn, version_id)
            new_id = contents.insert_version(
                cmd.conn,
                cmd.user.user_id,
                name,
                source.target_cents,
                source.effective_from,
                parent_id=version_id,
            )
            contents.copy_contents(cmd.conn, version_id, new_id)
            cmd.audit("copy_version", version_id=new_id, before={"copied_from": version_id})
        return self.info(new_id)

    def set_quota(
        self,
        actor: str,
        version_id: int,
        territory_id: str,
        annual_quota_cents: int,
        *,
        reason: str,
        line: str | None = None,
        expected_revision: int | None = None,
        confirm: bool = False,
    ) -> VersionInfo:
        """Set a territory's annual quota of a line directly (admin, draft or proposed versions only).

        The new annual amount is phased like the old one (same period shares, exact cents;
        whole units on a count line). ``line`` may be omitted on a single-line version. An
        unusual amount (:func:`planner.store.guards.unusual_quota`) needs ``confirm``.
        """
        require_reason(reason)
        with command(
            self.engine,
            actor,
            "edit_quota",
            version_id=version_id,
            expected_revision=expected_revision,
            editing="edit quotas",
        ) as cmd:
            quota_line = version_line(cmd.conn, version_id, line)
            current = annual_quota(cmd.conn, version_id, territory_id, quota_line.name)
            unusual = _check_unusual(
                cmd.conn, version_id, territory_id, quota_line, current, int(annual_quota_cents), confirm
            )
            before = self._rephase(cmd.conn, version_id, territory_id, quota_line, int(annual_quota_cents))
            cmd.audit(
                "edit_quota",
                territory_id=territory_id,
                line=quota_line.name,
                before={"annual_quota_cents": before},
                after={"annual_quota_cents": int(annual_quota_cents), **unusual},
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
        line: str | None = None,
        expected_revision: int | None = None,
        supersede: bool = False,
        confirm: bool = False,
    ) -> int:
        """Propose a new annual quota for a territory's line; return the proposal id.

        Managers may propose only for their own team's territories. The proposal records
        the quota the proposer saw, so a later change to it is detected when deciding.
        A territory's line has at most one pending proposal: a second is refused, naming
        the pending one, unless ``supersede`` is set, which marks the pending one
        ``superseded`` (audited) and puts this one in its place. ``line`` may be omitted
        on a single-line version. An unusual amount (:func:`planner.store.guards.unusual_quota`)
        needs ``confirm``, recorded in the audit log.
        """
        require_reason(reason)
        with command(
            self.engine,
            actor,
            "propose",
            version_id=version_id,
            expected_revision=expected_revision,
            editing="propose adjustments",
        ) as cmd:
            acting = cmd.user
            quota_line = version_line(cmd.conn, version_id, line)
            check_amount(quota_line, int(proposed_quota_cents))
            team = team_territories(cmd.conn, version_id, acting.rep_id)
            require_team(acting.user_id, acting.role, territory_id, team)
            current = annual_quota(cmd.conn, version_id, territory_id, quota_line.name)
            unusual = _check_unusual(
                cmd.conn, version_id, territory_id, quota_line, current, int(proposed_quota_cents), confirm
            )
            pending = cmd.conn.execute(
                schema.proposals.select().where(
                    schema.proposals.c.version_id == version_id,
                    schema.proposals.c.territory_id == territory_id,
                    schema.proposals.c.line == quota_line.name,
                    schema.proposals.c.status == "pending",
                )
            ).first()
            if pending is not None and not supersede:
                raise ConflictError(
                    f"territory {territory_id} already has pending {quota_line.name} proposal "
                    f"#{pending.proposal_id} by '{pending.proposed_by}' "
                    f"({quota_line.format(pending.base_quota_cents)} -> "
                    f"{quota_line.format(pending.proposed_quota_cents)}); decide or withdraw it first, "
                    "or supersede it"
                )
            if pending is not None:
                cmd.conn.execute(
                    schema.proposals.update()
                    .where(schema.proposals.c.proposal_id == pending.proposal_id)
                    .values(status="superseded", decided_by=acting.user_id, decided_at=now(), comment=reason)
                )
                cmd.audit(
                    "supersede",
                    territory_id=territory_id,
                    line=quota_line.name,
                    before={"proposal_id": pending.proposal_id},
                    after={"annual_quota_cents": int(proposed_quota_cents)},
                    reason=reason,
                )
            proposal_id = cmd.conn.execute(
                schema.proposals.insert()
                .values(
                    version_id=version_id,
                    territory_id=territory_id,
                    line=quota_line.name,
                    proposed_by=acting.user_id,
                    base_quota_cents=current,
                    proposed_quota_cents=int(proposed_quota_cents),
                    reason=reason,
                    status="pending",
                    created_at=now(),
                )
                .returning(schema.proposals.c.proposal_id)
            ).scalar_one()
            cmd.audit(
                "propose",
                territory_id=territory_id,
                line=quota_line.name,
                before={"annual_quota_cents": current},
                after={
                    "annual_quota_cents": int(proposed_quota_cents),
                    "proposal_id": proposal_id,
                    **unusual,
                },
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
        require_reason(comment, what="comment")
        with command(self.engine, actor, "decide") as cmd:
            proposal = load_proposal(cmd.conn, proposal_id)
            if proposal.proposed_by == cmd.user.user_id:
                raise PermissionDenied(
                    f"user '{cmd.user.user_id}' proposed #{proposal_id} and may not decide it; "
                    "ask another approver"
                )
            cmd.bump(proposal.version_id, expected_revision, editing="decide proposals")
            if proposal.status != "pending":
                raise PlanError(f"proposal #{proposal_id} is already {proposal.status}")
            quota_line = version_line(cmd.conn, proposal.version_id, proposal.line)
            current = annual_quota(cmd.conn, proposal.version_id, proposal.territory_id, proposal.line)
            if accept and current != proposal.base_quota_cents:
                raise ConflictError(
                    f"territory {proposal.territory_id}'s {proposal.line} quota changed from "
                    f"{quota_line.format(proposal.base_quota_cents)} to {quota_line.format(current)} since "
                    f"proposal #{proposal_id} was made; reject it and ask '{proposal.proposed_by}' to "
                    "propose again against the new quota"
                )
            if accept:
                self._rephase(
                    cmd.conn,
                    proposal.version_id,
                    proposal.territory_id,
                    quota_line,
                    proposal.proposed_quota_cents,
                )
            cmd.conn.execute(
                schema.proposals.update()
                .where(schema.proposals.c.proposal_id == proposal_id)
                .values(
                    status="accepted" if accept else "rejected",
                    decided_by=cmd.user.user_id,
                    decided_at=now(),
                    comment=comment,
                )
            )
            cmd.audit(
                "accept" if accept else "reject",
                territory_id=proposal.territory_id,
                line=proposal.line,
                before={"annual_quota_cents": current, "proposal_id": proposal_id},
                after={"annual_quota_cents": proposal.proposed_quota_cents if accept else current},
                reason=comment,
            )
        return self.info(proposal.version_id)

    def withdraw(self, actor: str, proposal_id: int) -> None:
        """Withdraw one's own pending proposal."""
        with command(self.engine, actor, "withdraw") as cmd:
            proposal = load_proposal(cmd.conn, proposal_id)
            if proposal.proposed_by != cmd.user.user_id:
                raise PermissionDenied(f"only '{proposal.proposed_by}' may withdraw proposal #{proposal_id}")
            if proposal.status != "pending":
                raise PlanError(f"proposal #{proposal_id} is already {proposal.status}")
            cmd.bump(proposal.version_id, editing="withdraw proposals")
            cmd.conn.execute(
                schema.proposals.update()
                .where(schema.proposals.c.proposal_id == proposal_id)
                .values(status="withdrawn")
            )
            cmd.audit("withdraw", territory_id=proposal.territory_id, line=proposal.line)

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

        Approving needs every proposal decided first. Approving or publishing a version whose
        quota total of a line is more than :data:`planner.store.guards.TARGET_GAP_FRAC` off its
        target needs a ``comment`` (the gaps are audited).
        """
        with command(
            self.engine, actor, action, version_id=version_id, expected_revision=expected_revision
        ) as cmd:
            old_status = cmd.version.status
            new_status = next_status(old_status, action)
            values: dict = {"status": new_status.value}
            if new_status is Status.APPROVED:
                pending = pending_proposals(cmd.conn, version_id)
                if pending:
                    raise PlanError(
                        f"{pending} proposal(s) still pending on v{version_id}; decide them first"
                    )
                values.update(approved_by=cmd.user.user_id, approved_at=now())
            gaps = target_gaps(cmd.conn, version_id) if action in ("approve", "publish") else []
            if gaps and not comment.strip():
                raise PlanError(
                    f"v{version_id}'s quotas are off target by more than {TARGET_GAP_FRAC:.0%}: "
                    f"{'; '.join(gaps)}; {action} it with a comment that says why"
                )
            cmd.conn.execute(
                schema.plan_versions.update()
                .where(schema.plan_versions.c.version_id == version_id)
                .values(**values)
            )
            cmd.audit(
                action,
                before={"status": old_status.value},
                after={"status": new_status.value, **({"target_gaps": gaps} if gaps else {})},
                reason=comment or None,
            )
        return self.info(version_id)

    # The bulk writes stay methods so tests can fail a save midway (tests/store/test_store.py).
    def _insert_contents(
        self,
        conn: Connection,
        version_id: int,
        plan: Plan,
        rep_rows: list[dict],
        line_rows: list[dict],
        territory_rows: list[dict],
        quotas: pd.DataFrame,
    ) -> None:
        """See :func:`planner.store.contents.insert_contents`."""
        contents.insert_contents(conn, version_id, plan, rep_rows, line_rows, territory_rows, quotas)

    def _rephase(
        self, conn: Connection, version_id: int, territory_id: str, line: QuotaLine, annual_cents: int
    ) -> int:
        """See :func:`planner.store.contents.rephase`."""
        return contents.rephase(conn, version_id, territory_id, line, annual_cents)


def _check_unusual(
    conn: Connection,
    version_id: int,
    territory_id: str,
    line: QuotaLine,
    current: int,
    cents: int,
    confirm: bool,
) -> dict:
    """Refuse an unusual quota (``current``: the annual quota now) unless confirmed; return what to audit."""
    potential = territory_potential(conn, version_id, territory_id, line.name)
    unusual = unusual_quota(line, cents, current, potential)
    if unusual is None:
        return {}
    if not confirm:
        raise PlanError(
            f"{territory_id} {line.name}: {line.format(cents)} is {unusual}; if that is intended, "
            "confirm it (--confirm on the command line, the confirm box in the app): the "
            "confirmation is audited"
        )
    return {"confirmed_unusual": unusual}
