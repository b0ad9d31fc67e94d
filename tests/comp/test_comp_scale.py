"""Comp out of core (DuckDB over Parquet, partitions of reps) and on a Dask cluster: same as in memory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.bench_comp import synthetic_world
from planner.comp import check_deals, run_comp
from planner.comp.demo import DEMO_MONTHS, demo_comp_plans
from planner.comp.scale import run_comp_out_of_core
from planner.errors import InputError, PlannerError
from tests.comp.out_of_core import assert_same_as_in_memory, out_of_core
from tests.comp.test_comp_properties import MONTHS, REPS, UNITS, worlds

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def world():
    """A seeded world of 30,000 deals with a realignment, splits, cancellations and shared territories.

    Some deals cannot be credited: closed before the first plan, or of an account without a unit;
    800 are held for 40 days.
    """
    deals, accounts, approved, reps, splits = synthetic_world(30_000)
    deals.loc[:49, "close_date"] = pd.Timestamp("2025-12-15")
    deals.loc[:49, "cancel_date"] = pd.NaT
    deals.loc[:49, "status"] = "won"
    deals["hold_until"] = pd.NaT
    deals.loc[100:899, "hold_until"] = deals.loc[100:899, "close_date"] + pd.Timedelta(days=40)
    accounts = accounts.copy()
    accounts.iloc[:20] = None
    splits = splits.assign(share=(splits["share_micro"] / 1e6).map("{:.6f}".format))
    return check_deals(deals, known_accounts=accounts.index), accounts, approved, reps, splits


@pytest.fixture(scope="module")
def in_memory(world):
    deals, accounts, approved, reps, splits = world
    from planner.comp.deals import check_splits

    checked = check_splits(splits.drop(columns="share_micro"), deals, known_reps=reps.index)
    return run_comp(deals, accounts, approved, reps, demo_comp_plans(), DEMO_MONTHS, splits=checked)


def test_out_of_core_pays_every_rep_exactly_as_in_memory(world, in_memory):
    deals, accounts, approved, reps, splits = world
    plans = demo_comp_plans()
    summary, lines, uncredited, context = out_of_core(
        deals, accounts, approved, reps, plans, DEMO_MONTHS, splits=splits, rows_per_partition=7_000
    )
    assert context > 0  # shared SPIFF deals crossed partitions, and still paid the same
    assert_same_as_in_memory(in_memory, summary, lines)
    expected = in_memory.uncredited.sort_values("deal_id").reset_index(drop=True)
    found = uncredited.sort_values("deal_id").reset_index(drop=True)
    assert found["deal_id"].tolist() == expected["deal_id"].tolist()
    reasons = {"before": "closed before the first approved plan", "no_unit": "account has no unit"}
    assert found["reason"].map(reasons).tolist() == expected["reason"].tolist()
    assert set(expected["reason"]) == set(reasons.values())


def test_a_two_worker_local_cluster_pays_the_same_as_one_process(world, in_memory):
    deals, accounts, approved, reps, splits = world
    summary, lines, _, _ = out_of_core(
        deals,
        accounts,
        approved,
        reps,
        demo_comp_plans(),
        DEMO_MONTHS,
        splits=splits,
        rows_per_partition=7_000,
        engine="local",
        workers=2,
    )
    assert_same_as_in_memory(in_memory, summary, lines)


@settings(max_examples=15, deadline=None)
@given(worlds(), st.integers(1, 6))
def test_out_of_core_matches_in_memory_on_random_plans_and_partitions(world, rows_per_partition):
    plans, deals, splits, approved = world
    memory = run_comp(deals, UNITS, approved, REPS, plans, MONTHS, splits=splits)
    summary, lines, _, _ = out_of_core(
        deals, UNITS, approved, REPS, plans, MONTHS, splits=splits, rows_per_partition=rows_per_partition
    )
    assert_same_as_in_memory(memory, summary, lines)


def comp_both_ways(tmp_path: Path, *args: str) -> None:
    """``planner comp ARGS`` in memory (to tmp_path/memory) and out of core in one process (scale)."""
    for out, extra in (("memory", ()), ("scale", ("--out-of-core", "--engine", "process"))):
        done = subprocess.run(
            [sys.executable, "-m", "planner.cli", "comp", *args, "--out", str(tmp_path / out), *extra],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr


def test_the_cli_writes_the_same_files_in_memory_and_out_of_core_on_the_demo(tmp_path):
    comp_both_ways(tmp_path, "--demo", "--rep", "R001", "--rep", "M01")
    memory, scale = tmp_path / "memory", tmp_path / "scale"
    assert (scale / "summary.csv").read_bytes() == (memory / "summary.csv").read_bytes()
    for name in ("R001.csv", "R001.html", "M01.csv", "M01.html"):
        assert (scale / "statements" / name).read_bytes() == (memory / "statements" / name).read_bytes()
    lines = pa.concat_tables([pq.read_table(f) for f in sorted((scale / "lines").glob("*.parquet"))])
    pa_csv.write_csv(lines, tmp_path / "lines.csv")
    assert (tmp_path / "lines.csv").read_bytes() == (memory / "lines.csv").read_bytes()


def _run(tmp_path: Path, deals: pd.DataFrame, name: str = "deals.parquet", **kwargs):
    deals_path = tmp_path / name
    if name.endswith(".csv"):
        deals.to_csv(deals_path, index=False)
    else:
        deals.to_parquet(deals_path)
    units = pd.Series({"A1": "U1"})
    from tests.comp.test_comp_golden import plan_of, world

    _, _, approved, reps = world([])
    tiers = [{"start": 0, "rate_pct": 10}]
    plan = plan_of([{"id": "c", "kind": "marginal", "tiers": tiers}], draw={"amount_usd": 100})
    return run_comp_out_of_core(
        deals_path, units, approved, reps, [plan], MONTHS, tmp_path / "out", **{"engine": "process", **kwargs}
    )


def _deals(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "deal_id": [f"D{i}" for i in range(n)],
            "account_id": "A1",
            "close_date": "2026-03-01",
            "amount_cents": 100_00,
            "status": "won",
            "cancel_date": "",
        }
    )


@pytest.mark.parametrize("name", ["deals.parquet", "deals.csv"])
def test_bad_deals_are_listed_by_row_and_column_as_in_memory(tmp_path, name):
    deals = _deals(6)
    deals.loc[1, "deal_id"] = "D0"
    deals.loc[2, "amount_cents"] = -5
    deals.loc[3, "status"] = "lost"
    deals.loc[4, "account_id"] = "A9"
    deals.loc[5, ["status", "cancel_date"]] = ["cancelled", "2026-02-01"]
    deals["hold_until"] = ["", "2026-05-01", "", "", "", "soon"]
    deals = deals.astype({"amount_cents": str})
    with pytest.raises(InputError) as raised:
        _run(tmp_path, deals, name)
    found = {(p.row, p.column) for p in raised.value.problems}
    with pytest.raises(InputError) as memory:
        check_deals(deals, known_accounts=pd.Index(["A1"]), file=name)
    assert found == {(p.row, p.column) for p in memory.value.problems}
    expected = {(3, "deal_id"), (4, "amount_cents"), (5, "status"), (6, "account_id"), (7, "cancel_date")}
    expected.add((7, "hold_until"))
    assert found == expected
    assert "cancel_date 2026-02-01 is before close_date 2026-03-01" in str(raised.value)
    assert "Traceback" not in str(raised.value) and str(tmp_path) not in str(raised.value)


def test_a_missing_column_a_bad_file_and_months_with_gaps_are_refused_clearly(tmp_path):
    with pytest.raises(InputError, match="missing column 'status'"):
        _run(tmp_path, _deals().drop(columns="status"))
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match=r"broken\.parquet: cannot read the file"):
        run_comp_out_of_core(
            tmp_path / "broken.parquet", pd.Series(dtype=str), [], REPS, [], MONTHS, tmp_path / "out"
        )
    with pytest.raises(PlannerError, match="have gaps"):
        run_comp_out_of_core(
            tmp_path / "x.parquet", pd.Series(dtype=str), [], REPS, [], ["2026-01", "2026-03"], tmp_path / "o"
        )
    assert not list((tmp_path / "out").glob("comp-work-*"))  # scratch space removed after a failure


def test_reps_without_any_deal_are_still_paid_their_draw(tmp_path):
    result = _run(tmp_path, _deals().iloc[:0])
    assert len(result.summary) == 12 and (result.summary["payout_cents"] == 100_00).all()
    assert np.array_equal(result.summary["month"], list(MONTHS))


def test_the_cli_credits_on_payment_and_on_credit_notes_the_same_way_in_both_runs(tmp_path):
    from planner.comp.demo import demo_deals
    from planner.data.demo import load_demo

    deals = demo_deals(load_demo())
    paid = deals.iloc[::3]
    pd.DataFrame(
        {
            "deal_id": paid["deal_id"],
            "paid_date": pd.to_datetime(paid["close_date"]) + pd.Timedelta(days=35),
            "amount_cents": paid["amount_cents"],
        }
    ).to_csv(tmp_path / "invoices.csv", index=False)
    returned = deals.iloc[1::7]
    pd.DataFrame(
        {
            "deal_id": returned["deal_id"],
            "issued_date": pd.to_datetime(returned["close_date"]) + pd.Timedelta(days=20),
            "amount_cents": returned["amount_cents"] // 2,
        }
    ).to_csv(tmp_path / "returns.csv", index=False)
    plan = (ROOT / "data" / "comp" / "account_executive.yaml").read_text()
    plan = plan.replace("    window: month\n", "    window: month\n    credit_on: payment\n", 1)
    (tmp_path / "ae.yaml").write_text(plan)
    common = [
        "--demo",
        "--invoices",
        str(tmp_path / "invoices.csv"),
        "--credit-notes",
        str(tmp_path / "returns.csv"),
        "--plan",
        str(tmp_path / "ae.yaml"),
        "--plan",
        str(ROOT / "data" / "comp" / "manager.toml"),
        "--rep",
        "R001",
    ]
    comp_both_ways(tmp_path, *common)
    for name in ("summary.csv", "accrual.csv", "statements/R001.html"):
        assert (tmp_path / "scale" / name).read_bytes() == (tmp_path / "memory" / name).read_bytes()
    statement = (tmp_path / "memory" / "statements" / "R001.csv").read_text()
    assert "credited on payment: the share of the deal paid" in statement
    assert "restated for credit notes issued this month" in statement
    accrual = pd.read_csv(tmp_path / "memory" / "accrual.csv")
    assert set(accrual["plan"]) == {"Account executive FY2026", "Sales manager FY2026", "all plans"}


def test_a_bad_engine_or_an_unreachable_scheduler_is_refused_clearly(tmp_path):
    with pytest.raises(PlannerError, match=r"--engine 'foo' is not an engine: give local, process"):
        _run(tmp_path, _deals(), engine="foo")
    with pytest.raises(
        PlannerError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9 .*--engine local"
    ):
        _run(tmp_path, _deals(), engine="tcp://127.0.0.1:9")
