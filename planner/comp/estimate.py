"""What-if estimator: "if I close this deal, I earn ..." for one rep.

The rep's existing credits plus one hypothetical deal are recalculated with the same
plan, quotas and rules (:func:`planner.comp.calculate.calculate`), so the estimate
includes tier changes, accelerators, gates, caps, SPIFFs and retroactive true-ups. Only
the rep is recalculated (their managers' roll-up is not part of the estimate).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from planner.comp.calculate import CompResult, calculate
from planner.errors import PlannerError

WHAT_IF_DEAL = "what-if"


@dataclass(frozen=True)
class WhatIf:
    """The effect of one more deal on a rep's pay.

    Attributes
    ----------
    extra_earnings_cents : int
        Change in earnings over all months (components, SPIFFs, true-ups).
    extra_payout_cents : int
        Change in payout over all months (after draws and recoveries).
    by_month : pandas.DataFrame
        Per month: ``earnings_before_cents``, ``earnings_after_cents``, ``payout_before_cents``,
        ``payout_after_cents``.
    lines : pandas.DataFrame
        The hypothetical deal's own lines (component, tier, earned cents).
    """

    extra_earnings_cents: int
    extra_payout_cents: int
    by_month: pd.DataFrame
    lines: pd.DataFrame


def estimate_deal(
    result: CompResult, rep_id: str, amount_cents: int, close_date: date, *, line: str | None = None
) -> WhatIf:
    """Estimate what closing a deal of ``amount_cents`` on ``close_date`` adds to ``rep_id``'s pay.

    ``line`` is the bookings line of the deal, when the deals carry one (``new_business``...).

    Raises :class:`PlannerError` for a rep without a plan, a negative amount or a date
    outside the calculated months.
    """
    if result.credits is None or result.quotas is None or result.deals is None:
        raise PlannerError("this result does not keep its inputs; compute it with planner.comp.calculate")
    if rep_id not in result.plan_of:
        raise PlannerError(f"rep '{rep_id}' has no comp plan; choose one of {sorted(result.plan_of)[:5]}...")
    if amount_cents < 0:
        raise PlannerError(f"the deal amount must not be negative (got {amount_cents} cents)")
    month = f"{close_date:%Y-%m}"
    if month not in result.months:
        raise PlannerError(
            f"{close_date} is outside the calculated months {result.months[0]}..{result.months[-1]}"
        )
    plan = result.plans[result.plan_of[rep_id]]
    credits = result.credits.loc[result.credits["rep_id"] == rep_id]
    extra = pd.DataFrame(
        {
            "deal_id": [WHAT_IF_DEAL],
            "rep_id": [rep_id],
            "close_date": [pd.Timestamp(close_date)],
            "month": [month],
            "credit_cents": [int(amount_cents)],
            "deal_cents": [int(amount_cents)],
            "territory_id": [""],
            "source": ["team" if plan.credit == "team" else "territory"],
            "via_rep_id": [""],
        }
    )
    quotas = result.quotas.loc[result.quotas["rep_id"] == rep_id]
    deals = result.deals.loc[result.deals["deal_id"].isin(credits["deal_id"])]
    if "line" in deals.columns:
        what_if = {"deal_id": WHAT_IF_DEAL, "status": "won", "line": line or ""}
        deals = pd.concat([deals, pd.DataFrame([what_if])], ignore_index=True)
    reps = pd.DataFrame({"role": [plan.roles[0]]}, index=pd.Index([rep_id], name="rep_id"))
    quota_lines = result.quota_lines or None
    before = calculate(credits, quotas, deals, [plan], reps, result.months, quota_lines=quota_lines)
    after = calculate(
        pd.concat([credits, extra], ignore_index=True),
        quotas,
        deals,
        [plan],
        reps,
        result.months,
        quota_lines=quota_lines,
    )
    by_month = pd.DataFrame(
        {
            "earnings_before_cents": before.summary["earnings_cents"].to_numpy(),
            "earnings_after_cents": after.summary["earnings_cents"].to_numpy(),
            "payout_before_cents": before.summary["payout_cents"].to_numpy(),
            "payout_after_cents": after.summary["payout_cents"].to_numpy(),
        },
        index=pd.Index(result.months, name="month"),
    )
    lines = after.lines.loc[after.lines["deal_id"] == WHAT_IF_DEAL]
    return WhatIf(
        int(by_month["earnings_after_cents"].sum() - by_month["earnings_before_cents"].sum()),
        int(by_month["payout_after_cents"].sum() - by_month["payout_before_cents"].sum()),
        by_month,
        lines.reset_index(drop=True),
    )
