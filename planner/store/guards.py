"""Sanity bounds on typed quotas and on what gets approved: unusual figures need saying so.

- A proposed or directly set annual quota that is zero, more than :data:`MAX_CHANGE_FACTOR`
  times the territory's current quota, or (USD lines) more than the territory's potential is
  refused unless confirmed; the confirmation is written to the audit log with what was unusual.
- Approving or publishing a version whose quota total of a line differs from the line's target
  by more than :data:`TARGET_GAP_FRAC` needs a comment; the gaps go to the audit log.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from planner.plans.quota_lines import QuotaLine
from planner.store import schema

MAX_CHANGE_FACTOR = 3
TARGET_GAP_FRAC = 0.10


def unusual_quota(line: QuotaLine, new_cents: int, current_cents: int, potential_cents: int) -> str | None:
    """What is unusual about a new annual quota, in words (None when nothing is)."""
    if new_cents == 0:
        return "a zero quota"
    if current_cents > 0 and new_cents > MAX_CHANGE_FACTOR * current_cents:
        return f"more than {MAX_CHANGE_FACTOR}x the current quota ({line.format(current_cents)})"
    if not line.counts and potential_cents > 0 and new_cents > potential_cents:
        return f"more than the territory's potential ({line.format(potential_cents)})"
    return None


def territory_potential(conn: Connection, version_id: int, territory_id: str, line: str) -> int:
    """The stored potential of a territory's line, hundredths (0 when unknown)."""
    table = schema.version_territories
    value = conn.execute(
        sa.select(table.c.potential_cents).where(
            table.c.version_id == version_id, table.c.territory_id == territory_id, table.c.line == line
        )
    ).scalar()
    return int(value or 0)


def target_gaps(conn: Connection, version_id: int) -> list[str]:
    """Lines whose quota total is more than :data:`TARGET_GAP_FRAC` off their target, in words."""
    lines, quotas = schema.version_lines, schema.version_quotas
    totals = (
        sa.select(quotas.c.line, sa.func.sum(quotas.c.quota_cents).label("total"))
        .where(quotas.c.version_id == version_id)
        .group_by(quotas.c.line)
        .subquery()
    )
    rows = conn.execute(
        sa.select(lines.c.line, lines.c.unit, lines.c.target_cents, totals.c.total)
        .join(totals, totals.c.line == lines.c.line)
        .where(lines.c.version_id == version_id)
        .order_by(lines.c.line)
    ).all()
    gaps = []
    for row in rows:
        target, total = int(row.target_cents), int(row.total or 0)
        if target > 0 and abs(total / target - 1) > TARGET_GAP_FRAC:
            line = QuotaLine(row.line, row.unit)
            gaps.append(
                f"{row.line}: quotas total {line.format(total)} against the target {line.format(target)} "
                f"({total / target - 1:+.1%})"
            )
    return gaps
