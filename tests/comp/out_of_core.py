"""Run the out-of-core comp job on in-memory inputs, for tests comparing it with :func:`run_comp`."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from planner.comp.calculate import CompResult
from planner.comp.scale import run_comp_out_of_core
from planner.comp.statements import statement_lines_table, summary_table


def out_of_core(
    deals: pd.DataFrame,
    units: pd.Series,
    approved: Sequence,
    reps: pd.DataFrame,
    plans: Sequence,
    months: Sequence[str],
    *,
    splits: pd.DataFrame | None = None,
    invoices: pd.DataFrame | None = None,
    credit_notes: pd.DataFrame | None = None,
    adjustments: pd.DataFrame | None = None,
    rows_per_partition: int = 2,
    engine: str = "process",
    workers: int | None = None,
) -> tuple[pd.DataFrame, pa.Table, pd.DataFrame, int]:
    """Summary, lines, uncredited deals and context rows of the out-of-core run (deals via Parquet)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "deals.parquet"
        deals.to_parquet(path)
        raw_splits = splits.loc[:, ["deal_id", "rep_id", "share"]] if splits is not None else None
        result = run_comp_out_of_core(
            path,
            units,
            approved,
            reps,
            plans,
            months,
            Path(folder) / "out",
            splits=raw_splits,
            invoices=invoices,
            credit_notes=credit_notes,
            adjustments=adjustments,
            engine=engine,
            workers=workers,
            rows_per_partition=rows_per_partition,
        )
        files = result.lines_files()
        lines = pa.concat_tables([pq.read_table(f) for f in files]) if files else None
        uncredited = pd.read_parquet(result.uncredited_path)
    return result.summary, lines, uncredited, result.context_rows


def assert_same_as_in_memory(memory: CompResult, summary: pd.DataFrame, lines: pa.Table | None) -> None:
    """Every summary figure and every line identical (same order, same values, same types)."""
    pd.testing.assert_frame_equal(summary, summary_table(memory), check_exact=True)
    expected = statement_lines_table(memory)
    if lines is None:
        assert expected.num_rows == 0
    elif not lines.equals(expected):  # show the first rows that differ
        pd.testing.assert_frame_equal(lines.to_pandas(), expected.to_pandas(), check_exact=True)
        assert lines.schema == expected.schema
