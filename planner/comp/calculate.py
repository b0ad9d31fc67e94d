"""The comp calculation: credited amounts to earnings, SPIFFs, clawbacks, draws and payouts.

Per rep (the plan is chosen by the rep's ``role``) and per month:

1. **Components.** Credit rows are ordered by close date (then deal id) inside each
   measurement window (the deal alone, the month, the calendar quarter or year). For
   every row the window-to-date earnings before and after the deal are evaluated with
   :class:`planner.comp.rates.RateTable`; the difference is the deal's line. For a
   ``single`` (retroactive) table the tier is the one reached at the month end, and when
   a later month of a quarter or year lifts the tier, a *true-up* line reprices the
   window's earlier deals. A basis ``attainment`` component earns nothing in a window
   without quota.
2. **SPIFFs.** A won deal that meets a SPIFF's minimum amount and dates pays the bonus to
   the credited reps in proportion to their credit (largest remainder, exact cents).
3. **Clawbacks.** A deal cancelled within the plan's ``clawback.window_days`` of its close
   date gives back its deal lines and SPIFFs, in the month of the cancel date. True-ups
   already paid are not clawed back, and the credit (attainment) is not restated.
4. **Draw and payout.** ``earnings`` = components + SPIFFs + clawbacks. With a draw of
   ``D`` in the month (0 without one) and an outstanding balance ``B`` the rep owes:
   if ``earnings >= D`` the rep repays ``min(B, earnings - D)`` (a recovery never takes
   the payout below the draw) and is paid the rest; otherwise the rep is paid ``D`` and
   the shortfall ``D - earnings`` is added to ``B`` for a recoverable draw (for a
   non-recoverable draw only negative earnings, i.e. clawbacks, are carried).

All money is integer cents; see :mod:`planner.comp.rates` for the rounding rule.
Re-running the same inputs gives identical results (every order is a stable sort on
data, never on dict or hash order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from planner.comp.crediting import month_key
from planner.comp.plan_file import Component, CompPlan
from planner.comp.rates import RateTable
from planner.progress import ProgressCallback

LINE_COLUMNS = (
    "rep_id",
    "month",
    "plan",
    "component",
    "line",
    "deal_id",
    "close_date",
    "source",
    "via_rep_id",
    "credit_cents",
    "window",
    "window_quota_cents",
    "cum_before_cents",
    "cum_after_cents",
    "tier",
    "earned_cents",
)
SUMMARY_COLUMNS = (
    "rep_id",
    "month",
    "plan",
    "credited_cents",
    "quota_cents",
    "attainment_pct",
    "components_cents",
    "spiffs_cents",
    "clawbacks_cents",
    "earnings_cents",
    "draw_cents",
    "recovery_cents",
    "balance_cents",
    "payout_cents",
)


@dataclass(frozen=True)
class CompResult:
    """What :func:`calculate` returns.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per rep and month, columns :data:`SUMMARY_COLUMNS` (money in cents;
        ``attainment_pct`` is credited / quota in percent, rounded to 2 decimals, NaN
        without quota). ``draw_cents`` is what was paid above earnings (the draw top-up;
        with negative earnings also the amount carried to the balance), so that
        ``earnings + draw - recovery = payout`` every month;
        ``recovery_cents`` what was withheld to repay the balance, ``balance_cents`` what
        the rep still owes after the month.
    lines : pandas.DataFrame
        Every figure behind the summary, columns :data:`LINE_COLUMNS`: ``line`` is
        ``deal``, ``true-up``, ``spiff`` or ``clawback``.
    plans : dict
        Plan name -> :class:`CompPlan`.
    plan_of : dict
        Rep id -> plan name, for every rep with a plan.
    months : tuple of str
        The months calculated, 'YYYY-MM'.
    unplanned_reps : tuple of str
        Reps whose role no plan lists (not paid here).
    uncredited : pandas.DataFrame or None
        Deals nobody was credited for, with a reason (set by :func:`planner.comp.run.run_comp`).
    credits, quotas, deals : pandas.DataFrame or None
        The inputs of the calculation (kept for the what-if estimator).
    """

    summary: pd.DataFrame
    lines: pd.DataFrame
    plans: dict[str, CompPlan]
    plan_of: dict[str, str]
    months: tuple[str, ...]
    unplanned_reps: tuple[str, ...] = field(default=())
    uncredited: pd.DataFrame | None = None
    credits: pd.DataFrame | None = None
    quotas: pd.DataFrame | None = None
    deals: pd.DataFrame | None = None

    def payouts(self) -> pd.Series:
        """Payout in cents indexed by (rep_id, month)."""
        return self.summary.set_index(["rep_id", "month"])["payout_cents"]

    def earnings_by_component(self) -> pd.DataFrame:
        """Earnings in cents per rep and month (rows, as in ``summary``) and component or SPIFF id.

        Clawbacks count against the component they give back; true-ups against theirs.
        """
        lines = self.lines
        codes = {c: lines[c].cat.codes.to_numpy(np.int64) for c in ("rep_id", "month", "component")}
        sums = pd.Series(lines["earned_cents"].to_numpy(np.int64)).groupby(list(codes.values())).sum()
        sums.index = pd.MultiIndex.from_arrays(
            [
                lines[c].cat.categories.astype(str)[sums.index.get_level_values(i)]
                for i, c in enumerate(codes)
            ],
            names=["rep_id", "month", "component"],
        )
        sums = sums.unstack("component")  # noqa: PD010
        index = pd.MultiIndex.from_frame(self.summary[["rep_id", "month"]])
        ids = [c.id for p in self.plans.values() for c in p.components] + [
            s.id for p in self.plans.values() for s in p.spiffs
        ]
        columns = list(dict.fromkeys(ids))
        return sums.reindex(index=index, columns=columns).fillna(0).astype(np.int64)


def assign_plans(plans: Sequence[CompPlan], reps: pd.DataFrame) -> tuple[dict[str, str], tuple[str, ...]]:
    """Rep id -> plan name by role (the first plan listing the role); and the reps without a plan."""
    plan_of, unplanned = {}, []
    for rep_id, role in reps["role"].astype(str).items():
        match = next((p.name for p in plans if role in p.roles), None)
        if match is None:
            unplanned.append(str(rep_id))
        else:
            plan_of[str(rep_id)] = match
    return plan_of, tuple(unplanned)


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
class _Types:
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


def _types(
    credits: pd.DataFrame, plans: Sequence[CompPlan], months: tuple[str, ...], reps: list[str]
) -> _Types:
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
        dict.fromkeys([c.id for p in plans for c in p.components] + [s.id for p in plans for s in p.spiffs])
    )
    return _Types(
        rep=pd.CategoricalDtype(sorted(categories("rep_id") | categories("via_rep_id") | set(reps) | {""})),
        deal=deal_type,
        month=pd.CategoricalDtype(list(months)),
        plan=pd.CategoricalDtype([p.name for p in plans]),
        component=pd.CategoricalDtype(component_ids),
        line=pd.CategoricalDtype(["deal", "true-up", "spiff", "clawback"]),
        source=pd.CategoricalDtype(["", "territory", "split", "team"]),
        window=pd.CategoricalDtype(list(dict.fromkeys(windows))),
    )


def _window_codes(window: str, year: np.ndarray, month: np.ndarray, types: _Types) -> np.ndarray:
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


def _component_lines(
    component: Component, rows: pd.DataFrame, quotas: pd.DataFrame, plan_name: str, types: _Types
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


def _spiff_lines(plan: CompPlan, rows: pd.DataFrame, types: _Types) -> list[pd.DataFrame]:
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


def _clawback_lines(
    lines: pd.DataFrame, deals: pd.DataFrame, plans: Sequence[CompPlan], types: _Types
) -> pd.DataFrame:
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


def _settle(summary: pd.DataFrame, plans: dict[str, CompPlan]) -> pd.DataFrame:
    """Apply draws and recoveries month by month for each rep (see the module docstring)."""
    draw_cents, recovery_cents, balance_cents, payout_cents = [], [], [], []
    balance, current = 0, None
    for rep, plan_name, month, earnings in summary[["rep_id", "plan", "month", "earnings_cents"]].itertuples(
        index=False
    ):
        if rep != current:
            current, balance = rep, 0
        draw = plans[plan_name].draw
        floor = int(draw.amount_usd * 100) if draw is not None and draw.active(month) else 0
        earnings = int(earnings)
        if earnings >= floor:
            recovery = min(balance, earnings - floor)
            balance -= recovery
            pay, topped = earnings - recovery, 0
        else:
            recovery, pay, topped = 0, floor, floor - earnings
            recoverable = draw is not None and draw.recoverable and floor > 0
            balance += floor - earnings if recoverable else max(0, -earnings)
        draw_cents.append(topped)
        recovery_cents.append(recovery)
        balance_cents.append(balance)
        payout_cents.append(pay)
    return summary.assign(
        draw_cents=np.array(draw_cents, dtype=np.int64),
        recovery_cents=np.array(recovery_cents, dtype=np.int64),
        balance_cents=np.array(balance_cents, dtype=np.int64),
        payout_cents=np.array(payout_cents, dtype=np.int64),
    )


def month_range(first: str | date, last: str | date) -> list[str]:
    """Every 'YYYY-MM' from ``first`` to ``last`` inclusive."""
    return [
        p.strftime("%Y-%m") for p in pd.period_range(pd.Period(first, "M"), pd.Period(last, "M"), freq="M")
    ]


def calculate(
    credits: pd.DataFrame,
    quotas: pd.DataFrame,
    deals: pd.DataFrame,
    plans: Sequence[CompPlan],
    reps: pd.DataFrame,
    months: Sequence[str],
    *,
    progress: ProgressCallback | None = None,
) -> CompResult:
    """Earnings, draws and payouts per rep and month (see the module docstring for the rules).

    Parameters
    ----------
    credits : pandas.DataFrame
        From :func:`planner.comp.crediting.credit_deals`.
    quotas : pandas.DataFrame
        From :func:`planner.comp.crediting.rep_quotas` (``rep_id``, ``month``, ``quota_cents``),
        covering every month of the windows used.
    deals : pandas.DataFrame
        Checked deals (for status and cancel dates).
    plans : sequence of CompPlan
        Comp plans; each rep gets the first plan that lists the rep's role.
    reps : pandas.DataFrame
        Reps indexed by ``rep_id`` with a ``role`` column.
    months : sequence of str
        Months to calculate ('YYYY-MM'); start them at a window start (e.g. January for
        yearly windows) so that windows are complete.
    progress : callable, optional
        Called with (fraction done, message).
    """
    report = progress or (lambda fraction, message: None)
    months = tuple(sorted(months))
    plan_by_name = {p.name: p for p in plans}
    if len(plan_by_name) != len(plans):
        raise ValueError("two comp plans have the same name; give each plan a unique name")
    plan_of, unplanned = assign_plans(plans, reps)
    types = _types(credits, plans, months, list(plan_of))
    plan_index = {p.name: i for i, p in enumerate(plans)}
    plan_by_rep = np.array(
        [plan_index.get(plan_of.get(r, ""), -1) for r in types.rep.categories], dtype=np.int64
    )
    team = np.array([p.credit == "team" for p in plans] + [False])
    rep_code = types.codes("rep", credits["rep_id"])
    month_code = types.codes("month", credits["month"])
    plan_code = np.where(rep_code >= 0, plan_by_rep[np.maximum(rep_code, 0)], -1)
    source_code = types.codes("source", credits["source"])
    keep = (plan_code >= 0) & (month_code >= 0) & (team[plan_code] == (source_code == 3))
    rows_at = np.flatnonzero(keep)
    close = credits["close_date"].iloc[rows_at]
    base = pd.DataFrame(
        {
            "rep_id": pd.Categorical.from_codes(rep_code[rows_at], dtype=types.rep),
            "deal_id": types.cast("deal", credits["deal_id"].iloc[rows_at]),
            "close_date": close.to_numpy("datetime64[ns]"),
            "month": pd.Categorical.from_codes(month_code[rows_at], dtype=types.month),
            "credit_cents": credits["credit_cents"].to_numpy(np.int64)[rows_at],
            "deal_cents": credits["deal_cents"].to_numpy(np.int64)[rows_at],
            "source": pd.Categorical.from_codes(source_code[rows_at], dtype=types.source),
            "via_rep_id": types.cast("rep", credits["via_rep_id"].iloc[rows_at]),
            "plan_code": plan_code[rows_at],
            "rep_code": rep_code[rows_at],
            "year": close.dt.year.to_numpy(np.int64),
            "mon": close.dt.month.to_numpy(np.int64),
        }
    )
    base["deal_code"] = base["deal_id"].cat.codes.to_numpy(np.int64)
    base = base.drop(columns="deal_id")
    quota_table = quotas.assign(rep_code=types.rep.categories.get_indexer(quotas["rep_id"].astype(str)))
    quota_table = quota_table.loc[quota_table["rep_code"] >= 0].copy()
    quota_table["year"] = quota_table["month"].astype(str).str[:4].astype(np.int64)
    quota_table["mon"] = quota_table["month"].astype(str).str[5:7].astype(np.int64)
    frames: list[pd.DataFrame] = []
    steps = sum(len(p.components) for p in plans) + 2
    done = 0
    for index, plan in enumerate(plans):
        rows = base.loc[base["plan_code"].to_numpy() == index]
        order = np.lexsort(
            (rows["deal_code"].to_numpy(), rows["close_date"].to_numpy(np.int64), rows["rep_code"].to_numpy())
        )
        rows = rows.iloc[order].reset_index(drop=True)
        for component in plan.components:
            frames.append(_component_lines(component, rows, quota_table, plan.name, types))
            done += 1
            report(done / steps, f"{plan.name}: {component.id}")
        frames.extend(_spiff_lines(plan, rows, types))
    if frames:
        lines = pd.concat(frames, ignore_index=True)
    else:
        lines = pd.DataFrame({c: pd.Series(dtype=object) for c in LINE_COLUMNS})
        for column, kind in (("rep_id", "rep"), ("month", "month"), ("plan", "plan")):
            lines[column] = pd.Categorical([], dtype=getattr(types, kind))
        lines["line"] = pd.Categorical([], dtype=types.line)
        lines["deal_id"] = lines["deal_id"].astype(np.int64)
        lines["earned_cents"] = lines["earned_cents"].astype(np.int64)
    clawbacks = _clawback_lines(lines, deals, plans, types)
    lines = pd.concat([lines, clawbacks], ignore_index=True) if len(clawbacks) else lines
    lines = lines.loc[:, list(LINE_COLUMNS)]
    lines["deal_id"] = pd.Categorical.from_codes(lines["deal_id"].to_numpy(np.int64), dtype=types.deal)
    report((done + 1) / steps, "summarising")
    summary = _summarise(lines, base, quota_table, plan_of, months, types)
    summary = _settle(summary, plan_by_name)
    report(1.0, "done")
    return CompResult(
        summary.loc[:, list(SUMMARY_COLUMNS)],
        lines,
        plan_by_name,
        plan_of,
        months,
        unplanned,
        credits=credits,
        quotas=quotas,
        deals=deals,
    )


def _summarise(
    lines: pd.DataFrame,
    base: pd.DataFrame,
    quotas: pd.DataFrame,
    plan_of: dict[str, str],
    months: tuple[str, ...],
    types: _Types,
) -> pd.DataFrame:
    reps = sorted(plan_of)
    rep_codes = types.rep.categories.get_indexer(reps)
    slot = np.full(len(types.rep.categories), -1, dtype=np.int64)
    slot[rep_codes] = np.arange(len(reps))
    width = len(months)

    def total(rep: np.ndarray, month: np.ndarray, values: np.ndarray) -> np.ndarray:
        out = np.zeros(len(reps) * width, dtype=np.int64)
        position = slot[rep] * width + month
        ok = (slot[rep] >= 0) & (month >= 0)
        sums = pd.Series(values[ok]).groupby(position[ok]).sum()
        out[sums.index.to_numpy()] = sums.to_numpy(np.int64)
        return out

    line_rep = lines["rep_id"].cat.codes.to_numpy(np.int64)
    line_month = lines["month"].cat.codes.to_numpy(np.int64)
    kind = lines["line"].cat.codes.to_numpy()
    earned = lines["earned_cents"].to_numpy(np.int64)

    def by_kind(*codes: int) -> np.ndarray:
        mask = np.isin(kind, codes)
        return total(line_rep[mask], line_month[mask], earned[mask])

    month_index = pd.Index(months)
    quota = total(
        quotas["rep_code"].to_numpy(np.int64),
        month_index.get_indexer(quotas["month"].astype(str)),
        quotas["quota_cents"].to_numpy(np.int64),
    )
    credited = total(
        base["rep_code"].to_numpy(np.int64),
        base["month"].cat.codes.to_numpy(np.int64),
        base["credit_cents"].to_numpy(np.int64),
    )
    summary = pd.DataFrame(
        {
            "rep_id": np.repeat(reps, width),
            "month": np.tile(list(months), len(reps)),
            "credited_cents": credited,
            "quota_cents": quota,
            "components_cents": by_kind(0, 1),
            "spiffs_cents": by_kind(2),
            "clawbacks_cents": by_kind(3),
        }
    )
    safe = np.where(quota > 0, quota, 1)
    attainment = (20000 * credited + safe) // (2 * safe)
    summary["attainment_pct"] = np.where(quota > 0, attainment / 100, np.nan)
    summary["earnings_cents"] = (
        summary["components_cents"] + summary["spiffs_cents"] + summary["clawbacks_cents"]
    )
    summary["plan"] = summary["rep_id"].map(plan_of)
    return summary
