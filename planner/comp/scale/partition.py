"""Pay one partition of reps: its credit rows from Parquet, the in-memory calculation, results to disk.

A task of the partitioned job, run in the main process or on a cluster worker: it reads
only its own folder, so its memory is bounded by the partition, not by the number of
deals. Its results are those reps' summary rows (returned, small) and their lines
(written to ``lines/part-NNNNN.parquet``), in the in-memory order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from planner.comp.calculate import CompResult, calculate
from planner.comp.crediting import CREDIT_COLUMNS, SOURCES, month_key
from planner.comp.plan_file import CompPlan
from planner.comp.statements import statement_lines_table, summary_table
from planner.plans.quota_lines import QuotaLine

EMPTY_TYPES = {
    "deal_id": object,
    "rep_id": object,
    "close_date": "datetime64[ns]",
    "deal_cents": np.int64,
    "credit_cents": np.int64,
    "source": object,
    "via_rep_id": object,
    "status": object,
    "cancel_date": "datetime64[ns]",
    "context": bool,
}  #: a partition whose reps have no credit rows has no folder
EMPTY = {column: [] for column in EMPTY_TYPES}


@dataclass(frozen=True)
class PartitionTask:
    """Everything a worker needs to pay one partition (picklable; no connection, no open file)."""

    index: int
    credits_path: Path
    reps: tuple[str, ...]  #: the reps this partition pays
    rep_table: pd.DataFrame  #: their rows of the reps table, and those of the context rows' reps
    quotas: pd.DataFrame  #: their rep quotas
    plans: tuple[CompPlan, ...]
    months: tuple[str, ...]
    quota_lines: tuple[QuotaLine, ...]
    lines_path: Path


def read_credits(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """A partition's credit rows (as :func:`~planner.comp.crediting.credit_deals` gives them).

    Also its deals, and which rows are context (another partition's reps, kept for shared SPIFFs).
    """
    table = pq.read_table(path).to_pandas() if path.exists() else pd.DataFrame(EMPTY).astype(EMPTY_TYPES)
    ids, inverse = np.unique(table["deal_id"].to_numpy(dtype=object), return_inverse=True)
    deal_type = pd.CategoricalDtype(pd.Index(np.concatenate([[""], ids]), dtype=object))
    deal_code = inverse.reshape(-1) + 1
    close = pd.to_datetime(table["close_date"]).astype("datetime64[ns]")
    reps = pd.CategoricalDtype(sorted(set(table["rep_id"]) | set(table["via_rep_id"]) | {""}))
    credits = pd.DataFrame(
        {
            "deal_id": pd.Categorical.from_codes(deal_code, dtype=deal_type),
            "rep_id": pd.Categorical(table["rep_id"], dtype=reps),
            "close_date": close,
            "month": month_key(close),
            "credit_cents": table["credit_cents"].to_numpy(np.int64),
            "deal_cents": table["deal_cents"].to_numpy(np.int64),
            "territory_id": "",
            "source": pd.Categorical(table["source"], categories=SOURCES),
            "via_rep_id": pd.Categorical(table["via_rep_id"], dtype=reps),
        }
    ).loc[:, list(CREDIT_COLUMNS)]
    deal_columns = ["deal_id", "close_date", "status", "cancel_date"] + (["line"] if "line" in table else [])
    deals = table.loc[:, deal_columns].drop_duplicates("deal_id").reset_index(drop=True)
    deals["close_date"] = pd.to_datetime(deals["close_date"]).astype("datetime64[ns]")
    deals["cancel_date"] = pd.to_datetime(deals["cancel_date"]).astype("datetime64[ns]")
    return credits, deals, table["context"].to_numpy(bool)


def own_result(result: CompResult, reps: Sequence[str]) -> CompResult:
    """``result`` restricted to ``reps`` (dropping the context reps' incomplete figures)."""
    mine = set(reps)
    return CompResult(
        result.summary.loc[result.summary["rep_id"].isin(mine)].reset_index(drop=True),
        result.lines.loc[result.lines["rep_id"].isin(mine).to_numpy()].reset_index(drop=True),
        result.plans,
        {rep: plan for rep, plan in result.plan_of.items() if rep in mine},
        result.months,
        tuple(rep for rep in result.unplanned_reps if rep in mine),
        credits=result.credits,
        quotas=result.quotas,
        deals=result.deals,
        quota_lines=result.quota_lines,
    )


def pay_partition(task: PartitionTask) -> pd.DataFrame:
    """Calculate one partition, write its lines and return its summary rows (see :func:`summary_table`)."""
    credits, deals, _ = read_credits(task.credits_path)
    result = calculate(
        credits,
        task.quotas,
        deals,
        task.plans,
        task.rep_table,
        task.months,
        quota_lines=task.quota_lines,
    )
    mine = own_result(result, task.reps)
    task.lines_path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(statement_lines_table(mine), task.lines_path)
    return summary_table(mine)
