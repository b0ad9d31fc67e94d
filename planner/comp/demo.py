"""Demo inputs for the comp calculator: deals from the demo bookings, approved plans, comp plans.

- Deals: every 2026 row of ``data/demo/bookings.parquet`` becomes a deal (``D`` + row
  number) with its date and amount; a seeded 3 % are cancelled 5-150 days later.
- Approved plans (for tests and the benchmark; the app reads the plan store): the demo's
  current plan from 2026-01-01 and the store demo's realignment taking effect mid-month on
  2026-07-15 (:func:`planner.store.demo.demo_realignment`), each with monthly quotas: the
  territory's 2025 bookings times 1.1, spread evenly over the 12 months (largest
  remainder cents): a fixed stand-in so the tests do not depend on the quota allocator.
- Comp plans: ``data/comp/account_executive.yaml`` and ``data/comp/manager.toml``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from planner import money
from planner.comp.plan_file import CompPlan, load_comp_plan
from planner.data.dataset import Dataset
from planner.plans.approved import ApprovedPlan
from planner.store.demo import REALIGNMENT_DATE, demo_realignment

COMP_DIR = Path(__file__).resolve().parents[2] / "data" / "comp"
DEMO_PLAN_FILES = ("account_executive.yaml", "manager.toml")
DEMO_YEAR = 2026
DEMO_MONTHS = tuple(f"{DEMO_YEAR}-{m:02d}" for m in range(1, 13))
CANCEL_SHARE = 0.03


def usd_to_cents(values: pd.Series) -> np.ndarray:
    """Dollar amounts to whole cents exactly (via their decimal text, half up)."""
    return np.array([money.usd_to_cents(float(v)) for v in values], dtype=np.int64)


def demo_deals(dataset: Dataset, *, seed: int = 7) -> pd.DataFrame:
    """Deals for the demo year from the data set's bookings (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    bookings = dataset.bookings
    rows = bookings.loc[bookings["date"].dt.year == DEMO_YEAR].reset_index(drop=True)
    cancelled = rng.random(len(rows)) < CANCEL_SHARE
    delay = pd.to_timedelta(rng.integers(5, 151, len(rows)), unit="D")
    deals = pd.DataFrame(
        {
            "deal_id": [f"D{i:07d}" for i in range(len(rows))],
            "account_id": rows["account_id"].astype(str).to_numpy(),
            "close_date": rows["date"].astype("datetime64[ns]").to_numpy(),
            "amount_cents": usd_to_cents(rows["amount_usd"]),
            "status": np.where(cancelled, "cancelled", "won"),
        }
    )
    deals["cancel_date"] = (deals["close_date"] + delay).where(cancelled)
    return deals


def _quotas(dataset: Dataset, assignment: pd.Series) -> pd.DataFrame:
    bookings = dataset.bookings
    last_year = bookings.loc[bookings["date"].dt.year == DEMO_YEAR - 1]
    units = last_year["account_id"].map(dataset.accounts["unit_id"])
    by_territory = (
        pd.Series(usd_to_cents(last_year["amount_usd"])).groupby(units.map(assignment).to_numpy()).sum()
    )
    annual = (by_territory.reindex(sorted(set(assignment)), fill_value=0) * 11 // 10).astype(np.int64)
    rows = []
    for territory, cents in annual.items():
        base, extra = divmod(int(cents), 12)
        rows += [(territory, month, base + (i < extra)) for i, month in enumerate(DEMO_MONTHS)]
    return pd.DataFrame(rows, columns=["territory_id", "period", "quota_cents"])


def demo_approved_plans(dataset: Dataset) -> list[ApprovedPlan]:
    """Two approved plans: the current plan from January and a mid-July realignment."""
    plan = dataset.plan
    first = ApprovedPlan(
        1, f"FY{DEMO_YEAR} v1", date(DEMO_YEAR, 1, 1), plan, _quotas(dataset, plan.assignment)
    )
    moved = demo_realignment(plan)
    second = ApprovedPlan(2, f"FY{DEMO_YEAR} v2", REALIGNMENT_DATE, moved, _quotas(dataset, moved.assignment))
    return [first, second]


def demo_comp_plans() -> list[CompPlan]:
    """The shipped comp plans (account executives, managers)."""
    return [load_comp_plan(COMP_DIR / name) for name in DEMO_PLAN_FILES]
