"""Comp benchmark: 1,000,000 deals, 500 reps, 12 months, from deals to statements.

Synthetic, seeded world: 500 account executives (20 pairs share a territory) under 50
managers, 480 territories of 10 units, 100,000 accounts, a realignment on 2026-07-15
moving 5 % of the units, monthly quotas near each territory's expected bookings, 3 % of
deals cancelled, 1 % split between two reps; the shipped comp plans
(``data/comp/account_executive.yaml``: marginal monthly commission by attainment with
decelerator, accelerator and cap, interpolated quarterly bonus, SPIFF, recoverable draw,
clawback; ``data/comp/manager.toml``: quarterly single-rate override on the team roll-up
with a gate and a cap).

Terrain: :func:`planner.comp.run_comp` (vectorised numpy/pandas on integer cents) plus
statements: every line of every rep as one CSV, the per-rep summary CSV and one rep's
HTML statement. Baseline in the same run: :func:`planner.comp.reference.reference_payouts`
(a straightforward per-deal pure-Python implementation with exact fractions) on a
50,000-deal sample, timed and extrapolated linearly to 1,000,000 deals; and both are
checked to give identical payouts for a sample of reps on the full million. Each case
runs in its own process so that its peak memory (VmHWM) is its own.
"""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from planner.comp.deals import check_deals
from planner.comp.demo import DEMO_MONTHS, demo_comp_plans
from planner.comp.reference import reference_payouts
from planner.comp.run import run_comp
from planner.comp.statements import statement_html, write_statement_lines, write_summary
from planner.plans.approved import ApprovedPlan
from planner.plans.plan import Plan

N_DEALS = 1_000_000
N_REPS = 500
N_MANAGERS = 50
N_TERRITORIES = 480
UNITS_PER_TERRITORY = 10
N_ACCOUNTS = 100_000
SAMPLE_DEALS = 50_000
SEED = 2026


def _memory_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def synthetic_world(n_deals: int = N_DEALS, *, seed: int = SEED):
    """Deals, account units, approved plans (v1, v2) and reps; deterministic for a seed."""
    rng = np.random.default_rng(seed)
    territories = [f"T{t:03d}" for t in range(N_TERRITORIES)]
    units = [f"U{u:04d}" for u in range(N_TERRITORIES * UNITS_PER_TERRITORY)]
    assignment = pd.Series(np.repeat(territories, UNITS_PER_TERRITORY), index=units)
    rep_ids = [f"R{r:03d}" for r in range(N_REPS)]
    owner = territories + territories[: N_REPS - N_TERRITORIES]  # 20 territories get a second rep
    v1 = Plan(assignment, pd.Series(owner, index=rep_ids), name="v1")
    moved = rng.choice(len(units), size=len(units) // 20, replace=False)
    new = assignment.copy()
    new.iloc[moved] = [
        territories[(territories.index(t) + 1) % N_TERRITORIES] for t in assignment.iloc[moved]
    ]
    v2 = v1.with_assignment(new, name="v2")
    accounts = pd.Series(rng.choice(units, size=N_ACCOUNTS), index=[f"A{a:06d}" for a in range(N_ACCOUNTS)])
    amount = np.round(rng.lognormal(np.log(15_000), 0.8, n_deals) * 100).astype(np.int64)
    close = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 365, n_deals), unit="D")
    cancelled = rng.random(n_deals) < 0.03
    deals = pd.DataFrame(
        {
            "deal_id": np.char.add("D", np.char.zfill(np.arange(n_deals).astype(str), 7)),
            "account_id": rng.choice(accounts.index.to_numpy(), size=n_deals),
            "close_date": close,
            "amount_cents": amount,
            "status": np.where(cancelled, "cancelled", "won"),
            "cancel_date": (close + pd.to_timedelta(rng.integers(0, 150, n_deals), unit="D")).where(
                cancelled
            ),
        }
    )
    monthly = int(amount.sum() * 1.0 / N_TERRITORIES / 12)
    factors = rng.uniform(0.8, 1.2, N_TERRITORIES)
    rows = [(t, m, int(monthly * f)) for t, f in zip(territories, factors, strict=True) for m in DEMO_MONTHS]
    quotas = pd.DataFrame(rows, columns=["territory_id", "period", "quota_cents"])
    approved = [
        ApprovedPlan(1, "FY2026 v1", date(2026, 1, 1), v1, quotas),
        ApprovedPlan(2, "FY2026 v2", date(2026, 7, 15), v2, quotas),
    ]
    managers = [f"M{m:02d}" for m in range(N_MANAGERS)]
    reps = pd.DataFrame(
        {
            "role": ["account_executive"] * N_REPS + ["manager"] * N_MANAGERS,
            "manager_id": [managers[r % N_MANAGERS] for r in range(N_REPS)] + [None] * N_MANAGERS,
        },
        index=pd.Index(rep_ids + managers, name="rep_id"),
    )
    split_at = np.flatnonzero(rng.random(n_deals) < 0.01)
    first = rng.choice(rep_ids, size=len(split_at))
    second = rng.choice(rep_ids, size=len(split_at))
    keep = first != second
    split_at, first, second = split_at[keep], first[keep], second[keep]
    splits = pd.DataFrame(
        {
            "deal_id": np.concatenate([deals["deal_id"].to_numpy()[split_at]] * 2),
            "rep_id": np.concatenate([first, second]),
            "share_micro": np.concatenate([np.full(len(split_at), 600_000), np.full(len(split_at), 400_000)]),
        }
    )
    return deals, accounts, approved, reps, splits


def _terrain_case(queue) -> None:
    deals, accounts, approved, reps, splits = synthetic_world()
    plans = demo_comp_plans()
    before = _memory_mib("VmRSS")
    start = time.perf_counter()
    checked = check_deals(deals)
    checked_s = time.perf_counter() - start
    result = run_comp(checked, accounts, approved, reps, plans, DEMO_MONTHS, splits=splits)
    calculated_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        write_statement_lines(result, Path(tmp) / "lines.csv")
        write_summary(result, Path(tmp) / "summary.csv")
        html = statement_html(result, "R001")
        (Path(tmp) / "R001.html").write_text(html)
        size_mb = (Path(tmp) / "lines.csv").stat().st_size / 1e6
    seconds = time.perf_counter() - start
    queue.put(
        {
            "seconds": seconds,
            "check_s": checked_s,
            "calc_s": calculated_s - checked_s,
            "statements_s": seconds - calculated_s,
            "lines": len(result.lines),
            "lines_mb": size_mb,
            "peak_mib": _memory_mib("VmHWM"),
            "start_mib": before,
            "payouts": result.payouts().to_dict(),
            "total_payout_cents": int(result.summary["payout_cents"].sum()),
        }
    )


def _reference_case(queue, n_deals: int, sample_reps: list[str] | None) -> None:
    deals, accounts, approved, reps, splits = synthetic_world()
    deals = check_deals(deals.iloc[:n_deals])
    splits = splits.loc[splits["deal_id"].isin(deals["deal_id"])]
    before = _memory_mib("VmRSS")
    start = time.perf_counter()
    payouts = reference_payouts(
        deals,
        accounts,
        approved,
        reps,
        demo_comp_plans(),
        DEMO_MONTHS,
        splits=splits,
        only_reps=set(sample_reps) if sample_reps else None,
    )
    queue.put(
        {
            "seconds": time.perf_counter() - start,
            "payouts": payouts,
            "peak_mib": _memory_mib("VmHWM"),
            "start_mib": before,
        }
    )


def _in_process(target, *args) -> dict:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=target, args=(queue, *args))
    process.start()
    result = queue.get()
    process.join()
    return result


def run() -> list[dict]:
    terrain = _in_process(_terrain_case)
    sample_reps = ["R000", "R001", "R137", "R250", "R480", "R499", "M00", "M07"]
    check = _in_process(_reference_case, N_DEALS, sample_reps)
    baseline = _in_process(_reference_case, SAMPLE_DEALS, None)
    mismatches = [k for k, v in check["payouts"].items() if terrain["payouts"].get(k) != v]
    extrapolated = baseline["seconds"] * N_DEALS / SAMPLE_DEALS
    identical = (
        f"payouts identical to the reference for {len(check['payouts'])} rep-months "
        f"({len(sample_reps)} sample reps)"
        if not mismatches
        else f"MISMATCH in {len(mismatches)} rep-months, e.g. {mismatches[:3]}"
    )
    return [
        {
            "task": f"{N_DEALS:,} deals, {N_REPS} reps + {N_MANAGERS} managers, 12 months, to statements",
            "method": "Terrain run_comp (vectorised, int cents) + statements",
            "seconds": terrain["seconds"],
            "deals_per_s": f"{N_DEALS / terrain['seconds']:,.0f}",
            "peak_MiB": f"{terrain['peak_mib']:,.0f} (inputs {terrain['start_mib']:,.0f})",
            "result": (
                f"check {terrain['check_s']:.1f} s, credit+calculate {terrain['calc_s']:.1f} s, "
                f"statements {terrain['statements_s']:.1f} s: {terrain['lines']:,} lines "
                f"({terrain['lines_mb']:.0f} MB CSV), summary CSV, 1 HTML statement; "
                f"total payout ${terrain['total_payout_cents'] / 100:,.2f}"
            ),
        },
        {
            "task": f"same world, first {SAMPLE_DEALS:,} deals, all reps",
            "method": "per-deal Python/Fraction reference (baseline), measured",
            "seconds": baseline["seconds"],
            "deals_per_s": f"{SAMPLE_DEALS / baseline['seconds']:,.0f}",
            "peak_MiB": f"{baseline['peak_mib']:,.0f} (inputs {baseline['start_mib']:,.0f})",
            "result": f"extrapolated to {N_DEALS:,} deals: {extrapolated:,.0f} s (payouts only)",
        },
        {
            "task": f"{N_DEALS:,} deals, {len(sample_reps)} sample reps",
            "method": "per-deal reference vs Terrain",
            "seconds": check["seconds"],
            "deals_per_s": "",
            "peak_MiB": f"{check['peak_mib']:,.0f}",
            "result": identical,
        },
    ]
