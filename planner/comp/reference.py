"""A straightforward per-deal reference implementation in plain Python with exact fractions.

It follows the rules of :mod:`planner.comp.crediting` and :mod:`planner.comp.calculate`
one deal at a time, written independently of their vectorised code (dicts, loops,
:class:`fractions.Fraction`), so tests and the benchmark can check that both give
identical payouts. It is the benchmark's baseline: correct but slow.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence
from fractions import Fraction

import pandas as pd

from planner.comp.plan_file import Component, CompPlan
from planner.plans.approved import ApprovedPlan


def _round(value: Fraction) -> int:
    return int((value + Fraction(1, 2)) // 1)


def _cents(usd) -> int:
    return _round(Fraction(usd) * 100)


def _even(amount: int, count: int) -> list[int]:
    return [amount // count + (1 if i < amount % count else 0) for i in range(count)]


def _by_share(amount: int, shares: list[tuple[str, int]]) -> dict[str, int]:
    exact = {rep: Fraction(amount * micro, 1_000_000) for rep, micro in shares}
    parts = {rep: int(value // 1) for rep, value in exact.items()}
    leftover = amount - sum(parts.values())
    for rep in sorted(exact, key=lambda r: (-(exact[r] - parts[r]), r))[:leftover]:
        parts[rep] += 1
    return parts


def _chains(reps: pd.DataFrame) -> dict[str, list[str]]:
    manager = {str(r): ("" if pd.isna(m) else str(m)) for r, m in reps["manager_id"].items()}
    chains = {}
    for rep in manager:
        chain, seen, current = [], {rep}, manager[rep]
        while current and current in manager and current not in seen:
            chain.append(current)
            seen.add(current)
            current = manager[current]
        chains[rep] = chain
    return chains


def reference_credits(deals, account_units, approved, splits, reps) -> list[dict]:
    """Credit rows (rep_id, deal_id, close_date, month, credit, deal, source) deal by deal."""
    versions = sorted(approved, key=lambda a: a.effective_from)
    starts = [pd.Timestamp(a.effective_from) for a in versions]
    assignments = [a.plan.assignment.to_dict() for a in versions]
    coverage = []
    for a in versions:
        by_territory = defaultdict(list)
        for rep, territory in a.plan.territory_reps.items():
            by_territory[territory].append(rep)
        coverage.append({t: sorted(r) for t, r in by_territory.items()})
    split_rows = defaultdict(list)
    if splits is not None:
        for deal_id, rep_id, micro in splits[["deal_id", "rep_id", "share_micro"]].itertuples(index=False):
            split_rows[deal_id].append((rep_id, int(micro)))
    units = account_units.to_dict()
    chains = _chains(reps) if reps is not None else {}
    rows = []
    for deal_id, account, close, amount in deals[
        ["deal_id", "account_id", "close_date", "amount_cents"]
    ].itertuples(index=False):
        amount = int(amount)
        if deal_id in split_rows:
            parts, source = _by_share(amount, split_rows[deal_id]), "split"
        else:
            v = bisect.bisect_right(starts, close) - 1
            territory = assignments[v].get(units.get(account)) if v >= 0 else None
            owners = coverage[v].get(territory, []) if v >= 0 else []
            if not owners:
                continue
            parts, source = dict(zip(owners, _even(amount, len(owners)), strict=True)), "territory"
        for rep, credit in parts.items():
            row = {
                "deal_id": deal_id,
                "close_date": close,
                "month": close.strftime("%Y-%m"),
                "credit": credit,
            }
            rows.append({**row, "rep_id": rep, "source": source, "deal": amount})
            for manager in chains.get(rep, []):
                rows.append({**row, "rep_id": manager, "source": "team", "deal": amount})
    return rows


def reference_quotas(approved: Sequence[ApprovedPlan], months: Sequence[str], reps) -> dict:
    """(rep_id, month) -> quota cents, pro-rated by days, managers summing their reps."""
    versions = sorted(approved, key=lambda a: a.effective_from)
    quota = defaultdict(int)
    for v, a in enumerate(versions):
        start = pd.Timestamp(a.effective_from)
        end = pd.Timestamp(versions[v + 1].effective_from) if v + 1 < len(versions) else pd.Timestamp.max
        monthly = defaultdict(int)
        for territory, period, cents in a.line_quotas().itertuples(index=False):
            if "Q" in period:
                first = (int(period[-1]) - 1) * 3 + 1
                for offset, part in enumerate(_even(int(cents), 3)):
                    monthly[(territory, f"{period[:4]}-{first + offset:02d}")] += part
            else:
                monthly[(territory, period)] += int(cents)
        owners = defaultdict(list)
        for rep, territory in a.plan.territory_reps.items():
            owners[territory].append(rep)
        for (territory, month), cents in monthly.items():
            if month not in months or territory not in owners:
                continue
            month_start = pd.Timestamp(month + "-01")
            days_in = month_start.days_in_month
            month_end = month_start + pd.Timedelta(days=days_in)
            days = max(0, (min(month_end, end) - max(month_start, start)).days)
            if days == 0:
                continue
            for rep, share in zip(
                sorted(owners[territory]), _even(cents, len(owners[territory])), strict=True
            ):
                quota[(rep, month)] += _round(Fraction(share * days, days_in))
    if reps is not None:
        own = dict(quota)
        for rep, chain in _chains(reps).items():
            for manager in chain:
                for month in months:
                    quota[(manager, month)] += own.get((rep, month), 0)
    return dict(quota)


def _window(component: Component, month: str, deal_id: str) -> str:
    year, mon = month[:4], int(month[5:])
    return {"month": month, "quarter": f"{year}-Q{(mon - 1) // 3 + 1}", "year": year}.get(
        component.window, deal_id
    )


def _value(component: Component, c: int, at: int, quota: int) -> int:
    """Window-to-date earnings in cents at credited amount ``c`` (tier picked at ``at`` for single)."""

    def start_cents(start) -> Fraction:
        if component.basis == "amount":
            return Fraction(_cents(start))
        return Fraction(_round(Fraction(quota) * Fraction(start) / 100))

    if component.basis == "attainment" and quota == 0:
        return 0
    bounds = [start_cents(t.start) for t in component.tiers]
    gate = start_cents(component.threshold)
    if component.kind == "marginal":
        rates = [Fraction(r) / 100 for r in component.rates_pct()]
        exact = Fraction(0)
        for i, rate in enumerate(rates):
            upper = bounds[i + 1] if i + 1 < len(bounds) else None
            top = c if upper is None else min(c, upper)
            exact += rate * max(Fraction(0), top - bounds[i])
        value, gate_at = _round(exact), c
    elif component.kind == "single":
        reached = [i for i, b in enumerate(bounds) if at >= b]
        rate = Fraction(component.rates_pct()[reached[-1] if reached else 0]) / 100
        value, gate_at = _round(rate * c), at
    else:
        payouts = [_cents(t.payout_usd) for t in component.tiers]
        if c <= 0 or c < bounds[0]:  # nothing credited earns nothing, whatever the first point
            value = 0
        elif c >= bounds[-1]:
            value = payouts[-1]
        else:
            i = max(j for j, b in enumerate(bounds) if c >= b)
            width = max(bounds[i + 1] - bounds[i], 1)
            value = _round(payouts[i] + (payouts[i + 1] - payouts[i]) * (c - bounds[i]) / width)
        gate_at = c
    if gate_at < gate:
        value = 0
    if component.cap_usd is not None:
        value = min(value, _cents(component.cap_usd))
    return value


def reference_payouts(
    deals: pd.DataFrame,
    account_units: pd.Series,
    approved: Sequence[ApprovedPlan],
    reps: pd.DataFrame,
    plans: Sequence[CompPlan],
    months: Sequence[str],
    *,
    splits: pd.DataFrame | None = None,
    only_reps: set[str] | None = None,
) -> dict[tuple[str, str], int]:
    """(rep_id, month) -> payout cents, computed deal by deal (``only_reps`` limits the reps paid)."""
    months = sorted(months)
    years = sorted({m[:4] for m in months})
    all_months = [f"{y}-{m:02d}" for y in years for m in range(1, 13)]
    credits = reference_credits(deals, account_units, approved, splits, reps)
    quotas = reference_quotas(approved, all_months, reps)
    status = {
        d: (s, c, x)
        for d, s, c, x in deals[["deal_id", "status", "close_date", "cancel_date"]].itertuples(index=False)
    }
    plan_all = {}
    for rep, role in reps["role"].astype(str).items():
        plan = next((p for p in plans if role in p.roles), None)
        if plan is not None:
            plan_all[rep] = plan
    plan_of = {r: p for r, p in plan_all.items() if only_reps is None or r in only_reps}
    by_deal = defaultdict(list)
    for row in credits:
        if row["month"] in months:
            by_deal[row["deal_id"]].append(row)
    rows_of = defaultdict(list)
    for row in credits:
        plan = plan_of.get(row["rep_id"])
        if (
            plan is not None
            and (row["source"] == "team") == (plan.credit == "team")
            and row["month"] in months
        ):
            rows_of[row["rep_id"]].append(row)
    payouts = {}
    for rep, plan in sorted(plan_of.items()):
        rows = sorted(rows_of[rep], key=lambda r: (r["close_date"], r["deal_id"]))
        earnings = defaultdict(int)
        deal_earned = defaultdict(int)
        for component in plan.components:
            by_window = defaultdict(list)
            for row in rows:
                by_window[_window(component, row["month"], row["deal_id"])].append(row)
            for window, members in by_window.items():
                window_months = sorted({r["month"] for r in members})
                quota = (
                    sum(q for (r, m), q in quotas.items() if r == rep and _window(component, m, "") == window)
                    if component.basis == "attainment" and component.window != "deal"
                    else 0
                )
                cum, paid = 0, 0
                for month in window_months:
                    in_month = [r for r in members if r["month"] == month]
                    month_end = cum + sum(r["credit"] for r in in_month)
                    for r in in_month:
                        before = _value(component, cum, month_end, quota)
                        cum += r["credit"]
                        deal_earned[r["deal_id"]] += _value(component, cum, month_end, quota) - before
                    total = _value(component, month_end, month_end, quota)
                    earnings[month] += total - paid
                    paid = total
        for spiff in plan.spiffs:
            by_deal = defaultdict(list)
            for r in rows:
                ok = r["deal"] >= _cents(spiff.min_amount_usd)
                ok &= spiff.start is None or r["close_date"] >= pd.Timestamp(spiff.start)
                ok &= spiff.end is None or r["close_date"] <= pd.Timestamp(spiff.end)
                if ok:
                    by_deal[r["deal_id"]].append(r)
            for deal_id, members in by_deal.items():
                bonus, deal = _cents(spiff.bonus_usd), max(members[0]["deal"], 1)
                earned = _share_of_spiff(rep, bonus, deal, by_deal[deal_id], plan_all)
                earnings[members[0]["month"]] += earned
                deal_earned[deal_id] += earned
        if plan.clawback is not None:
            for deal_id, earned in deal_earned.items():
                state, close, cancel = status[deal_id]
                if state == "cancelled" and (cancel - close).days <= plan.clawback.window_days:
                    month = cancel.strftime("%Y-%m")
                    if month in months:
                        earnings[month] -= earned
        balance = 0
        for month in months:
            e = earnings[month]
            floor = _cents(plan.draw.amount_usd) if plan.draw is not None and plan.draw.active(month) else 0
            if e >= floor:
                recovery = min(balance, e - floor)
                balance -= recovery
                pay = e - recovery
            else:
                pay = floor
                recoverable = plan.draw is not None and plan.draw.recoverable and floor > 0
                balance += floor - e if recoverable else max(0, -e)
            payouts[(rep, month)] = pay
    return payouts


def _share_of_spiff(rep: str, bonus: int, deal: int, rows: list[dict], plan_of: dict) -> int:
    """The rep's cents of a SPIFF: largest remainder over the deal's rows paid under the same plan."""
    plan = plan_of[rep]
    members = [
        r
        for r in rows
        if plan_of.get(r["rep_id"]) is plan and (r["source"] == "team") == (plan.credit == "team")
    ]
    exact = [(Fraction(bonus * r["credit"], deal), r["rep_id"]) for r in members]
    floors = [int(x // 1) for x, _ in exact]
    due = _round(Fraction(bonus * sum(r["credit"] for r in members), deal))
    leftover = due - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i][0] - floors[i]), exact[i][1]))
    for i in order[:leftover]:
        floors[i] += 1
    return sum(f for f, (_, r) in zip(floors, exact, strict=True) if r == rep)
