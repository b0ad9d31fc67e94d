"""Quota benchmark: Terrain's quotas against two common practices, judged by next year's bookings.

Instances:

- **demo, backtest** (50 territories): quotas are set as of the end of October 2025
  from the data before it (trailing 12 months of bookings, Nov 2024 - Oct 2025, grown
  by 10% as the forecast; last year's quota taken as the 12 months before that grown
  by 10%) and judged against the bookings that actually followed (Nov 2025 - Oct 2026).
  The company target is the forecast total. The demo's synthetic bookings do not model
  ramp, so this backtest sets no ramp or relief.
- **synthetic 5,000 territories** (seeded): potential lognormal; a territory's bookings
  are potential x a penetration rate that falls with size (``potential^-0.2``: large
  territories are under-penetrated) x rep skill (lognormal, sigma 0.3) x yearly noise
  (sigma 0.15); 10% growth a year. 5% of territories ramp (half a year's productivity)
  and 3% have a quarter of the year uncovered; their bookings are reduced to match.

Methods (same totals, same instance, same run):

- **terrain**: :func:`planner.quota.allocation.allocate_quotas`, 50% potential / 50% forecast (and
  30% / 70%), +/-25% guardrail on last year's quota, ramp and relief redistributed;
- **last year + uniform growth** (baseline, the common practice): last year's quota
  scaled so the total meets the target;
- **pure TAM share** (baseline): quota in proportion to potential.

Each row times allocation + monthly phasing + fairness report, and reports the fairness
metrics against actual bookings (:func:`planner.quota.fairness.fairness_report`); the change
against last year's quota is over fully staffed territories (no ramp, no relief). The last
rows backtest the seasonality used for phasing on the demo: estimated from Nov 2023 -
Oct 2025, scored on each territory's monthly bookings of Nov 2025 - Oct 2026 (mean
absolute error of the monthly share, percentage points), against flat phasing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from planner.data.demo import load_demo
from planner.money import split_cents
from planner.quota.allocation import QuotaOptions, allocate_quotas
from planner.quota.fairness import fairness_report
from planner.quota.inputs import territory_bookings_usd
from planner.quota.phasing import MONTHS, phase_quotas, seasonality_from_history

TERRAIN = QuotaOptions(potential_weight_frac=0.5, forecast_weight_frac=0.5, guardrail_frac=0.25)
SYNTHETIC_TERRITORIES = 5_000
GROWTH_FRAC = 0.10


def last_year_uniform_growth(target_cents: int, territories: pd.DataFrame) -> pd.Series:
    """Baseline: last year's quota times one growth factor, rounded to the target exactly."""
    cents = split_cents(target_cents, territories["last_quota_cents"].to_numpy(dtype=np.float64))
    return pd.Series(cents, index=territories.index)


def pure_tam_share(target_cents: int, territories: pd.DataFrame) -> pd.Series:
    """Baseline: quota in proportion to potential (TAM)."""
    options = QuotaOptions(potential_weight_frac=1.0, forecast_weight_frac=0.0, guardrail_frac=None)
    return allocate_quotas(target_cents, territories[["potential_usd", "forecast_usd"]], options).quotas_cents


def terrain(options: QuotaOptions) -> Callable[[int, pd.DataFrame], pd.Series]:
    return lambda target_cents, territories: allocate_quotas(target_cents, territories, options).quotas_cents


METHODS: dict[str, Callable[[int, pd.DataFrame], pd.Series]] = {
    "terrain (50% TAM / 50% forecast, +/-25% guardrail)": terrain(TERRAIN),
    "terrain (30% TAM / 70% forecast, +/-25% guardrail)": terrain(
        QuotaOptions(potential_weight_frac=0.3, forecast_weight_frac=0.7, guardrail_frac=0.25)
    ),
    "last year + uniform growth (baseline)": last_year_uniform_growth,
    "pure TAM share (baseline)": pure_tam_share,
}


def demo_backtest() -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Territories as of Oct 2025, actual bookings after it, and company seasonality before it."""
    demo = load_demo()
    history = territory_bookings_usd(demo, months=12, skip_months=12)
    before = territory_bookings_usd(demo, months=12, skip_months=24)
    actual = territory_bookings_usd(demo, months=12, skip_months=0)
    potential = demo.units["tam_usd"].groupby(demo.plan.assignment.reindex(demo.units.index)).sum()
    territories = pd.DataFrame(
        {
            "potential_usd": potential.reindex(history.index),
            "forecast_usd": history * (1 + GROWTH_FRAC),
            "last_quota_cents": (before * (1 + GROWTH_FRAC) * 100).round(),
            "ramp_frac": 1.0,
            "relief_frac": 0.0,
        }
    )
    cutoff = demo.bookings["date"].max() - pd.DateOffset(months=12)
    seasonality = seasonality_from_history(demo.bookings[demo.bookings["date"] <= cutoff])
    return territories, actual, seasonality


def synthetic(n: int, seed: int = 7) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Seeded territories with size-dependent penetration, rep skill, ramp and relief (module doc)."""
    rng = np.random.default_rng(seed)
    potential = rng.lognormal(np.log(3e8), 0.8, n)
    rate = 0.04 * (potential / 3e8) ** -0.2 * rng.lognormal(0.0, 0.3, n)
    last_year = potential * rate * rng.lognormal(0.0, 0.15, n)
    this_year = potential * rate * (1 + GROWTH_FRAC) * rng.lognormal(0.0, 0.15, n)
    ramp = np.where(rng.random(n) < 0.05, 0.5, 1.0)
    relief = np.where(rng.random(n) < 0.03, 0.25, 0.0)
    next_year = potential * rate * (1 + GROWTH_FRAC) ** 2 * rng.lognormal(0.0, 0.15, n) * ramp * (1 - relief)
    ids = pd.Index([f"S{k:05d}" for k in range(n)], name="territory_id")
    territories = pd.DataFrame(
        {
            "potential_usd": potential,
            "forecast_usd": this_year * (1 + GROWTH_FRAC),
            "last_quota_cents": np.round(last_year * (1 + GROWTH_FRAC) * 100),
            "ramp_frac": ramp,
            "relief_frac": relief,
        },
        index=ids,
    )
    return territories, pd.Series(next_year, index=ids), pd.Series(1 / 12, index=MONTHS)


def fairness_rows(
    name: str, territories: pd.DataFrame, actual: pd.Series, seasonality: pd.Series
) -> list[dict]:
    target = round(territories["forecast_usd"].sum() * 100)
    rows = []
    for method, allocate in METHODS.items():
        start = time.perf_counter()
        quotas = allocate(target, territories)
        phased = phase_quotas(quotas, seasonality, "month", "2027-01")
        report = fairness_report(quotas, territories["potential_usd"], actual)
        seconds = time.perf_counter() - start
        staffed = (territories["ramp_frac"] == 1) & (territories["relief_frac"] == 0)
        change = (quotas / territories["last_quota_cents"] - 1)[staffed]
        rows.append(
            {
                "instance": name,
                "method": method,
                "seconds": seconds,
                "sum exact": "yes"
                if int(quotas.sum()) == target == int(phased["quota_cents"].sum())
                else "NO",
                "quota~TAM rho": report.quota_potential_spearman,
                "Gini quota/TAM": report.quota_per_potential_gini,
                "at/above 100%": report.at_or_above_quota_frac,
                "above 50%": report.above_threshold_frac,
                "attainment~size rho": report.attainment_size_spearman,
                "company attainment": float(actual.sum() * 100 / quotas.sum()),
                "attainment IQR": float(np.subtract(*report.table["attainment_frac"].quantile([0.75, 0.25]))),
                "max abs change vs last year (staffed)": float(change.abs().max()),
                "healthy checks": f"{sum(c.met for c in report.verdict)}/{len(report.verdict)}",
                "phasing error pp": None,
            }
        )
    return rows


def monthly_shares(bookings: pd.DataFrame) -> pd.DataFrame:
    """Each territory's share of its year's bookings by calendar month."""
    totals = bookings.pivot_table(
        index="territory_id",
        columns=bookings["date"].dt.month,
        values="amount_usd",
        aggfunc="sum",
        fill_value=0.0,
    ).reindex(columns=MONTHS, fill_value=0.0)
    return totals.div(totals.sum(axis=1), axis=0)


def seasonality_rows() -> list[dict]:
    demo = load_demo()
    bookings = demo.bookings.assign(territory_id=demo.bookings["unit_id"].map(demo.plan.assignment))
    cutoff = bookings["date"].max() - pd.DateOffset(months=12)
    train, test = bookings[bookings["date"] <= cutoff], bookings[bookings["date"] > cutoff]
    truth = monthly_shares(test)
    company = seasonality_from_history(train)
    candidates = {
        "flat 1/12 (baseline)": lambda: pd.Series(1 / 12, index=MONTHS),
        "company-wide, no shrinkage": lambda: seasonality_from_history(train, shrinkage_years=0.0),
        "company-wide, estimated shrinkage toward flat (default)": lambda: seasonality_from_history(train),
        "per territory, no shrinkage": lambda: seasonality_from_history(
            train, by="territory_id", shrinkage_years=0.0
        ),
        "per territory, shrunk 1 year toward company": lambda: seasonality_from_history(
            train, by="territory_id", prior=company, shrinkage_years=1.0
        ),
        "per territory, shrunk 3 years toward company": lambda: seasonality_from_history(
            train, by="territory_id", prior=company, shrinkage_years=3.0
        ),
        "per territory, estimated shrinkage toward company (default)": lambda: seasonality_from_history(
            train, by="territory_id", prior=company
        ),
    }
    rows = []
    for method, estimate in candidates.items():
        start = time.perf_counter()
        weights = estimate()
        seconds = time.perf_counter() - start
        predicted = (
            weights.reindex(truth.index)
            if isinstance(weights, pd.DataFrame)
            else pd.DataFrame([weights.to_numpy()] * len(truth), index=truth.index, columns=MONTHS)
        )
        error_pp = float((predicted - truth).abs().to_numpy().mean() * 100)
        rows.append(
            {
                "instance": "demo seasonality backtest (50 territories, 12 months)",
                "method": method,
                "seconds": seconds,
                **dict.fromkeys(
                    [
                        "sum exact",
                        "quota~TAM rho",
                        "Gini quota/TAM",
                        "at/above 100%",
                        "above 50%",
                        "attainment~size rho",
                        "company attainment",
                        "attainment IQR",
                        "max abs change vs last year (staffed)",
                        "healthy checks",
                    ]
                ),
                "phasing error pp": error_pp,
            }
        )
    return rows


def run() -> list[dict]:
    rows = fairness_rows("demo backtest (50 territories)", *demo_backtest())
    rows += fairness_rows(
        f"synthetic {SYNTHETIC_TERRITORIES:,} territories", *synthetic(SYNTHETIC_TERRITORIES)
    )
    rows += seasonality_rows()
    return rows
