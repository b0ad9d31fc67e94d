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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from planner.comp.plan_file import Component, CompPlan
from planner.comp.rates import RateTable

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

Progress = Callable[[float, str], None]


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


def _window_label(window: str, year: np.ndarray, month: np.ndarray, deal_ids: np.ndarray) -> np.ndarray:
    if window == "month":
        return np.char.add(np.char.add(year.astype(str), "-"), np.char.zfill(month.astype(str), 2))
    if window == "quarter":
        return np.char.add(np.char.add(year.astype(str), "-Q"), ((month - 1) // 3 + 1).astype(str))
    if window == "year":
        return year.astype(str)
    return deal_ids.astype(str)


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
    component: Component, rows: pd.DataFrame, quotas: pd.DataFrame, plan_name: str
) -> pd.DataFrame:
    """Deal and true-up lines of one component for rows sorted by rep, close date, deal id."""
    table = RateTable.from_component(component)
    n = len(rows)
    rep = rows["rep_code"].to_numpy()
    year, month = rows["year"].to_numpy(), rows["mon"].to_numpy()
    window = _window_keys(component.window, year, month, pd.factorize(rows["deal_id"])[0])
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
            component.window, quotas["year"].to_numpy(), quotas["mon"].to_numpy(), len(quotas)
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
    labels = _window_label(component.window, year, month, rows["deal_id"].to_numpy())
    deal_lines = pd.DataFrame(
        {
            "rep_id": rows["rep_id"].to_numpy(),
            "month": rows["month"].to_numpy(),
            "plan": plan_name,
            "component": component.id,
            "line": "deal",
            "deal_id": rows["deal_id"].to_numpy(),
            "close_date": rows["close_date"].to_numpy(),
            "source": rows["source"].to_numpy(),
            "via_rep_id": rows["via_rep_id"].to_numpy(),
            "credit_cents": amount,
            "window": labels,
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
    true_ups["line"] = "true-up"
    true_ups["deal_id"] = ""
    true_ups["source"] = ""
    true_ups["via_rep_id"] = ""
    true_ups["credit_cents"] = 0
    true_ups["cum_before_cents"] = cum_before[at]
    true_ups["cum_after_cents"] = cum_before[at]
    true_ups["earned_cents"] = true_up[keep]
    return pd.concat([deal_lines, true_ups], ignore_index=True)


def _spiff_lines(plan: CompPlan, rows: pd.DataFrame) -> list[pd.DataFrame]:
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
        group = hit["deal_id"].to_numpy()
        frame = pd.DataFrame({"deal_id": group, "floor": floor, "remainder": remainder, "credit": credit})
        credited_total = frame.groupby("deal_id")["credit"].transform("sum").to_numpy(np.int64)
        due = (2 * bonus * credited_total + deal) // (2 * deal)
        leftover = due - frame.groupby("deal_id")["floor"].transform("sum").to_numpy(np.int64)
        order = np.lexsort((hit["rep_id"].to_numpy(), -remainder, group))
        rank = np.empty(len(hit), dtype=np.int64)
        sorted_starts = _group_starts(group[order])
        rank[order] = np.arange(len(hit)) - np.maximum.accumulate(
            np.where(sorted_starts, np.arange(len(hit)), 0)
        )
        earned = floor + (rank < leftover)
        lines = pd.DataFrame(
            {
                "rep_id": hit["rep_id"].to_numpy(),
                "month": hit["month"].to_numpy(),
                "plan": plan.name,
                "component": spiff.id,
                "line": "spiff",
                "deal_id": group,
                "close_date": hit["close_date"].to_numpy(),
                "source": hit["source"].to_numpy(),
                "via_rep_id": hit["via_rep_id"].to_numpy(),
                "credit_cents": credit,
                "window": hit["deal_id"].to_numpy(),
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
    lines: pd.DataFrame, deals: pd.DataFrame, plans: dict[str, CompPlan], months: set
) -> pd.DataFrame:
    cancelled = deals.loc[deals["status"] == "cancelled", ["deal_id", "close_date", "cancel_date"]]
    if cancelled.empty or lines.empty:
        return lines.iloc[:0]
    windows = pd.Series({name: p.clawback.window_days for name, p in plans.items() if p.clawback is not None})
    if windows.empty:
        return lines.iloc[:0]
    candidates = lines.loc[
        lines["line"].isin(["deal", "spiff"]) & lines["deal_id"].isin(cancelled["deal_id"])
    ]
    merged = candidates.merge(cancelled[["deal_id", "cancel_date"]], on="deal_id")
    window_days = merged["plan"].map(windows)
    elapsed = (merged["cancel_date"] - merged["close_date"]).dt.days
    cancel_month = merged["cancel_date"].dt.strftime("%Y-%m")
    keep = (
        window_days.notna()
        & (elapsed <= window_days)
        & cancel_month.isin(months)
        & (merged["earned_cents"] != 0)
    )
    claw = merged.loc[keep].copy()
    claw["month"] = cancel_month.loc[keep]
    claw["line"] = "clawback"
    claw["earned_cents"] = -claw["earned_cents"]
    return claw.drop(columns=["cancel_date"])


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
    progress: Progress | None = None,
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
    rep_codes = {rep: code for code, rep in enumerate(sorted(plan_of))}
    quota_table = quotas.loc[quotas["rep_id"].isin(rep_codes)].copy()
    quota_table["rep_code"] = quota_table["rep_id"].map(rep_codes).astype(np.int64)
    quota_table["year"] = quota_table["month"].str[:4].astype(np.int64)
    quota_table["mon"] = quota_table["month"].str[5:7].astype(np.int64)
    in_range = credits["month"].isin(months) & credits["rep_id"].isin(rep_codes)
    base = credits.loc[in_range].copy()
    base["plan"] = base["rep_id"].map(plan_of)
    team_plan = base["plan"].map({name: p.credit == "team" for name, p in plan_by_name.items()})
    base = base.loc[team_plan == (base["source"] == "team")]
    base["rep_code"] = base["rep_id"].map(rep_codes).astype(np.int64)
    base["year"] = base["month"].str[:4].astype(np.int64)
    base["mon"] = base["month"].str[5:7].astype(np.int64)
    frames: list[pd.DataFrame] = []
    steps = sum(len(p.components) for p in plans) + 2
    done = 0
    for plan in plans:
        rows = base.loc[base["plan"] == plan.name]
        order = np.lexsort(
            (rows["deal_id"].to_numpy(), rows["close_date"].to_numpy(), rows["rep_code"].to_numpy())
        )
        rows = rows.iloc[order].reset_index(drop=True)
        for component in plan.components:
            frames.append(_component_lines(component, rows, quota_table, plan.name))
            done += 1
            report(done / steps, f"{plan.name}: {component.id}")
        frames.extend(_spiff_lines(plan, rows))
    lines = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(LINE_COLUMNS))
    clawbacks = _clawback_lines(lines, deals, plan_by_name, set(months))
    lines = pd.concat([lines, clawbacks], ignore_index=True) if len(clawbacks) else lines
    lines = lines.loc[:, list(LINE_COLUMNS)]
    report((done + 1) / steps, "summarising")
    summary = _summarise(lines, base, quota_table, plan_of, months)
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
) -> pd.DataFrame:
    grid = pd.MultiIndex.from_product([sorted(plan_of), list(months)], names=["rep_id", "month"])
    credited = base.groupby(["rep_id", "month"])["credit_cents"].sum().reindex(grid, fill_value=0)
    quota = quotas.groupby(["rep_id", "month"])["quota_cents"].sum().reindex(grid, fill_value=0)
    kinds = lines.pivot_table(
        index=["rep_id", "month"], columns="line", values="earned_cents", aggfunc="sum", fill_value=0
    )
    kinds = kinds.reindex(grid, fill_value=0).astype(np.int64)

    def kind(name: str) -> pd.Series:
        return kinds[name] if name in kinds else pd.Series(0, index=grid, dtype=np.int64)

    summary = pd.DataFrame(
        {
            "credited_cents": credited.astype(np.int64),
            "quota_cents": quota.astype(np.int64),
            "components_cents": kind("deal") + kind("true-up"),
            "spiffs_cents": kind("spiff"),
            "clawbacks_cents": kind("clawback"),
        },
        index=grid,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        attainment = np.where(quota > 0, (20000 * credited + quota) // (2 * quota.where(quota > 0, 1)), -1)
    summary["attainment_pct"] = np.where(attainment >= 0, attainment / 100, np.nan)
    summary["earnings_cents"] = (
        summary["components_cents"] + summary["spiffs_cents"] + summary["clawbacks_cents"]
    )
    summary = summary.reset_index()
    summary["plan"] = summary["rep_id"].map(plan_of)
    return summary
