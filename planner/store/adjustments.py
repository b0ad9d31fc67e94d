"""Manual comp adjustments in the plan store: asked for with a reason, decided by someone else, audited.

An adjustment is an ``amount`` (paid to the rep in the month as it is, e.g. a settled
dispute) or a ``credit`` (counts toward the rep's components in the month like a deal).
A manager asks for reps of their own team, an admin for anyone; an approver or admin
other than the one who asked approves or rejects it, with a comment. Only approved
adjustments are paid (:meth:`AdjustmentStore.adjustments`), and every step is in the
audit log.
"""

from __future__ import annotations

import re

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from planner.errors import PermissionDenied, PlanError
from planner.store import schema
from planner.store.commands import command, require_reason
from planner.store.records import now
from planner.store.roles import Role

KINDS = ("amount", "credit")
MAX_AMOUNT_CENTS = 10**12  #: 10 billion USD, the comp calculator's limit for a deal


class AdjustmentStore:
    """The plan store's comp adjustments (mixed into :class:`planner.store.PlanStore`)."""

    engine: Engine

    def request_adjustment(
        self, actor: str, rep_id: str, month: str, kind: str, amount_cents: int, reason: str
    ) -> int:
        """Ask for an adjustment of ``rep_id``'s comp in ``month`` ('YYYY-MM'); returns its id (pending)."""
        require_reason(reason)
        if kind not in KINDS:
            raise PlanError(f"an adjustment is an amount or a credit, not {kind!r}")
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
            raise PlanError(f"month {month!r} is not a month; write it as YYYY-MM, e.g. 2026-03")
        if amount_cents == 0 or abs(amount_cents) > MAX_AMOUNT_CENTS:
            raise PlanError(
                f"an adjustment of {amount_cents / 100:,.2f} USD is refused: give a non-zero amount "
                f"up to {MAX_AMOUNT_CENTS / 100:,.0f} USD either way"
            )
        with command(self.engine, actor, "request_adjustment") as cmd:
            if cmd.user.role is Role.MANAGER:
                team = cmd.conn.execute(
                    sa.select(schema.version_reps.c.rep_id)
                    .where(schema.version_reps.c.manager_id == cmd.user.rep_id)
                    .distinct()
                ).scalars()
                if rep_id not in set(team):
                    raise PermissionDenied(
                        f"manager '{cmd.user.user_id}' may ask for adjustments of their own team's reps "
                        f"only, not {rep_id}"
                    )
            adjustment_id = cmd.conn.execute(
                schema.comp_adjustments.insert().values(
                    rep_id=rep_id,
                    month=month,
                    kind=kind,
                    amount_cents=int(amount_cents),
                    reason=reason,
                    requested_by=cmd.user.user_id,
                    created_at=now(),
                    status="pending",
                )
            ).inserted_primary_key[0]
            after = {"adjustment_id": adjustment_id, "rep_id": rep_id, "month": month, "kind": kind}
            cmd.audit("request_adjustment", after={**after, "amount_cents": int(amount_cents)}, reason=reason)
        return int(adjustment_id)

    def decide_adjustment(self, actor: str, adjustment_id: int, *, approve: bool, comment: str) -> None:
        """Approve or reject a pending adjustment, with a comment (not by the one who asked)."""
        require_reason(comment, what="comment")
        table = schema.comp_adjustments
        with command(self.engine, actor, "decide_adjustment") as cmd:
            row = (
                cmd.conn.execute(sa.select(table).where(table.c.adjustment_id == adjustment_id))
                .mappings()
                .first()
            )
            if row is None:
                raise PlanError(f"there is no adjustment #{adjustment_id}")
            if row["requested_by"] == cmd.user.user_id:
                raise PermissionDenied(
                    f"user '{cmd.user.user_id}' asked for adjustment #{adjustment_id} and may not decide it; "
                    "ask another approver"
                )
            if row["status"] != "pending":
                raise PlanError(f"adjustment #{adjustment_id} is already {row['status']}")
            status = "approved" if approve else "rejected"
            cmd.conn.execute(
                table.update()
                .where(table.c.adjustment_id == adjustment_id)
                .values(status=status, decided_by=cmd.user.user_id, decided_at=now(), comment=comment)
            )
            cmd.audit(
                f"{'approve' if approve else 'reject'}_adjustment",
                before={"adjustment_id": adjustment_id, "status": "pending"},
                after={"adjustment_id": adjustment_id, "status": status, "amount_cents": row["amount_cents"]},
                reason=comment,
            )

    def adjustments(self, status: str | None = None) -> pd.DataFrame:
        """Adjustments (of one status, when given), oldest first, indexed by ``adjustment_id``."""
        table = schema.comp_adjustments
        query = sa.select(table).order_by(table.c.adjustment_id)
        if status is not None:
            query = query.where(table.c.status == status)
        with self.engine.connect() as conn:
            return pd.read_sql(query, conn).set_index("adjustment_id")
