"""Manual adjustments in the calculation: an approved amount paid as is, or credit that counts like a deal.

Adjustments come from the plan store (:mod:`planner.store.adjustments`, approved only):
``adjustment_id``, ``rep_id``, ``month``, ``kind`` (``amount`` or ``credit``),
``amount_cents`` (signed), ``reason``, ``requested_by``, ``decided_by``. Each becomes the
pseudo-deal ``ADJ-<id>``:

- an ``amount`` is one line paid to the rep in its month (component ``adjustment``);
- a ``credit`` is a credit row of the rep on the first day of its month, priced by each of
  the rep's components that credit on close and measure amounts (not counts), like a deal;
  it earns no SPIFF and is not rolled up to managers (adjust them on their own).

Their lines are of kind ``adjustment``; the statement names who asked, who approved, and why.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from planner.comp.lines import LineTypes

ADJUSTMENT = "adjustment"  #: the component of amount adjustments, and the line kind of every adjustment
NOTE = 2  #: the ``note`` marker of credit rows that come from adjustments (credit notes are 1)


def deal_id(adjustment_id: int) -> str:
    """The pseudo-deal id of an adjustment, as its lines show it."""
    return f"ADJ-{int(adjustment_id)}"


def with_adjustments(types: LineTypes, adjustments: pd.DataFrame | None) -> LineTypes:
    """``types`` with the adjustments' pseudo-deals after the deals (so the deals keep their codes)."""
    if adjustments is None or adjustments.empty:
        return types
    ids = [deal_id(a) for a in sorted(adjustments["adjustment_id"])]
    categories = pd.Index(list(types.deal.categories) + ids, dtype=object)
    return dataclasses.replace(types, deal=pd.CategoricalDtype(categories))


def credit_rows(
    adjustments: pd.DataFrame | None, types: LineTypes, plan_by_rep: np.ndarray, team: np.ndarray
) -> pd.DataFrame:
    """Credit rows (columns of the engine's base rows) of the ``credit`` adjustments of planned reps."""
    chosen = adjustments.loc[adjustments["kind"] == "credit"] if adjustments is not None else None
    if chosen is None or chosen.empty:
        return pd.DataFrame()
    rep_code = types.rep.categories.get_indexer(chosen["rep_id"].astype(str))
    month_code = types.month.categories.get_indexer(chosen["month"].astype(str))
    plan_code = np.where(rep_code >= 0, plan_by_rep[np.maximum(rep_code, 0)], -1)
    keep = (plan_code >= 0) & (month_code >= 0)
    chosen, rep_code, month_code, plan_code = (
        chosen.loc[keep],
        rep_code[keep],
        month_code[keep],
        plan_code[keep],
    )
    first = pd.to_datetime(chosen["month"].astype(str) + "-01")
    amount = chosen["amount_cents"].to_numpy(np.int64)
    source = np.where(team[plan_code], "team", "territory")
    return pd.DataFrame(
        {
            "rep_id": pd.Categorical.from_codes(rep_code, dtype=types.rep),
            "close_date": first.to_numpy("datetime64[ns]"),
            "month": pd.Categorical.from_codes(month_code, dtype=types.month),
            "credit_cents": amount,
            "deal_cents": np.abs(amount),
            "source": pd.Categorical(source, dtype=types.source),
            "via_rep_id": types.const("rep", "", len(chosen)),
            "plan_code": plan_code,
            "rep_code": rep_code,
            "year": first.dt.year.to_numpy(np.int64),
            "mon": first.dt.month.to_numpy(np.int64),
            "deal_code": types.deal.categories.get_indexer([deal_id(a) for a in chosen["adjustment_id"]]),
            "note": NOTE,
        }
    )


def amount_lines(
    adjustments: pd.DataFrame | None, types: LineTypes, plan_of: dict[str, str]
) -> pd.DataFrame | None:
    """One line per ``amount`` adjustment of a planned rep, in its month."""
    if adjustments is None or adjustments.empty:
        return None
    chosen = adjustments.loc[(adjustments["kind"] == "amount") & adjustments["rep_id"].isin(list(plan_of))]
    month_code = types.month.categories.get_indexer(chosen["month"].astype(str))
    chosen, month_code = chosen.loc[month_code >= 0], month_code[month_code >= 0]
    k = len(chosen)
    if k == 0:
        return None
    plans = [plan_of[r] for r in chosen["rep_id"]]
    return pd.DataFrame(
        {
            "rep_id": pd.Categorical(chosen["rep_id"].astype(str), dtype=types.rep),
            "month": pd.Categorical.from_codes(month_code, dtype=types.month),
            "plan": pd.Categorical(plans, dtype=types.plan),
            "component": types.const("component", ADJUSTMENT, k),
            "line": types.const("line", ADJUSTMENT, k),
            "deal_id": types.deal.categories.get_indexer([deal_id(a) for a in chosen["adjustment_id"]]),
            "close_date": pd.to_datetime(chosen["month"].astype(str) + "-01").to_numpy("datetime64[ns]"),
            "source": types.const("source", "", k),
            "via_rep_id": types.const("rep", "", k),
            "credit_cents": np.zeros(k, dtype=np.int64),
            "window": pd.Categorical.from_codes(
                types.window.categories.get_indexer(chosen["month"].astype(str)), dtype=types.window
            ),
            "window_quota_cents": np.zeros(k, dtype=np.int64),
            "cum_before_cents": np.zeros(k, dtype=np.int64),
            "cum_after_cents": np.zeros(k, dtype=np.int64),
            "tier": np.full(k, -1, dtype=np.int64),
            "earned_cents": chosen["amount_cents"].to_numpy(np.int64),
        }
    )
