"""Comp at scale: 1M, 5M and 25M deals for 20,000 reps over 12 months, out of core on 2 cores.

The world (seeded, the same organisation at every size): 17,800 account executives in
17,500 territories (300 territories have two reps) of 10 units each, 2,000,000 accounts,
1,780 managers and 178 directors above them (two levels of roll-up), a realignment on
2026-07-15 moving 5 % of the units, monthly quotas near each territory's expected
bookings, 3 % of deals cancelled, 1 % split between two reps, the shipped comp plans
(directors are paid on the manager plan). Deals are generated in chunks of 1,000,000 to
one Parquet file; every chunk has its own seed, so a size is a prefix of the next.

Terrain: ``run_comp_out_of_core`` with the default engine (a local Dask cluster of 2
single-threaded workers): DuckDB checks and credits the deals file, each partition of
about 500,000 credit rows is paid by a worker, lines go to Parquet per partition.
Baseline in the same run: the in-memory ``run_comp`` (read the file, check, credit,
calculate, write the same outputs) at 1M and 5M deals; 25M would need about 40 GiB.
Both paths' summaries and lines are hashed row by row (in order) and compared. Each case
runs in its own process; peak memory is the largest sum of the resident memory of that
process and its children (Dask's workers), sampled every 0.1 s.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from planner.comp.demo import DEMO_MONTHS, demo_comp_plans
from planner.plans.approved import ApprovedPlan
from planner.plans.plan import Plan

SIZES = (1_000_000, 5_000_000, 25_000_000)
IN_MEMORY_SIZES = (1_000_000, 5_000_000)
CHUNK = 1_000_000
N_TERRITORIES = 17_500
N_AES = 17_800
N_MANAGERS = 1_780
N_DIRECTORS = 178
UNITS_PER_TERRITORY = 10
N_ACCOUNTS = 2_000_000
SEED = 2027
MEAN_DEAL_USD = 15_000


def organisation(n_deals: int) -> tuple[pd.Series, list[ApprovedPlan], pd.DataFrame]:
    """Account units, the approved plans (v1, v2; quotas near the bookings of ``n_deals``) and the reps."""
    rng = np.random.default_rng(SEED)
    territories = np.char.add("T", np.char.zfill(np.arange(N_TERRITORIES).astype(str), 5))
    units = np.char.add("U", np.char.zfill(np.arange(N_TERRITORIES * UNITS_PER_TERRITORY).astype(str), 6))
    assignment = pd.Series(np.repeat(territories, UNITS_PER_TERRITORY), index=units)
    aes = np.char.add("R", np.char.zfill(np.arange(N_AES).astype(str), 5))
    owner = np.concatenate([territories, territories[: N_AES - N_TERRITORIES]])
    v1 = Plan(assignment, pd.Series(owner, index=aes), name="v1")
    moved = rng.choice(len(units), size=len(units) // 20, replace=False)
    new = assignment.to_numpy().copy()
    position = np.searchsorted(territories, new[moved])
    new[moved] = territories[(position + 1) % N_TERRITORIES]
    v2 = v1.with_assignment(pd.Series(new, index=units), name="v2")
    accounts = pd.Series(
        rng.choice(units, size=N_ACCOUNTS),
        index=np.char.add("A", np.char.zfill(np.arange(N_ACCOUNTS).astype(str), 7)),
    )
    deals_per_territory_month = n_deals / N_TERRITORIES / 12
    monthly = int(deals_per_territory_month * MEAN_DEAL_USD * 100 * np.exp(0.8**2 / 2))
    factors = rng.uniform(0.8, 1.2, N_TERRITORIES)
    quotas = pd.DataFrame(
        {
            "territory_id": np.repeat(territories, 12),
            "period": np.tile(list(DEMO_MONTHS), N_TERRITORIES),
            "quota_cents": np.repeat((monthly * factors).astype(np.int64), 12),
        }
    )
    approved = [
        ApprovedPlan(1, "FY2026 v1", date(2026, 1, 1), v1, quotas),
        ApprovedPlan(2, "FY2026 v2", date(2026, 7, 15), v2, quotas),
    ]
    managers = np.char.add("M", np.char.zfill(np.arange(N_MANAGERS).astype(str), 4))
    directors = np.char.add("V", np.char.zfill(np.arange(N_DIRECTORS).astype(str), 3))
    reps = pd.DataFrame(
        {
            "role": ["account_executive"] * N_AES + ["manager"] * (N_MANAGERS + N_DIRECTORS),
            "manager_id": list(managers[np.arange(N_AES) % N_MANAGERS])
            + list(directors[np.arange(N_MANAGERS) % N_DIRECTORS])
            + [None] * N_DIRECTORS,
        },
        index=pd.Index(np.concatenate([aes, managers, directors]), name="rep_id"),
    )
    return accounts, approved, reps


def deal_chunk(index: int, accounts: np.ndarray, reps: np.ndarray) -> tuple[pa.Table, pd.DataFrame]:
    """Deals ``index * CHUNK`` to ``(index + 1) * CHUNK - 1`` and their split rows (own seed)."""
    rng = np.random.default_rng([SEED, index])
    n = CHUNK
    ids = np.char.add("D", np.char.zfill(np.arange(index * n, (index + 1) * n).astype(str), 9))
    close = np.datetime64("2026-01-01") + rng.integers(0, 365, n).astype("timedelta64[D]")
    cancelled = rng.random(n) < 0.03
    cancel = close + rng.integers(0, 150, n).astype("timedelta64[D]")
    table = pa.table(
        {
            "deal_id": ids,
            "account_id": accounts[rng.integers(0, len(accounts), n)],
            "close_date": pa.array(close.astype("datetime64[ms]")).cast(pa.date32()),
            "amount_cents": np.round(rng.lognormal(np.log(MEAN_DEAL_USD), 0.8, n) * 100).astype(np.int64),
            "status": np.where(cancelled, "cancelled", "won"),
            "cancel_date": pa.array(cancel.astype("datetime64[ms]"), mask=~cancelled).cast(pa.date32()),
        }
    )
    split_at = np.flatnonzero(rng.random(n) < 0.01)
    first, second = (
        reps[rng.integers(0, len(reps), len(split_at))],
        reps[rng.integers(0, len(reps), len(split_at))],
    )
    keep = first != second
    split_at, first, second = split_at[keep], first[keep], second[keep]
    splits = pd.DataFrame(
        {
            "deal_id": np.concatenate([ids[split_at]] * 2),
            "rep_id": np.concatenate([first, second]),
            "share": ["0.6"] * len(split_at) + ["0.4"] * len(split_at),
        }
    )
    return table, splits


def generate(folder: Path, n_deals: int) -> tuple[Path, Path]:
    """Write ``deals.parquet`` and ``splits.parquet`` of ``n_deals`` deals to ``folder``."""
    accounts, _, reps = organisation(n_deals)
    aes = reps.index[reps["role"] == "account_executive"].to_numpy(dtype=str)
    deals_path, splits_path = folder / "deals.parquet", folder / "splits.parquet"
    split_frames = []
    with pq.ParquetWriter(deals_path, deal_chunk(0, accounts.index.to_numpy(str), aes)[0].schema) as writer:
        for index in range(n_deals // CHUNK):
            table, splits = deal_chunk(index, accounts.index.to_numpy(str), aes)
            writer.write_table(table, row_group_size=CHUNK // 4)
            split_frames.append(splits)
    pd.concat(split_frames, ignore_index=True).to_parquet(splits_path)
    return deals_path, splits_path


def _row_hash(frames) -> tuple[int, int]:
    """An order-sensitive hash of the rows of successive frames, and their count."""
    total, count = np.uint64(0), 0
    with np.errstate(over="ignore"):
        for frame in frames:
            hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy(np.uint64)
            weights = np.arange(count + 1, count + len(hashed) + 1, dtype=np.uint64)
            total = np.uint64(total + np.sum(hashed * weights, dtype=np.uint64))
            count += len(hashed)
    return int(total), count


def _case(kind: str, n_deals: int, folder: Path, out: Path) -> dict:
    """One measured run (in this process): ``memory`` or ``cluster``."""
    from planner.comp.deals import check_deals, check_splits, read_table
    from planner.comp.run import run_comp
    from planner.comp.scale import run_comp_out_of_core
    from planner.comp.statements import statement_lines_table, summary_table, write_summary

    accounts, approved, reps = organisation(n_deals)
    plans = demo_comp_plans()
    start = time.perf_counter()
    if kind == "memory":
        deals = check_deals(read_table(folder / "deals.parquet"), known_accounts=accounts.index)
        splits = check_splits(pd.read_parquet(folder / "splits.parquet"), deals, known_reps=reps.index)
        result = run_comp(deals, accounts, approved, reps, plans, DEMO_MONTHS, splits=splits)
        summary = summary_table(result)
        lines = statement_lines_table(result)
        out.mkdir(parents=True, exist_ok=True)
        pq.write_table(lines, out / "lines.parquet")
        write_summary(summary, out / "summary.csv")
        seconds = time.perf_counter() - start
        line_frames = [lines.to_pandas()]
        partitions = 1
    else:
        result = run_comp_out_of_core(
            folder / "deals.parquet",
            accounts,
            approved,
            reps,
            plans,
            DEMO_MONTHS,
            out,
            splits=pd.read_parquet(folder / "splits.parquet"),
            engine="local",
            workers=2,
        )
        summary = result.summary
        write_summary(summary, out / "summary.csv")
        seconds = time.perf_counter() - start
        line_frames = (pq.read_table(f).to_pandas() for f in result.lines_files())
        partitions = result.partitions
    summary_hash = _row_hash([summary])[0]
    lines_hash, n_lines = _row_hash(line_frames)
    return {
        "seconds": seconds,
        "partitions": partitions,
        "summary_hash": summary_hash,
        "lines_hash": lines_hash,
        "lines": n_lines,
        "payout_cents": int(summary["payout_cents"].sum()),
        "reps": int(summary["rep_id"].nunique()),
    }


def _measured(args: list[str]) -> dict:
    """Run a case in a child process; its result and the peak memory of it and its children."""
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bench_comp_scale", *args], stdout=subprocess.PIPE, text=True
    )
    peak, done = 0, threading.Event()

    def sample() -> None:
        nonlocal peak
        parent = psutil.Process(child.pid)
        while not done.is_set():
            try:
                processes = [parent, *parent.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in processes if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = child.communicate()
    done.set()
    sampler.join()
    if child.returncode != 0:
        raise RuntimeError(f"benchmark case {args} failed with exit code {child.returncode}")
    return {**json.loads(output.strip().splitlines()[-1]), "peak_mib": peak / 2**20}


def _rows(n_deals: int, cluster: dict, memory: dict | None, size_mb: float, generated_s: float) -> list[dict]:
    same = ""
    if memory is not None:
        keys = ("summary_hash", "lines_hash", "lines", "payout_cents")
        identical = all(cluster[k] == memory[k] for k in keys)
        same = (
            "; identical to in memory, every summary row and line"
            if identical
            else "; DIFFERS from in memory"
        )
    rows = [
        {
            "deals": f"{n_deals:,}",
            "method": "Terrain out of core: DuckDB crediting, 2-worker local Dask cluster",
            "seconds": cluster["seconds"],
            "deals_per_s": f"{n_deals / cluster['seconds']:,.0f}",
            "peak_MiB": f"{cluster['peak_mib']:,.0f}",
            "result": f"{cluster['reps']:,} reps, {cluster['partitions']} partitions, "
            f"{cluster['lines']:,} lines, payout ${cluster['payout_cents'] / 100:,.2f}{same}; "
            f"deals file {size_mb:,.0f} MB (generated in {generated_s:.0f} s)",
        }
    ]
    if memory is not None:
        rows.append(
            {
                "deals": f"{n_deals:,}",
                "method": "in-memory run_comp (baseline), same outputs",
                "seconds": memory["seconds"],
                "deals_per_s": f"{n_deals / memory['seconds']:,.0f}",
                "peak_MiB": f"{memory['peak_mib']:,.0f}",
                "result": f"{memory['reps']:,} reps, {memory['lines']:,} lines, "
                f"payout ${memory['payout_cents'] / 100:,.2f}",
            }
        )
    return rows


def run() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n_deals in SIZES:
            folder = Path(tmp) / f"{n_deals}"
            folder.mkdir()
            start = time.perf_counter()
            generate(folder, n_deals)
            generated_s = time.perf_counter() - start
            size_mb = (folder / "deals.parquet").stat().st_size / 1e6
            cluster = _measured(["cluster", str(n_deals), str(folder), str(folder / "cluster")])
            memory = None
            if n_deals in IN_MEMORY_SIZES:
                memory = _measured(["memory", str(n_deals), str(folder), str(folder / "memory")])
            rows += _rows(n_deals, cluster, memory, size_mb, generated_s)
            print(rows[-1], flush=True)
            shutil.rmtree(folder)
    return rows


if __name__ == "__main__":
    kind, n_deals, folder, out = sys.argv[1:5]
    print(json.dumps(_case(kind, int(n_deals), Path(folder), Path(out))))
