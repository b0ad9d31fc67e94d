"""Quota lines at size: 5 lines x 500 territories x 12 months, drafted, saved and read back.

Instance (seeded): 5,000 Voronoi units in 500 territories (nearest seed), one rep each;
20,000 accounts; 36 months of bookings (about 300,000 rows), each tagged with one of four
lines (new business, renewal, expansion, services). Five quota lines: the four USD lines,
each learning from its own bookings, and ``new_logos``, a count of new-business deals with
potential from accounts. Forecast: trailing 12 months + 10% per line (the model forecaster
is timed in ``bench_forecast``).

Rows (same run):

- **5 separate allocations** (baseline: what the time was before lines existed): the
  allocation core alone, :func:`allocate_quotas` + monthly :func:`phase_quotas`, five times;
- **draft 5 lines**: :func:`planner.quota.versions.draft_lines`: each line's bookings,
  territory inputs, fair-by-construction allocation, attainment total, whole units for the
  count line, seasonality and monthly phasing;
- **save to SQLite** and **read back**: the version with its 5 x 500 x 12 quota rows in a
  fresh store, and the whole version loaded again.

Goal (issue 19): allocating 5 lines x 500 territories x 12 months takes under 5 s.
"""

from __future__ import annotations

import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from benchmarks.instances import voronoi_units
from planner.data.dataset import Dataset
from planner.plans.plan import Plan
from planner.plans.quota_lines import QuotaLine
from planner.quota.allocation import QuotaOptions, allocate_quotas
from planner.quota.phasing import phase_quotas
from planner.quota.versions import QuotaRequest, draft_lines
from planner.store import PlanStore
from planner.store.drafts import line_contents

TERRITORIES = 500
UNITS = 5_000
ACCOUNTS = 20_000
LINE_SHARES = {"new_business": 0.15, "renewal": 0.6, "expansion": 0.2, "services": 0.05}


def lines_dataset(seed: int = 7) -> Dataset:
    """The instance of the module doc."""
    rng = np.random.default_rng(seed)
    units = voronoi_units(UNITS, seed=seed)
    centres = shapely.centroid(units.geometry.to_numpy())
    xy = np.column_stack([shapely.get_x(centres), shapely.get_y(centres)])
    nearest = cKDTree(xy[rng.choice(UNITS, TERRITORIES, replace=False)]).query(xy)[1]
    territory_ids = np.array([f"T{i:03d}" for i in range(TERRITORIES)])
    rep_ids = pd.Index([f"R{i:03d}" for i in range(TERRITORIES)], name="rep_id")
    reps = pd.DataFrame(
        {
            "name": [f"Rep {i}" for i in range(TERRITORIES)],
            "role": "account_executive",
            "manager_id": [f"M{i // 10:02d}" for i in range(TERRITORIES)],
            "hire_date": pd.Timestamp("2020-01-01"),
            "status": "ramped",
        },
        index=rep_ids,
    )
    plan = Plan(pd.Series(territory_ids[nearest], index=units.index), pd.Series(territory_ids, index=rep_ids))
    unit_of = units.index.to_numpy()[rng.integers(0, UNITS, ACCOUNTS)]
    account_ids = np.array([f"A{i:06d}" for i in range(ACCOUNTS)])
    accounts = pd.DataFrame(
        {"name": account_ids, "unit_id": unit_of}, index=pd.Index(account_ids, name="account_id")
    )
    months = pd.date_range("2023-11-01", periods=36, freq="MS")
    rate = units["tam_usd"].reindex(unit_of).to_numpy() / units["tam_usd"].mean() * 0.4
    counts = rng.poisson(np.outer(rate, np.ones(len(months))))
    account, month = np.nonzero(counts)
    account, month = np.repeat(account, counts[account, month]), np.repeat(month, counts[account, month])
    names, shares = list(LINE_SHARES), np.array(list(LINE_SHARES.values()))
    bookings = pd.DataFrame(
        {
            "account_id": account_ids[account],
            "date": months[month] + pd.to_timedelta(rng.integers(0, 28, len(month)), unit="D"),
            "amount_usd": rng.lognormal(9, 0.8, len(month)).round(2),
            "line": np.array(names)[rng.choice(len(names), len(month), p=shares)],
            "unit_id": unit_of[account],
        }
    )
    return Dataset(units, accounts, reps, bookings, plan)


def requests(dataset: Dataset) -> list[QuotaRequest]:
    """Five lines: the four USD lines at their trailing year + 10%, and new logos (deals)."""
    trailing = dataset.bookings[dataset.bookings["date"] >= "2025-11-01"]
    by_line = trailing.groupby("line")["amount_usd"].sum()
    common = {"fiscal_year_start": "2027-01", "forecast_method": "growth"}
    out = [
        QuotaRequest(target_cents=round(by_line[name] * 1.1) * 100, line=QuotaLine(name), **common)
        for name in LINE_SHARES
    ]
    logos = int((trailing["line"] == "new_business").sum() * 1.05)
    line = QuotaLine("new_logos", unit="deals", potential="accounts", source="new_business")
    return [*out, QuotaRequest(target_cents=logos * 100, line=line, **common)]


def baseline_seconds(drafts) -> float:
    """The allocation core alone, once per line, on the same territory inputs."""
    flat = pd.Series(1.0, index=range(1, 13))
    start = time.perf_counter()
    for draft in drafts:
        allocation = allocate_quotas(draft.allocation.target_cents, draft.territories, QuotaOptions())
        phase_quotas(allocation.quotas_cents, flat, "month", "2027-01")
    return time.perf_counter() - start


def run() -> list[dict]:
    dataset = lines_dataset()
    asked = requests(dataset)
    draft_lines(dataset, dataset.plan, asked[:1])  # warm imports and caches
    start = time.perf_counter()
    drafts = draft_lines(dataset, dataset.plan, asked)
    draft_s = time.perf_counter() - start
    rows_n = sum(len(d.quotas) for d in drafts)
    with tempfile.TemporaryDirectory() as folder:
        store = PlanStore(f"sqlite:///{Path(folder) / 'bench.db'}")
        store.add_user(None, "ops", "Ops", "admin")
        reps = dataset.reps[["name", "manager_id"]]
        contents = [line_contents(d, r) for d, r in zip(drafts, asked, strict=True)]
        start = time.perf_counter()
        info = store.create_version(
            "ops",
            name="FY2027 lines",
            plan=dataset.plan,
            reps=reps,
            lines=contents,
            effective_from=date(2027, 1, 1),
        )
        save_s = time.perf_counter() - start
        start = time.perf_counter()
        version = store.version(info.version_id)
        read_s = time.perf_counter() - start
        store.close()
    totals = all(d.quotas["quota_cents"].sum() == d.allocation.total_cents for d in drafts)
    whole = (version.line("new_logos").quotas["quota_cents"] % 100 == 0).all()
    fair = [d.allocation.fit.met for d in drafts if d.allocation.fit is not None]
    note = (
        f"{rows_n:,} quota rows; totals exact: {totals}; whole deals: {whole}; fair: {sum(fair)}/{len(fair)}"
    )
    return [
        {
            "step": "5 separate allocations (baseline: allocation core only)",
            "seconds": baseline_seconds(drafts),
            "result": "",
        },
        {
            "step": "draft 5 lines (terrain: inputs, fair fit, attainment, phasing)",
            "seconds": draft_s,
            "result": note,
        },
        {"step": "save the version to SQLite", "seconds": save_s, "result": f"v{info.version_id}"},
        {"step": "read the version back", "seconds": read_s, "result": f"{len(version.lines)} lines"},
    ]
