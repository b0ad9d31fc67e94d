"""The monthly accrual report finance books: earned, paid, still owed, draws advanced and recovered.

Built from the summary alone (so the in-memory and out-of-core runs give the same
report), per month and comp plan, with an ``all plans`` row per month:

- ``accrued_cents``: commission earned in the month (lines by the month they were earned);
- ``paid_earnings_cents``: earnings paid in the month (held deals are paid on release);
- ``held_cents``: earned to date and not yet paid (held deals), at the month's end;
- ``draws_cents``: paid above earnings (draw top-ups); ``recovered_cents``: withheld to
  repay draws; ``payout_cents``: paid to reps (``paid_earnings + draws - recovered``);
- ``draw_balance_cents``: what reps owe back at the month's end (recoverable draws and
  carried negative earnings).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planner.comp.statements import usd

ALL_PLANS = "all plans"
ACCRUAL_COLUMNS = (
    "month",
    "plan",
    "reps",
    "accrued_cents",
    "paid_earnings_cents",
    "held_cents",
    "draws_cents",
    "recovered_cents",
    "payout_cents",
    "draw_balance_cents",
)


def accrual_report(summary: pd.DataFrame) -> pd.DataFrame:
    """The accrual per month and plan from a comp summary (columns :data:`ACCRUAL_COLUMNS`, cents)."""
    sums = {
        "accrued_cents": "accrued_cents",
        "paid_earnings_cents": "earnings_cents",
        "draws_cents": "draw_cents",
        "recovered_cents": "recovery_cents",
        "payout_cents": "payout_cents",
        "draw_balance_cents": "balance_cents",
    }
    rows = summary.assign(**{name: summary[column] for name, column in sums.items()})
    both = pd.concat([rows, rows.assign(plan=ALL_PLANS)], ignore_index=True)
    table = both.groupby(["plan", "month"], sort=True).agg(
        reps=("rep_id", "nunique"), **{name: (name, "sum") for name in sums}
    )
    earned = table["accrued_cents"].groupby(level="plan").cumsum()
    paid = table["paid_earnings_cents"].groupby(level="plan").cumsum()
    table["held_cents"] = (earned - paid).astype("int64")
    table = table.reset_index()
    order = {plan: i for i, plan in enumerate([*sorted(set(summary["plan"])), ALL_PLANS])}
    table = table.sort_values(["month", "plan"], key=lambda c: c.map(order) if c.name == "plan" else c)
    return table.loc[:, list(ACCRUAL_COLUMNS)].reset_index(drop=True)


def write_accrual(summary: pd.DataFrame, path: str | Path) -> Path:
    """Write :func:`accrual_report` with money in dollars (two decimals) to CSV; return the path."""
    table = accrual_report(summary)
    for column in [c for c in table if c.endswith("_cents")]:
        table[column.removesuffix("_cents") + "_usd"] = table.pop(column).map(usd)
    table.to_csv(path, index=False)
    return Path(path)
