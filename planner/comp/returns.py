"""Credit notes and returns: negative credit that restates attainment and claws back what was overpaid.

A credit note returns part (or all) of a deal. Each credited row of the deal gives back
its share: ``credit * returned_to_date / deal`` (half up) minus what earlier notes gave
back, so notes returning the whole deal give back exactly its credit.

- Issued within the plan's clawback window (``clawback.window_days`` of the close date),
  a note **restates** the period the deal belongs to: its negative credit is dated on the
  deal's close date. Months already paid stay paid; in the month the note is issued each
  earlier month is recalculated with the note and the difference is paid (a negative
  *restatement* line: the overpayment clawed back), and later months are calculated with
  it. Attainment in the summary is restated.
- Issued later, or under a plan without a clawback, the note is negative credit on its
  issue date (it lowers that period's attainment; nothing paid earlier is recovered).

Notes apply to components that credit on close; a component crediting on payment only
counts what was paid.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.comp.crediting import month_key
from planner.comp.lines import LineTypes, component_lines, half_up_share, mark_rows, running_totals
from planner.comp.plan_file import Component, CompPlan

NOTE_SORT = ("note", "source", "via_rep_id", "deal_code", "close_date", "rep_code")  #: last key sorts first


def note_table(notes: pd.DataFrame | None, types: LineTypes) -> pd.DataFrame:
    """Credit notes by deal code in issue order, with the deal's amount returned before and after each."""
    return running_totals(notes, "issued_date", "issued", "returned_before", "returned_after", types)


def sorted_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Credit rows in the engine's order: rep, date, deal, the rep a roll-up came through, source, note."""
    keys = [
        rows[k].cat.codes.to_numpy() if isinstance(rows[k].dtype, pd.CategoricalDtype) else rows[k].to_numpy()
        for k in NOTE_SORT
    ]
    keys[4] = rows["close_date"].to_numpy(np.int64)
    return rows.iloc[np.lexsort(keys)].reset_index(drop=True)


def note_rows(rows: pd.DataFrame, notes: pd.DataFrame, plan: CompPlan, types: LineTypes) -> pd.DataFrame:
    """The negative credit rows of ``plan``'s credit ``rows`` for each note (``restating`` or not)."""
    merged = rows.iloc[:0] if notes.empty else rows.merge(notes, on="deal_code", how="inner", sort=False)
    if merged.empty:
        return merged.assign(restating=np.zeros(0, bool), issue_month=np.zeros(0, np.int64))
    credit = merged["credit_cents"].to_numpy(np.int64)
    deal = np.maximum(merged["deal_cents"].to_numpy(np.int64), 1)
    back = half_up_share(credit, merged["returned_after"].to_numpy(np.int64), deal) - half_up_share(
        credit, merged["returned_before"].to_numpy(np.int64), deal
    )
    issued = pd.Series(merged["issued"].to_numpy("datetime64[ns]"))
    issue_month = types.codes("month", month_key(issued))
    window = plan.clawback.window_days if plan.clawback is not None else -1
    elapsed = (issued.to_numpy() - merged["close_date"].to_numpy("datetime64[ns]")) // np.timedelta64(1, "D")
    restating = (window >= 0) & (elapsed <= window)
    date = np.where(restating, merged["close_date"].to_numpy("datetime64[ns]"), issued.to_numpy())
    when = pd.Series(date)
    merged = merged.assign(
        credit_cents=-back,
        close_date=date,
        month=pd.Categorical.from_codes(types.codes("month", month_key(when)), dtype=types.month),
        year=when.dt.year.to_numpy(np.int64),
        mon=when.dt.month.to_numpy(np.int64),
        note=1,
        restating=restating,
        issue_month=issue_month,
    )
    keep = (issue_month >= 0) & (merged["month"].cat.codes.to_numpy() >= 0) & (back != 0)
    return (
        merged.loc[keep].drop(columns=["issued", "returned_before", "returned_after"]).reset_index(drop=True)
    )


def lines_with_notes(
    component: Component,
    rows: pd.DataFrame,
    notes: pd.DataFrame,
    quotas: pd.DataFrame,
    plan_name: str,
    types: LineTypes,
) -> pd.DataFrame:
    """The component's lines with credit notes: as paid month by month, with restatements."""
    immediate = notes.loc[~notes["restating"].to_numpy(bool)]
    restating = notes.loc[notes["restating"].to_numpy(bool)]
    base = sorted_rows(
        pd.concat([rows, immediate.drop(columns=["restating", "issue_month"])], ignore_index=True)
    )
    if restating.empty:
        return mark_rows(component_lines(component, base, quotas, plan_name, types), base, types)
    affected = np.isin(base["rep_code"].to_numpy(), restating["rep_code"].unique())
    frames = []
    if (~affected).any():
        others = base.loc[~affected].reset_index(drop=True)
        frames.append(mark_rows(component_lines(component, others, quotas, plan_name, types), others, types))
    mine = base.loc[affected].reset_index(drop=True)
    frames, unaffected = [], frames
    issue_months = np.unique(restating["issue_month"].to_numpy(np.int64))
    version_of = np.searchsorted(issue_months, np.arange(len(types.month.categories)), side="right")
    previous_totals = None
    for version in range(len(issue_months) + 1):
        known = restating.loc[
            restating["issue_month"].to_numpy() <= (issue_months[version - 1] if version else -1)
        ]
        rows_v = sorted_rows(
            pd.concat([mine, known.drop(columns=["restating", "issue_month"])], ignore_index=True)
        )
        lines_v = mark_rows(component_lines(component, rows_v, quotas, plan_name, types), rows_v, types)
        month = lines_v["month"].cat.codes.to_numpy(np.int64)
        frames.append(lines_v.loc[version_of[month] == version])
        totals = lines_v.groupby([lines_v["rep_id"].cat.codes, month])["earned_cents"].sum()
        if previous_totals is not None:
            frames.append(
                _restatement(
                    totals,
                    previous_totals,
                    int(issue_months[version - 1]),
                    lines_v,
                    component,
                    plan_name,
                    types,
                )
            )
            issued = known.loc[known["issue_month"].to_numpy() == issue_months[version - 1]]
            frames.append(_notice(issued, component, plan_name, types))
        previous_totals = totals
    return pd.concat([*unaffected, _in_rep_order(pd.concat(frames, ignore_index=True))], ignore_index=True)


def _in_rep_order(lines: pd.DataFrame) -> pd.DataFrame:
    """Per rep: deal lines by month, then true-ups, restatements, restating notes (as without notes).

    The order a rep's lines have does not depend on other reps' notes (which add versions),
    so a partition of reps lists them as the whole run does.
    """
    kind = lines["line"].astype(str).to_numpy()
    rank = np.select([kind == "true-up", kind == "restatement", kind == "restating-note"], [1, 2, 3], 0)
    return lines.iloc[np.lexsort((rank, lines["rep_id"].cat.codes.to_numpy()))].reset_index(drop=True)


def _restatement(
    totals: pd.Series,
    before: pd.Series,
    issue_month: int,
    lines: pd.DataFrame,
    component: Component,
    plan_name: str,
    types: LineTypes,
) -> pd.DataFrame:
    """In ``issue_month``, one line per rep and earlier month whose earnings the new notes changed."""
    both = pd.concat({"now": totals, "was": before}, axis=1).fillna(0).astype(np.int64)
    rep = both.index.get_level_values(0).to_numpy(np.int64)
    month = both.index.get_level_values(1).to_numpy(np.int64)
    delta = both["now"].to_numpy() - both["was"].to_numpy()
    keep = (month < issue_month) & (month >= 0) & (delta != 0)
    k = int(keep.sum())
    labels = types.month.categories[month[keep]]
    return pd.DataFrame(
        {
            "rep_id": pd.Categorical.from_codes(rep[keep], dtype=lines["rep_id"].dtype),
            "month": pd.Categorical.from_codes(np.full(k, issue_month), dtype=types.month),
            "plan": types.const("plan", plan_name, k),
            "component": types.const("component", component.id, k),
            "line": types.const("line", "restatement", k),
            "deal_id": np.zeros(k, dtype=np.int64),
            "close_date": pd.NaT,
            "source": types.const("source", "", k),
            "via_rep_id": types.const("rep", "", k),
            "credit_cents": np.zeros(k, dtype=np.int64),
            "window": pd.Categorical(labels, dtype=types.window),
            "window_quota_cents": np.zeros(k, dtype=np.int64),
            "cum_before_cents": both["was"].to_numpy()[keep],
            "cum_after_cents": both["now"].to_numpy()[keep],
            "tier": np.full(k, -1, dtype=np.int64),
            "earned_cents": delta[keep],
        }
    )


def _notice(notes: pd.DataFrame, component: Component, plan_name: str, types: LineTypes) -> pd.DataFrame:
    """In the month a restating note is issued, a line showing it (its credit; the money is restated)."""
    k = len(notes)
    return pd.DataFrame(
        {
            "rep_id": notes["rep_id"].array,
            "month": pd.Categorical.from_codes(notes["issue_month"].to_numpy(np.int64), dtype=types.month),
            "plan": types.const("plan", plan_name, k),
            "component": types.const("component", component.id, k),
            "line": types.const("line", "restating-note", k),
            "deal_id": notes["deal_code"].to_numpy(np.int64),
            "close_date": notes["close_date"].to_numpy("datetime64[ns]"),
            "source": notes["source"].array,
            "via_rep_id": notes["via_rep_id"].array,
            "credit_cents": notes["credit_cents"].to_numpy(np.int64),
            "window": pd.Categorical(notes["month"].astype(str), dtype=types.window),
            "window_quota_cents": np.zeros(k, dtype=np.int64),
            "cum_before_cents": np.zeros(k, dtype=np.int64),
            "cum_after_cents": np.zeros(k, dtype=np.int64),
            "tier": np.full(k, -1, dtype=np.int64),
            "earned_cents": np.zeros(k, dtype=np.int64),
        }
    )
