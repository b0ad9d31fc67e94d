"""Earnings lines of the comp calculation: component lines with true-ups, SPIFF lines and clawback lines.

Called by :func:`planner.comp.calculate.calculate`, which sums the lines into earnings,
draws and payouts; every amount is integer cents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.comp.crediting import month_key
from planner.comp.plan_file import Component, CompPlan
from planner.comp.rates import RateTable

#: Kinds of lines, in code order (the engine sums them by code).
LINE_KINDS = (
    "deal",
    "true-up",
    "spiff",
    "clawback",
    "credit-note",
    "restatement",
    "restating-note",
    "adjustment",
)


def mark_rows(lines: pd.DataFrame, rows: pd.DataFrame, types: LineTypes) -> pd.DataFrame:
    """Deal lines computed from marked rows (they come first, in row order) as credit notes or adjustments."""
    if "note" not in rows or not (rows["note"].to_numpy() > 0).any():
        return lines
    kind = lines["line"].cat.codes.to_numpy().copy()
    note = np.zeros(len(lines), dtype=np.int64)
    note[: len(rows)] = rows["note"].to_numpy()
    kind[note == 1] = LINE_KINDS.index("credit-note")
    kind[note == 2] = LINE_KINDS.index("adjustment")
    return lines.assign(line=pd.Categorical.from_codes(kind, dtype=types.line))


def _window_keys(window: str, year: np.ndarray, month: np.ndarray, deal_code: np.ndarray) -> np.ndarray:
    """Integer key of each row's measurement window (``deal``: the deal, so split rows measure together)."""
    if window == "month":
        return year * 12 + month - 1
    if window == "quarter":
        return year * 4 + (month - 1) // 3
    if window == "year":
        return year.copy()
    return deal_code


@dataclass(frozen=True)
class LineTypes:
    """Categorical dtypes shared by every line table, so concatenation keeps integer codes."""

    rep: pd.CategoricalDtype
    deal: pd.CategoricalDtype
    month: pd.CategoricalDtype
    plan: pd.CategoricalDtype
    component: pd.CategoricalDtype
    line: pd.CategoricalDtype
    source: pd.CategoricalDtype
    window: pd.CategoricalDtype

    def const(self, name: str, value: str, n: int) -> pd.Categorical:
        """A categorical column of ``n`` copies of ``value``."""
        dtype = getattr(self, name)
        return pd.Categorical.from_codes(np.full(n, dtype.categories.get_loc(value)), dtype=dtype)

    def codes(self, name: str, values: pd.Series) -> np.ndarray:
        """Integer codes of ``values`` in the shared categories (-1 when absent)."""
        dtype = getattr(self, name)
        if isinstance(values.dtype, pd.CategoricalDtype):
            if values.dtype is dtype:
                return values.cat.codes.to_numpy(np.int64)
            lookup = dtype.categories.get_indexer(values.cat.categories)
            codes = values.cat.codes.to_numpy(np.int64)
            return np.where(codes >= 0, lookup[codes], -1)
        return dtype.categories.get_indexer(values.astype(str))

    def cast(self, name: str, values: pd.Series) -> pd.Categorical:
        """``values`` as a categorical of the shared type."""
        return pd.Categorical.from_codes(self.codes(name, values), dtype=getattr(self, name))


def line_types(
    credits: pd.DataFrame, plans: Sequence[CompPlan], months: tuple[str, ...], reps: list[str]
) -> LineTypes:
    """The shared categories of reps, deals, months, plans, components, lines, sources and windows."""

    def categories(column: str) -> set[str]:
        values = credits[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            return set(values.cat.categories)
        return set(values.astype(str))

    deal = credits["deal_id"].dtype
    if isinstance(deal, pd.CategoricalDtype) and len(deal.categories) and deal.categories[0] == "":
        deal_type = deal  # from credit_deals: sorted, "" first; the same object avoids re-hashing
    else:
        deal_type = pd.CategoricalDtype(sorted(categories("deal_id") | {""}))
    years = sorted({m[:4] for m in months})
    windows = list(months) + [f"{y}-Q{q}" for y in years for q in range(1, 5)] + years + ["deal"]
    component_ids = list(
        dict.fromkeys(
            [c.id for p in plans for c in p.components]
            + [s.id for p in plans for s in p.spiffs]
            + ["adjustment"]
        )
    )
    return LineTypes(
        rep=pd.CategoricalDtype(sorted(categories("rep_id") | categories("via_rep_id") | set(reps) | {""})),
        deal=deal_type,
        month=pd.CategoricalDtype(list(months)),
        plan=pd.CategoricalDtype([p.name for p in plans]),
        component=pd.CategoricalDtype(component_ids),
        line=pd.CategoricalDtype(LINE_KINDS),
        source=pd.CategoricalDtype(["", "territory", "split", "team"]),
        window=pd.CategoricalDtype(list(dict.fromkeys(windows))),
    )


def _window_codes(window: str, year: np.ndarray, month: np.ndarray, types: LineTypes) -> np.ndarray:
    """Codes of the window labels ('YYYY-MM', 'YYYY-Qn', 'YYYY' or 'deal') of each row."""
    if window == "deal":
        return np.full(len(year), types.window.categories.get_loc("deal"))
    key = _window_keys(window, year, month, np.zeros(0))
    unique, inverse = np.unique(key, return_inverse=True)
    if window == "month":
        labels = [f"{k // 12:04d}-{k % 12 + 1:02d}" for k in unique]
    elif window == "quarter":
        labels = [f"{k // 4:04d}-Q{k % 4 + 1}" for k in unique]
    else:
        labels = [f"{k:04d}" for k in unique]
    return types.window.categories.get_indexer(labels)[inverse]


def _group_starts(*keys: np.ndarray) -> np.ndarray:
    """True where a row starts a new run of equal keys (rows already sorted by the keys)."""
    n = len(keys[0])
    start = np.zeros(n, dtype=bool)
    if n:
        start[0] = True
        for key in keys:
            start[1:] |= key[1:] != key[:-1]
    return start


def _segment_cumsum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    total = np.cumsum(values)
    offsets = np.maximum.accumulate(np.where(starts, np.arange(len(values)), 0))
    return total - (total[offsets] - values[offsets])


def component_lines(
    component: Component, rows: pd.DataFrame, quotas: pd.DataFrame, plan_name: str, types: LineTypes
) -> pd.DataFrame:
    """Deal and true-up lines of one component for rows sorted by rep, close date, deal id."""
    table = RateTable.from_component(component)
    n = len(rows)
    rep = rows["rep_code"].to_numpy()
    year, month = rows["year"].to_numpy(), rows["mon"].to_numpy()
    window = _window_keys(component.window, year, month, rows["deal_code"].to_numpy())
    month_key = year * 12 + month - 1
    amount = rows["credit_cents"].to_numpy(np.int64)
    window_start = _group_starts(rep, window)
    cum_after = _segment_cumsum(amount, window_start)
    cum_before = cum_after - amount
    month_start = _group_starts(rep, window, month_key)
    month_group = np.cumsum(month_start) - 1
    month_last = np.r_[np.flatnonzero(month_start)[1:] - 1, n - 1] if n else np.array([], dtype=np.int64)
    rate_at = cum_after[month_last][month_group] if n else cum_after
    if component.window == "deal" or component.basis == "amount":
        quota = np.zeros(n, dtype=np.int64)
    else:
        qkey = _window_keys(
            component.window, quotas["year"].to_numpy(), quotas["mon"].to_numpy(), np.zeros(0)
        )
        window_quota = (
            pd.Series(quotas["quota_cents"].to_numpy(np.int64))
            .groupby([quotas["rep_code"].to_numpy(), qkey])
            .sum()
        )
        index = pd.MultiIndex.from_arrays([rep, window])
        quota = window_quota.reindex(index, fill_value=0).to_numpy(np.int64)
    bounds, gate = table.bounds_cents(quota)
    earned_after = table.earned_cents(cum_after, bounds, gate, rate_at_cents=rate_at)
    earned_before = table.earned_cents(cum_before, bounds, gate, rate_at_cents=rate_at)
    if component.basis == "attainment":
        earned_after = np.where(quota > 0, earned_after, 0)
        earned_before = np.where(quota > 0, earned_before, 0)
    line = earned_after - earned_before
    tier = table.tier_of(rate_at if component.kind == "single" else cum_after, bounds)
    deal_lines = pd.DataFrame(
        {
            "rep_id": rows["rep_id"].array,
            "month": rows["month"].array,
            "plan": types.const("plan", plan_name, n),
            "component": types.const("component", component.id, n),
            "line": types.const("line", "deal", n),
            "deal_id": rows["deal_code"].to_numpy(),
            "close_date": rows["close_date"].to_numpy(),
            "source": rows["source"].array,
            "via_rep_id": rows["via_rep_id"].array,
            "credit_cents": amount,
            "window": pd.Categorical.from_codes(
                _window_codes(component.window, year, month, types), dtype=types.window
            ),
            "window_quota_cents": quota,
            "cum_before_cents": cum_before,
            "cum_after_cents": cum_after,
            "tier": tier,
            "earned_cents": line,
        }
    )
    if component.kind != "single" or component.window in ("deal", "month") or n == 0:
        return deal_lines
    # Retroactive tier change inside a quarter or year: reprice the window's earlier deals.
    paid_to_date = earned_after[month_last]
    group_window_start = window_start[np.flatnonzero(month_start)]
    previous = np.r_[0, paid_to_date[:-1]]
    previous[group_window_start] = 0
    month_sum = np.add.reduceat(line, np.flatnonzero(month_start))
    true_up = paid_to_date - previous - month_sum
    first = np.flatnonzero(month_start)
    keep = true_up != 0
    if not keep.any():
        return deal_lines
    at = first[keep]
    true_ups = deal_lines.iloc[at].copy()
    k = len(at)
    true_ups["line"] = types.const("line", "true-up", k)
    true_ups["deal_id"] = 0  # the "" deal
    true_ups["source"] = types.const("source", "", k)
    true_ups["via_rep_id"] = types.const("rep", "", k)
    true_ups["credit_cents"] = 0
    true_ups["cum_before_cents"] = cum_before[at]
    true_ups["cum_after_cents"] = cum_before[at]
    true_ups["earned_cents"] = true_up[keep]
    return pd.concat([deal_lines, true_ups], ignore_index=True)


def spiff_lines(plan: CompPlan, rows: pd.DataFrame, types: LineTypes) -> list[pd.DataFrame]:
    """SPIFF lines of ``plan``: each qualifying won deal's bonus split by credit (largest remainder)."""
    frames = []
    for spiff in plan.spiffs:
        bonus = int(spiff.bonus_usd * 100)
        minimum = int(spiff.min_amount_usd * 100)
        close = rows["close_date"]
        mask = rows["deal_cents"].to_numpy() >= minimum
        if spiff.start is not None:
            mask &= (close >= pd.Timestamp(spiff.start)).to_numpy()
        if spiff.end is not None:
            mask &= (close <= pd.Timestamp(spiff.end)).to_numpy()
        hit = rows.loc[mask]
        if hit.empty:
            continue
        credit = hit["credit_cents"].to_numpy(np.int64)
        deal = np.maximum(hit["deal_cents"].to_numpy(np.int64), 1)
        product = bonus * credit
        floor, remainder = product // deal, product % deal
        group = hit["deal_code"].to_numpy()
        frame = pd.DataFrame({"deal_id": group, "floor": floor, "remainder": remainder, "credit": credit})
        credited_total = frame.groupby("deal_id")["credit"].transform("sum").to_numpy(np.int64)
        due = (2 * bonus * credited_total + deal) // (2 * deal)
        leftover = due - frame.groupby("deal_id")["floor"].transform("sum").to_numpy(np.int64)
        order = np.lexsort((hit["rep_code"].to_numpy(), -remainder, group))
        rank = np.empty(len(hit), dtype=np.int64)
        sorted_starts = _group_starts(group[order])
        rank[order] = np.arange(len(hit)) - np.maximum.accumulate(
            np.where(sorted_starts, np.arange(len(hit)), 0)
        )
        earned = floor + (rank < leftover)
        k = len(hit)
        lines = pd.DataFrame(
            {
                "rep_id": hit["rep_id"].array,
                "month": hit["month"].array,
                "plan": types.const("plan", plan.name, k),
                "component": types.const("component", spiff.id, k),
                "line": types.const("line", "spiff", k),
                "deal_id": hit["deal_code"].to_numpy(),
                "close_date": hit["close_date"].to_numpy(),
                "source": hit["source"].array,
                "via_rep_id": hit["via_rep_id"].array,
                "credit_cents": credit,
                "window": types.const("window", "deal", k),
                "window_quota_cents": 0,
                "cum_before_cents": 0,
                "cum_after_cents": 0,
                "tier": -1,
                "earned_cents": earned,
            }
        )
        frames.append(lines)
    return frames


def clawback_lines(
    lines: pd.DataFrame, deals: pd.DataFrame, plans: Sequence[CompPlan], types: LineTypes
) -> pd.DataFrame:
    """Clawback lines: deals cancelled within their plan's window give back their deal lines and SPIFFs."""
    cancelled = deals.loc[deals["status"] == "cancelled", ["deal_id", "close_date", "cancel_date"]]
    days = np.array([p.clawback.window_days if p.clawback is not None else -1 for p in plans], dtype=np.int64)
    if cancelled.empty or lines.empty or (days < 0).all():
        return lines.iloc[:0]
    code = types.deal.categories.get_indexer(cancelled["deal_id"].astype(str))
    cancel_ns = np.full(len(types.deal.categories), np.iinfo(np.int64).min, dtype=np.int64)
    cancel_ns[code[code >= 0]] = (
        cancelled["cancel_date"].to_numpy("datetime64[ns]").astype(np.int64)[code >= 0]
    )
    deal_code = lines["deal_id"].to_numpy(np.int64)
    kind = lines["line"].cat.codes.to_numpy()
    when = cancel_ns[np.maximum(deal_code, 0)]
    candidate = (kind == 0) | (kind == 2)
    candidate &= (deal_code >= 0) & (when != np.iinfo(np.int64).min) & (lines["earned_cents"].to_numpy() != 0)
    rows = np.flatnonzero(candidate)
    window_days = days[lines["plan"].cat.codes.to_numpy()[rows]]
    close_ns = lines["close_date"].to_numpy("datetime64[ns]")[rows].astype(np.int64)
    elapsed_days = (when[rows] - close_ns) // (86_400 * 10**9)
    cancel_month = month_key(pd.Series(pd.to_datetime(when[rows])))
    month_code = types.codes("month", cancel_month)
    keep = (window_days >= 0) & (elapsed_days <= window_days) & (month_code >= 0)
    claw = lines.iloc[rows[keep]].copy()
    claw["month"] = pd.Categorical.from_codes(month_code[keep], dtype=types.month)
    claw["line"] = types.const("line", "clawback", len(claw))
    claw["earned_cents"] = -claw["earned_cents"]
    return claw


def hold_lines(lines: pd.DataFrame, deals: pd.DataFrame, types: LineTypes) -> pd.DataFrame:
    """Set ``earned_month`` and ``held_until``; lines of a held deal move to its release month.

    A deal with a ``hold_until`` date has its deal, SPIFF and clawback lines paid in the
    month of that date when it is later than the month they were earned in (the amounts are
    unchanged). A release after the months calculated leaves ``month`` missing: earned, not
    yet paid.
    """
    lines["earned_month"] = lines["month"]  # in place: the caller's own frame, and no copy of millions
    lines["held_until"] = np.full(len(lines), np.datetime64("NaT"), dtype="datetime64[ns]")
    if "hold_until" not in deals.columns or lines.empty or deals["hold_until"].isna().all():
        return lines
    held = deals.loc[deals["hold_until"].notna(), ["deal_id", "hold_until"]]
    code = types.deal.categories.get_indexer(held["deal_id"].astype(str))
    release = np.full(len(types.deal.categories), np.datetime64("NaT"), dtype="datetime64[ns]")
    release[code[code >= 0]] = held["hold_until"].to_numpy("datetime64[ns]")[code >= 0]
    deal_code = lines["deal_id"].to_numpy(np.int64)
    until = release[np.maximum(deal_code, 0)]
    kind = lines["line"].cat.codes.to_numpy()
    month = lines["month"].cat.codes.to_numpy(np.int64)
    months = pd.PeriodIndex(types.month.categories, freq="M")
    earned = np.asarray(months.year * 12 + months.month - 1)[np.maximum(month, 0)]
    valid = ~np.isnat(until)
    release_key = np.full(len(until), -1, dtype=np.int64)
    released = pd.DatetimeIndex(until[valid])
    release_key[valid] = np.asarray(released.year * 12 + released.month - 1, dtype=np.int64)
    moves = (deal_code > 0) & np.isin(kind, (0, 2, 3)) & (month >= 0) & (release_key > earned)
    first = int(months[0].year * 12 + months[0].month - 1) if len(months) else 0
    target = release_key - first
    paid = np.where(moves, np.where(target < len(months), target, -1), month)
    return lines.assign(
        month=pd.Categorical.from_codes(paid, dtype=types.month),
        held_until=np.where(moves, until, np.datetime64("NaT")),
    )


def running_totals(
    rows: pd.DataFrame | None, date_column: str, date: str, before: str, after: str, types: LineTypes
) -> pd.DataFrame:
    """Rows of (deal, date, amount) by deal code in date order, with running totals before and after."""
    if rows is None or rows.empty:
        return pd.DataFrame({"deal_code": [], date: [], before: [], after: []})
    code = types.deal.categories.get_indexer(rows["deal_id"].astype(str))
    table = pd.DataFrame(
        {
            "deal_code": code,
            date: rows[date_column].to_numpy("datetime64[ns]"),
            "amount": rows["amount_cents"].to_numpy(np.int64),
        }
    ).loc[code > 0]
    table = table.sort_values(["deal_code", date, "amount"], kind="stable").reset_index(drop=True)
    table[after] = table.groupby("deal_code")["amount"].cumsum()
    table[before] = table[after] - table["amount"]
    return table.drop(columns="amount")


def payment_table(invoices: pd.DataFrame | None, types: LineTypes) -> pd.DataFrame:
    """Payments by deal code, in paid order, with the deal's amount paid before and after each."""
    return running_totals(invoices, "paid_date", "paid_date", "paid_before", "paid_after", types)


def half_up_share(credit: np.ndarray, paid: np.ndarray, deal: np.ndarray) -> np.ndarray:
    """``credit * paid / deal`` rounded half up, exactly (Python integers where int64 could overflow)."""
    if len(credit) == 0 or int(np.abs(credit).max()) * int(paid.max()) < 2**61:
        return (2 * credit * paid + deal) // (2 * deal)
    exact = (2 * credit.astype(object) * paid.astype(object) + deal.astype(object)) // (
        2 * deal.astype(object)
    )
    return exact.astype(np.int64)


def on_payment(rows: pd.DataFrame, payments: pd.DataFrame, types: LineTypes) -> pd.DataFrame:
    """Credit rows re-dated to each payment of their deal, each with its share of the credit.

    A payment credits ``credit * paid_to_date / deal`` (half up) minus what the deal's earlier
    payments credited, so the payments of a fully paid deal credit exactly the deal's credit.
    Rows of deals without payments, and payments outside the months calculated, credit nothing.
    """
    merged = rows.merge(payments, on="deal_code", how="inner", sort=False)
    credit = merged["credit_cents"].to_numpy(np.int64)
    deal = np.maximum(merged["deal_cents"].to_numpy(np.int64), 1)
    after = half_up_share(credit, merged["paid_after"].to_numpy(np.int64), deal)
    before = half_up_share(credit, merged["paid_before"].to_numpy(np.int64), deal)
    paid = pd.Series(merged["paid_date"].to_numpy("datetime64[ns]"))
    month = types.codes("month", month_key(paid)) if len(paid) else np.zeros(0, np.int64)
    merged = merged.assign(
        credit_cents=after - before,
        close_date=paid.to_numpy(),
        month=pd.Categorical.from_codes(month, dtype=types.month),
        year=paid.dt.year.to_numpy(np.int64),
        mon=paid.dt.month.to_numpy(np.int64),
    ).loc[month >= 0]
    order = np.lexsort(
        (
            merged["source"].cat.codes.to_numpy(),
            merged["via_rep_id"].cat.codes.to_numpy(),
            merged["deal_code"].to_numpy(),
            merged["close_date"].to_numpy(np.int64),
            merged["rep_code"].to_numpy(),
        )
    )
    return merged.iloc[order].drop(columns=["paid_date", "paid_before", "paid_after"]).reset_index(drop=True)
