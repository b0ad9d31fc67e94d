"""The comp calculation: credited amounts to earnings, SPIFFs, clawbacks, draws and payouts.

Per rep (the plan is chosen by the rep's ``role``) and per month:

1. **Components.** Credit rows are ordered by close date (then deal id, then the rep a
   roll-up credit came through) inside each measurement window (the deal alone, the
   month, the calendar quarter or year). For
   every row the window-to-date earnings before and after the deal are evaluated with
   :class:`planner.comp.rates.RateTable`; the difference is the deal's line. For a
   ``single`` (retroactive) table the tier is the one reached at the month end, and when
   a later month of a quarter or year lifts the tier, a *true-up* line reprices the
   window's earlier deals. A basis ``attainment`` component earns nothing in a window
   without quota. A component measures one quota line (:mod:`planner.plans.quota_lines`):
   it credits the deals of that line's bookings and measures against that line's quota;
   on a count line each deal credits 100 hundredths, split like the deal's amount.
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

from planner.comp.adjustments import NOTE as ADJUSTMENT_NOTE
from planner.comp.adjustments import amount_lines, credit_rows, with_adjustments
from planner.comp.lines import (
    LineTypes,
    clawback_lines,
    component_lines,
    hold_lines,
    line_types,
    mark_rows,
    on_payment,
    payment_table,
    spiff_lines,
)
from planner.comp.plan_file import Component, CompPlan
from planner.comp.returns import lines_with_notes, note_rows, note_table, sorted_rows
from planner.errors import PlanError
from planner.plans.quota_lines import ALL_BOOKINGS, HUNDREDTHS, QuotaLine
from planner.progress import ProgressCallback

LINE_COLUMNS = (
    "rep_id",
    "month",
    "earned_month",
    "held_until",
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
    "adjustments_cents",
    "earnings_cents",
    "accrued_cents",
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
        the rep still owes after the month. ``earnings_cents`` counts lines in the month
        they are paid, ``accrued_cents`` in the month they were earned (they differ by
        held deals).
    lines : pandas.DataFrame
        Every figure behind the summary, columns :data:`LINE_COLUMNS`: ``line`` is
        ``deal``, ``true-up``, ``spiff`` or ``clawback``; ``month`` is when it is paid
        (missing while still on hold after the months calculated), ``earned_month`` when it
        was earned, ``held_until`` the release date of a held deal; grouped by rep (in ``rep_id``
        order), and within a rep by plan, component and close date.
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
    quota_lines : tuple of QuotaLine
        The quota lines the components measure against (kept for the what-if estimator).
    adjustments : pandas.DataFrame or None
        The manual adjustments paid (for the statements' explanations).
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
    quota_lines: tuple[QuotaLine, ...] = ()
    adjustments: pd.DataFrame | None = None

    def payouts(self) -> pd.Series:
        """Payout in cents indexed by (rep_id, month)."""
        return self.summary.set_index(["rep_id", "month"])["payout_cents"]

    def earnings_by_component(self) -> pd.DataFrame:
        """Earnings in cents per rep and month (rows, as in ``summary``) and component or SPIFF id.

        Clawbacks count against the component they give back; true-ups against theirs.
        """
        lines = self.lines.loc[self.lines["month"].notna().to_numpy()]  # not those still on hold
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
    quota_lines: Sequence[QuotaLine] | None = None,
    invoices: pd.DataFrame | None = None,
    credit_notes: pd.DataFrame | None = None,
    adjustments: pd.DataFrame | None = None,
    progress: ProgressCallback | None = None,
) -> CompResult:
    """Earnings, draws and payouts per rep and month (see the module docstring for the rules).

    Parameters
    ----------
    credits : pandas.DataFrame
        From :func:`planner.comp.crediting.credit_deals`.
    quotas : pandas.DataFrame
        From :func:`planner.comp.crediting.rep_quotas` (``rep_id``, ``line``, ``month``,
        ``quota_cents``), covering every month of the windows used.
    deals : pandas.DataFrame
        Checked deals (for status and cancel dates).
    plans : sequence of CompPlan
        Comp plans; each rep gets the first plan that lists the rep's role.
    reps : pandas.DataFrame
        Reps indexed by ``rep_id`` with a ``role`` column.
    months : sequence of str
        Months to calculate ('YYYY-MM'); start them at a window start (e.g. January for
        yearly windows) so that windows are complete.
    quota_lines : sequence of QuotaLine, optional
        The quota lines of the approved plans (default: the single USD line ``bookings``).
        Deals carry their line in an optional ``line`` column.
    invoices : pandas.DataFrame, optional
        Payments received (:func:`planner.comp.deals.check_invoices`), for components that
        credit on payment.
    credit_notes : pandas.DataFrame, optional
        Credit notes and returns (:func:`planner.comp.deals.check_credit_notes`); see
        :mod:`planner.comp.returns`.
    adjustments : pandas.DataFrame, optional
        Approved manual adjustments (see :mod:`planner.comp.adjustments`).
    progress : callable, optional
        Called with (fraction done, message).
    """
    report = progress or (lambda fraction, message: None)
    months = tuple(sorted(months))
    by_name = {line.name: line for line in quota_lines or (QuotaLine(),)}
    if "line" not in quotas.columns:
        quotas = quotas.assign(line=next(iter(by_name)) if len(by_name) == 1 else "")
    plan_by_name = {p.name: p for p in plans}
    if len(plan_by_name) != len(plans):
        raise ValueError("two comp plans have the same name; give each plan a unique name")
    plan_of, unplanned = assign_plans(plans, reps)
    types = with_adjustments(line_types(credits, plans, months, list(plan_of)), adjustments)
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
    base["note"] = 0
    base = base.drop(columns="deal_id")
    adjusted = credit_rows(adjustments, types, plan_by_rep, team)
    if len(adjusted):
        base = pd.concat([base, adjusted], ignore_index=True)
    quota_table = quotas.assign(rep_code=types.rep.categories.get_indexer(quotas["rep_id"].astype(str)))
    quota_table = quota_table.loc[quota_table["rep_code"] >= 0].copy()
    quota_table["year"] = quota_table["month"].astype(str).str[:4].astype(np.int64)
    quota_table["mon"] = quota_table["month"].astype(str).str[5:7].astype(np.int64)
    deal_line = _deal_quota_lines(deals, types)
    payments = payment_table(invoices, types)
    notes = note_table(credit_notes, types)
    measured = {
        p.name: [measured_line(c, p, by_name, deal_line is not None) for c in p.components] for p in plans
    }
    frames: list[pd.DataFrame] = []
    steps = sum(len(p.components) for p in plans) + 2
    done = 0
    returned = []
    for index, plan in enumerate(plans):
        rows = sorted_rows(base.loc[base["plan_code"].to_numpy() == index])
        plan_notes = note_rows(rows, notes, plan, types)
        returned.append(plan_notes)
        for component, line in zip(plan.components, measured[plan.name], strict=True):
            line_rows, line_quotas = _of_line(rows, quota_table, line, deal_line)
            line_notes = _of_line(plan_notes, quota_table, line, deal_line)[0]
            if component.credit_on == "payment":
                line_rows = on_payment(line_rows, payments, types)
                frames.append(component_lines(component, line_rows, line_quotas, plan.name, types))
            elif len(line_notes):
                frames.append(
                    lines_with_notes(component, line_rows, line_notes, line_quotas, plan.name, types)
                )
            else:
                lines_of = component_lines(component, line_rows, line_quotas, plan.name, types)
                frames.append(mark_rows(lines_of, line_rows, types))
            done += 1
            report(done / steps, f"{plan.name}: {component.id}")
        plain = rows["note"].to_numpy() == 0
        frames.extend(spiff_lines(plan, rows if plain.all() else rows.loc[plain], types))
    paid_as_is = amount_lines(adjustments, types, plan_of)
    if paid_as_is is not None:
        frames.append(paid_as_is)
    if frames:
        lines = pd.concat(frames, ignore_index=True)
    else:
        lines = pd.DataFrame({c: pd.Series(dtype=object) for c in LINE_COLUMNS})
        for column, kind in (("rep_id", "rep"), ("month", "month"), ("plan", "plan")):
            lines[column] = pd.Categorical([], dtype=getattr(types, kind))
        lines = lines.drop(columns=["earned_month", "held_until"])
        lines["line"] = pd.Categorical([], dtype=types.line)
        lines["deal_id"] = lines["deal_id"].astype(np.int64)
        lines["earned_cents"] = lines["earned_cents"].astype(np.int64)
    clawbacks = clawback_lines(lines, deals, plans, types)
    lines = pd.concat([lines, clawbacks], ignore_index=True) if len(clawbacks) else lines
    lines = hold_lines(lines, deals, types)
    by_rep = np.argsort(lines["rep_id"].cat.codes.to_numpy(), kind="stable")
    lines = lines.loc[:, list(LINE_COLUMNS)].take(by_rep).reset_index(drop=True)
    lines["deal_id"] = pd.Categorical.from_codes(lines["deal_id"].to_numpy(np.int64), dtype=types.deal)
    report((done + 1) / steps, "summarising")
    summary_quotas = _summary_quotas(quota_table, plans, measured, by_name, plan_by_rep)
    credited = pd.concat([base, *returned], ignore_index=True) if returned else base
    summary = _summarise(lines, credited, summary_quotas, plan_of, months, types)
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
        quota_lines=tuple(by_name.values()),
        adjustments=adjustments,
    )


def measured_line(
    component: Component, plan: CompPlan, lines: dict[str, QuotaLine], deals_have_lines: bool
) -> QuotaLine | None:
    """The quota line a component measures (None: every deal, no quota); clear errors otherwise."""
    where = f"comp plan '{plan.name}', component '{component.id}'"
    if component.quota_line is None:
        if len(lines) == 1:
            line = next(iter(lines.values()))
        elif component.basis == "amount":
            return None
        else:
            raise PlanError(
                f"{where} measures attainment, and the approved plans have quota lines "
                f"{', '.join(lines)}: name the one it measures (quota_line: ...)"
            )
    elif component.quota_line not in lines:
        raise PlanError(
            f"{where} measures quota line '{component.quota_line}', which the approved plans do not "
            f"have; their lines are {', '.join(lines)}"
        )
    else:
        line = lines[component.quota_line]
    if line.counts and component.kind != "interpolated":
        raise PlanError(
            f"{where} measures {line.name}, a count of {line.unit}: pay it with an interpolated payout "
            "curve over attainment (kind: interpolated, basis: attainment)"
        )
    if line.source_of() != ALL_BOOKINGS and not deals_have_lines and len(lines) > 1:
        raise PlanError(
            f"{where} measures {line.name} (bookings of line '{line.source_of()}'), but the deals have no "
            "line column: add one saying which line each deal counts toward"
        )
    return line


def _deal_quota_lines(deals: pd.DataFrame, types: LineTypes) -> np.ndarray | None:
    """The ``line`` of every deal category (None when the deals carry no line)."""
    if "line" not in deals.columns:
        return None
    by_deal = pd.Series(deals["line"].astype(str).to_numpy(), index=deals["deal_id"].astype(str).to_numpy())
    return by_deal.reindex(types.deal.categories).fillna("").to_numpy(dtype=object)


def _of_line(
    rows: pd.DataFrame, quotas: pd.DataFrame, line: QuotaLine | None, deal_line: np.ndarray | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The credit rows a component measures and its line's quotas (credits in the line's unit)."""
    if line is None:
        return rows, quotas.iloc[:0]
    source = line.source_of()
    if source != ALL_BOOKINGS and deal_line is not None:
        rows = rows.loc[deal_line[rows["deal_code"].to_numpy()] == source].reset_index(drop=True)
    if line.counts:
        rows = rows.loc[rows["note"].to_numpy() != ADJUSTMENT_NOTE].reset_index(drop=True)  # amounts only
        deal = np.maximum(rows["deal_cents"].to_numpy(np.int64), 1)
        share = (2 * HUNDREDTHS * rows["credit_cents"].to_numpy(np.int64) + deal) // (2 * deal)
        rows = rows.assign(credit_cents=share)
    return rows, quotas.loc[quotas["line"] == line.name]


def _summary_quotas(
    quotas: pd.DataFrame,
    plans: Sequence[CompPlan],
    measured: dict[str, list[QuotaLine | None]],
    lines: dict[str, QuotaLine],
    plan_by_rep: np.ndarray,
) -> pd.DataFrame:
    """The quota rows behind each rep's summary: the USD lines their plan measures (all USD lines if none)."""
    every_usd = [name for name, line in lines.items() if not line.counts]
    keep = np.zeros(len(quotas), dtype=bool)
    plan_code = plan_by_rep[quotas["rep_code"].to_numpy(np.int64)]
    for index, plan in enumerate(plans):
        names = sorted({line.name for line in measured[plan.name] if line is not None and not line.counts})
        keep |= (plan_code == index) & quotas["line"].isin(names or every_usd).to_numpy()
    return quotas.loc[keep]


def _summarise(
    lines: pd.DataFrame,
    base: pd.DataFrame,
    quotas: pd.DataFrame,
    plan_of: dict[str, str],
    months: tuple[str, ...],
    types: LineTypes,
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
        np.add.at(out, position[ok], np.asarray(values, dtype=np.int64)[ok])  # exact integer sums
        return out

    line_rep = lines["rep_id"].cat.codes.to_numpy(np.int64)
    line_month = lines["month"].cat.codes.to_numpy(np.int64)
    kind = lines["line"].cat.codes.to_numpy()
    earned = lines["earned_cents"].to_numpy(np.int64)

    def by_kind(*codes: int) -> np.ndarray:  # codes of LINE_KINDS
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
    earned_month = lines["earned_month"].cat.codes.to_numpy(np.int64)
    accrued = total(line_rep, earned_month, earned)
    summary = pd.DataFrame(
        {
            "rep_id": np.repeat(reps, width),
            "month": np.tile(list(months), len(reps)),
            "credited_cents": credited,
            "quota_cents": quota,
            "components_cents": by_kind(0, 1, 4, 5),
            "spiffs_cents": by_kind(2),
            "clawbacks_cents": by_kind(3),
            "adjustments_cents": by_kind(7),
            "accrued_cents": accrued,
        }
    )
    safe = np.where(quota > 0, quota, 1)
    attainment = (20000 * credited + safe) // (2 * safe)
    summary["attainment_pct"] = np.where(quota > 0, attainment / 100, np.nan)
    summary["earnings_cents"] = (
        summary["components_cents"]
        + summary["spiffs_cents"]
        + summary["clawbacks_cents"]
        + summary["adjustments_cents"]
    )
    summary["plan"] = summary["rep_id"].map(plan_of)
    return summary
