"""Quotas fair by construction: the default allocation against the plain blend, and finance's attainment goal.

Instances (same run):

- **demo**: the FY2027 allocation of the demo (50 territories, forecast = trailing 12
  months + 10%, a $731M target as in the README), no last year's quotas;
- **wide, big better penetrated**: 500 generated territories, potential lognormal
  (sigma 1.0), forecast / potential rising with size (``potential^0.15``) times noise;
- **narrow, small better penetrated**: 500 territories, potential lognormal (sigma
  0.4), forecast / potential falling with size (``potential^-0.25``);
- **heavy tail**: 500 territories, potential Pareto (shape 1.5), penetration flat.

Methods: **plain blend** (the allocation as it was: 50% potential / 50% forecast shares,
``fairness=None``) and **terrain** (the default: blend weight and size tilt fitted to the
targets, :mod:`planner.quota.fair`). Then, with finance's goal of 65% of territories at or
above quota and the total set to meet it (``basis_frac=1``), the share expected at or
above (lognormal forecast uncertainty, CV 0.2). Goals (issue 19): Spearman(quota,
potential) >= 0.8, Gini(quota/potential) <= 0.10, |Spearman(attainment, potential)| <=
0.2; the share within 5 points of the goal. Quota lines at size: ``bench_quota_lines``.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from planner.data.demo import load_demo
from planner.quota.allocation import QuotaOptions, allocate_quotas, quota_bounds
from planner.quota.attainment import attainment_plan
from planner.quota.fairness import HealthyRanges, fairness_report
from planner.quota.inputs import quota_territories
from planner.quota.versions import history_before

GOAL = 0.65
CV = 0.2


def generated(potential: np.ndarray, slope: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    size = np.log(potential / np.median(potential))
    forecast = 0.1 * potential * np.exp(slope * size) * rng.lognormal(0, 0.2, len(potential))
    index = pd.Index([f"T{k:04d}" for k in range(len(potential))], name="territory_id")
    return pd.DataFrame({"potential_usd": potential, "forecast_usd": forecast}, index=index)


def instances() -> dict[str, tuple[pd.DataFrame, int]]:
    demo = load_demo()
    table = quota_territories(history_before(demo, "2027-01"), demo.plan, fiscal_year_start="2027-01")
    rng = np.random.default_rng(19)
    books = {
        "wide, big better penetrated (500)": generated(rng.lognormal(15, 1.0, 500), 0.15, 1),
        "narrow, small better penetrated (500)": generated(rng.lognormal(15, 0.4, 500), -0.25, 2),
        "heavy tail (Pareto 1.5, 500)": generated(1e6 * (1 + rng.pareto(1.5, 500)), 0.0, 3),
    }
    out = {
        "demo (50)": (table[["potential_usd", "forecast_usd", "ramp_frac", "relief_frac"]], 731_000_000_00)
    }
    for name, book in books.items():
        out[name] = (book, round(book["forecast_usd"].sum() * 100))
    return out


def row(name: str, method: str, table: pd.DataFrame, target: int, options: QuotaOptions) -> dict:
    start = time.perf_counter()
    allocation = allocate_quotas(target, table, options)
    seconds = time.perf_counter() - start
    report = fairness_report(allocation.quotas_cents, table["potential_usd"], table["forecast_usd"])
    ranges = HealthyRanges()
    met = (
        report.quota_potential_spearman >= ranges.quota_potential_spearman_min
        and report.quota_per_potential_gini <= ranges.quota_per_potential_gini_max
        and abs(report.attainment_size_spearman) <= ranges.attainment_size_spearman_max
    )
    low, high = quota_bounds(table, options)
    goal = attainment_plan(
        allocation.quotas_cents.to_numpy(dtype=float),
        low,
        high,
        table["forecast_usd"].to_numpy(),
        allocation.total_cents,
        goal_frac=GOAL,
        basis_frac=1.0,
        forecast_cv_frac=CV,
    )
    at_goal = allocate_quotas(target, table, options, total_cents=goal.chosen_total_cents)
    share = fairness_report(
        at_goal.quotas_cents, table["potential_usd"], table["forecast_usd"], forecast_cv_frac=CV
    ).at_or_above_quota_frac
    fit = allocation.fit
    return {
        "instance": name,
        "method": method,
        "Spearman(quota, potential)": f"{report.quota_potential_spearman:.3f}",
        "Gini(quota/potential)": f"{report.quota_per_potential_gini:.4f}",
        "Spearman(attainment, potential)": f"{report.attainment_size_spearman:+.3f}",
        "all three met": "yes" if met else "no",
        "fitted (weight, tilt)": f"{fit.potential_weight_frac:.2f}, {fit.size_tilt:+.3f}" if fit else "",
        "at or above at target total": f"{goal.share_at_target_frac:.1%}",
        "total for 65% vs target": f"{100 * goal.gap_cents / allocation.total_cents:+.1f}%",
        "at or above at that total": f"{share:.1%}",
        "seconds": seconds,
    }


def run() -> list[dict]:
    rows = []
    for name, (table, target) in instances().items():
        rows.append(row(name, "plain blend", table, target, QuotaOptions(fairness=None)))
        rows.append(row(name, "terrain (default)", table, target, QuotaOptions()))
    return rows
