"""Demo inputs for the comp calculator: deals from the demo bookings, approved plans, comp plans.

- Deals: every 2026 row of ``data/demo/bookings.parquet`` becomes a deal (``D`` + row
  number) with its date and amount; a seeded 3 % are cancelled 5-150 days later.
- Approved plans: the store demo's two published FY2026 versions, allocated the same
  way (:func:`planner.store.demo.demo_fy2026_versions`): the current plan from
  2026-01-01 and the realignment taking effect mid-month on 2026-07-15, quotas from 2025
  bookings + 10%, phased by seasonality. ``planner comp --demo`` and ``planner comp --demo
  --db <seeded store>`` therefore pay the same.
- Comp plans: ``data/comp/account_executive.yaml`` and ``data/comp/manager.toml``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from planner import money
from planner.comp.plan_file import CompPlan, load_comp_plan
from planner.data.dataset import Dataset
from planner.plans.approved import ApprovedPlan
from planner.quota.versions import draft_quotas
from planner.store.demo import demo_fy2026_versions

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


def demo_approved_plans(dataset: Dataset) -> list[ApprovedPlan]:
    """The store demo's two published FY2026 versions, allocated the same way (same quotas, same pay).

    The current plan from January and the mid-July realignment
    (:func:`planner.store.demo.demo_fy2026_versions`).
    """
    return [
        ApprovedPlan(number, name, effective_from, plan, draft_quotas(dataset, plan, request).quotas)
        for number, (name, effective_from, plan, request) in enumerate(demo_fy2026_versions(dataset), start=1)
    ]


def demo_comp_plans() -> list[CompPlan]:
    """The shipped comp plans (account executives, managers)."""
    return [load_comp_plan(COMP_DIR / name) for name in DEMO_PLAN_FILES]
