"""Pay one partition of reps: its credit rows from Parquet, the in-memory calculation, results to disk.

A task of the partitioned job, run in the main process or on a cluster worker: it reads
only its own folder, so its memory is bounded by the partition, not by the number of
deals. Its results are those reps' summary rows (returned, small) and their lines
(written to ``lines/part-NNNNN.parquet``), in the in-memory order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from planner.comp.calculate import CompResult, calculate
from planner.comp.crediting import CREDIT_COLUMNS, SOURCES, month_key
from planner.comp.plan_file import CompPlan
from planner.comp.statements import statement_lines_table, summary_table, write_statements
from planner.plans.quota_lines import QuotaLine

EMPTY = {  #: a partition whose reps have no credit rows has no folder
    "deal_id": pa.array([], pa.string()),
    "rep_id": pa.array([], pa.string()),
    "close_date": pa.array([], pa.timestamp("us")),
    "deal_cents": pa.array([], pa.int64()),
    "credit_cents": pa.array([], pa.int64()),
    "source": pa.array([], pa.string()),
    "via_rep_id": pa.array([], pa.string()),
    "status": pa.array([], pa.string()),
    "cancel_date": pa.array([], pa.timestamp("us")),
}


@dataclass(frozen=True)
class SharedInputs:
    """What every partition needs (sent once to each worker)."""

    reps: pd.DataFrame  #: the reps table (``role``)
    quotas: pd.DataFrame  #: every rep's quotas (:func:`~planner.comp.crediting.rep_quotas`)
    plans: tuple[CompPlan, ...]
    months: tuple[str, ...]
    quota_lines: tuple[QuotaLine, ...]
    rep_names: dict[str, str] = field(default_factory=dict)  #: names shown on statements
    adjustments: pd.DataFrame | None = None  #: approved manual adjustments (small: one row each)


@dataclass(frozen=True)
class PartitionTask:
    """One partition to pay: where its credit rows are, its reps, where its results go."""

    index: int
    credits_path: Path
    reps: tuple[str, ...]  #: the reps this partition pays
    lines_path: Path
    statements: tuple[str, ...] = ()  #: reps of this partition to write statements for
    statements_dir: Path | None = None
    side_paths: tuple[tuple[str, Path], ...] = ()  #: per-deal tables (invoices, credit notes) of its deals


def _sorted_codes(column: pa.ChunkedArray, first: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Codes of a text column into its sorted distinct values (``first`` placed before them), and those."""
    lead = [first] if first is not None else []
    if not len(column):
        return np.zeros(0, np.int64), np.array(lead, dtype=object)
    encoded = column.combine_chunks().dictionary_encode()
    order = pc.array_sort_indices(encoded.dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) + len(lead)
    values = encoded.dictionary.take(pa.array(order)).to_numpy(zero_copy_only=False)
    return rank[encoded.indices.to_numpy(zero_copy_only=False)], np.concatenate([lead, values]).astype(object)


def read_credits(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A partition's credit rows (as :func:`~planner.comp.crediting.credit_deals` makes them) and deals."""
    table = pq.read_table(path) if path.exists() else pa.table(EMPTY)
    deal_code, deal_ids = _sorted_codes(table["deal_id"], first="")
    rep_code, rep_ids = _sorted_codes(pa.chunked_array(table["rep_id"].chunks + table["via_rep_id"].chunks))
    if "" not in set(rep_ids):
        rep_code, rep_ids = rep_code + 1, np.concatenate([[""], rep_ids]).astype(object)
    n = table.num_rows
    reps = pd.CategoricalDtype(pd.Index(rep_ids, dtype=object))
    close = pd.Series(table["close_date"].to_numpy(), dtype="datetime64[ns]")
    source = pd.Index(SOURCES).get_indexer(table["source"].to_numpy(zero_copy_only=False))
    credits = pd.DataFrame(
        {
            "deal_id": pd.Categorical.from_codes(deal_code, dtype=pd.CategoricalDtype(pd.Index(deal_ids))),
            "rep_id": pd.Categorical.from_codes(rep_code[:n], dtype=reps),
            "close_date": close,
            "month": month_key(close),
            "credit_cents": table["credit_cents"].to_numpy(),
            "deal_cents": table["deal_cents"].to_numpy(),
            "territory_id": "",
            "source": pd.Categorical.from_codes(source, categories=SOURCES),
            "via_rep_id": pd.Categorical.from_codes(rep_code[n:], dtype=reps),
        }
    ).loc[:, list(CREDIT_COLUMNS)]
    _, first_row = np.unique(deal_code, return_index=True)
    deals = pd.DataFrame(
        {
            "deal_id": deal_ids[deal_code[first_row]],
            "close_date": close.to_numpy()[first_row],
            "status": table["status"].take(first_row).to_numpy(zero_copy_only=False),
            "cancel_date": pd.Series(table["cancel_date"].take(first_row).to_numpy(), dtype="datetime64[ns]"),
        }
    )
    if "line" in table.column_names:
        deals["line"] = table["line"].take(first_row).to_numpy(zero_copy_only=False)
    if "hold_until" in table.column_names:
        deals["hold_until"] = pd.Series(
            table["hold_until"].take(first_row).to_numpy(), dtype="datetime64[ns]"
        )
    return credits, deals


def own_result(result: CompResult, reps: Sequence[str]) -> CompResult:
    """``result`` restricted to ``reps`` (dropping the context reps' incomplete figures)."""
    mine = set(reps)
    return dataclasses.replace(
        result,
        summary=result.summary.loc[result.summary["rep_id"].isin(mine)].reset_index(drop=True),
        lines=result.lines.loc[result.lines["rep_id"].isin(mine).to_numpy()].reset_index(drop=True),
        plan_of={rep: plan for rep, plan in result.plan_of.items() if rep in mine},
        unplanned_reps=tuple(rep for rep in result.unplanned_reps if rep in mine),
    )


def pay_partition(task: PartitionTask, shared: SharedInputs) -> pd.DataFrame:
    """Calculate one partition, write its lines and return its summary rows (see :func:`summary_table`)."""
    credits, deals = read_credits(task.credits_path)
    sides = {}
    for name, path in task.side_paths:
        if path.exists():
            table = pq.read_table(path).to_pandas()
            sides[name] = table.astype({c: "datetime64[ns]" for c in table if c.endswith("_date")})
    present = set(task.reps) | set(credits["rep_id"].cat.categories)  # with the context rows' reps
    result = calculate(
        credits,
        shared.quotas.loc[shared.quotas["rep_id"].isin(present)].reset_index(drop=True),
        deals,
        shared.plans,
        shared.reps.loc[shared.reps.index.astype(str).isin(present)],
        shared.months,
        quota_lines=shared.quota_lines,
        invoices=sides.get("invoices"),
        credit_notes=sides.get("credit_notes"),
        adjustments=shared.adjustments,
    )
    mine = own_result(result, task.reps)
    task.lines_path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(statement_lines_table(mine), task.lines_path)
    if task.statements and task.statements_dir is not None:
        write_statements(mine, task.statements, task.statements_dir, shared.rep_names)
    return summary_table(mine)
