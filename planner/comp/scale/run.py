"""The out-of-core comp run: check and credit with DuckDB, pay each partition of reps, gather.

``engine="process"`` pays the partitions one after another in this process; ``"local"``
starts a Dask cluster of this machine's cores (one single-threaded worker per core);
any other value is the address of a running Dask scheduler (``tcp://host:8786``), whose
workers must see ``work_dir`` at the same path (a shared file system). The results are
the same, to the byte, whichever engine runs them, and the same as the in-memory
:func:`planner.comp.run.run_comp`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from planner.comp.calculate import assign_plans, measured_line
from planner.comp.crediting import rep_quotas
from planner.comp.plan_file import CompPlan
from planner.comp.run import quota_lines, quota_months
from planner.comp.scale.credit import Credited, credit_to_partitions
from planner.comp.scale.deals import open_deals, open_side_table, open_splits
from planner.comp.scale.partition import PartitionTask, SharedInputs, pay_partition
from planner.errors import PlannerError
from planner.plans.approved import ApprovedPlan
from planner.plans.quota_lines import QuotaLine
from planner.progress import ProgressCallback

MEMORY_LIMIT = "2GB"  #: DuckDB's working memory; it spills to ``work_dir`` beyond it


@dataclass(frozen=True)
class ScaleResult:
    """What :func:`run_comp_out_of_core` wrote and found.

    ``summary`` is :func:`planner.comp.statements.summary_table` of every rep (in cents),
    ``lines_dir`` holds every rep's lines as Parquet, one file per partition, in order.
    """

    summary: pd.DataFrame
    lines_dir: Path
    partitions: int
    context_rows: int
    uncredited: pd.DataFrame
    uncredited_path: Path
    unplanned_reps: tuple[str, ...]
    plans: dict[str, CompPlan]
    plan_of: dict[str, str]

    def lines_files(self) -> list[Path]:
        """The partitions' line files, in rep order."""
        return sorted(self.lines_dir.glob("part-*.parquet"))


def _check_plans(plans: Sequence[CompPlan], lines: Sequence[QuotaLine], deals_have_lines: bool) -> None:
    """The plan errors the in-memory run raises, raised before any partition starts."""
    by_name = {line.name: line for line in lines or (QuotaLine(),)}
    if len({p.name for p in plans}) != len(plans):
        raise PlannerError("two comp plans have the same name; give each plan a unique name")
    for plan in plans:
        for component in plan.components:
            measured_line(component, plan, by_name, deals_have_lines)


def _tasks(credited: Credited, out: Path, statements: Sequence[str]) -> list[PartitionTask]:
    wanted = set(statements)
    return [
        PartitionTask(
            partition.index,
            partition.path,
            partition.reps,
            out / "lines" / f"part-{partition.index:05d}.parquet",
            tuple(rep for rep in partition.reps if rep in wanted),
            out / "statements",
            partition.side_paths,
        )
        for partition in credited.partitions
    ]


def _pay(
    tasks: list[PartitionTask],
    shared: SharedInputs,
    engine: str,
    workers: int | None,
    report: ProgressCallback,
) -> list[pd.DataFrame]:
    """Each task's summary, in task order, paid by ``engine``; progress per partition."""
    if engine == "process":
        results = []
        for done, task in enumerate(tasks, start=1):
            results.append(pay_partition(task, shared))
            report(done / len(tasks), f"partition {done}/{len(tasks)}")
        return results
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if engine == "local":
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            memory_limit=0,
        )
    try:
        try:
            client = Client(cluster if cluster is not None else engine, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise PlannerError(
                f"cannot reach the Dask scheduler at {engine} ({exc}); start it (dask scheduler) or "
                "run with --engine local"
            ) from None
        with client:
            inputs = client.scatter(shared, broadcast=True)
            futures = client.map(
                pay_partition, tasks, shared=inputs, key=[f"comp-partition-{t.index}" for t in tasks]
            )
            for done, _ in enumerate(as_completed(futures), start=1):
                report(done / len(tasks), f"partition {done}/{len(tasks)}")
            return client.gather(futures)
    finally:
        if cluster is not None:
            cluster.close()


def run_comp_out_of_core(
    deals_path: str | Path,
    account_units: pd.Series,
    approved: Sequence[ApprovedPlan],
    reps: pd.DataFrame,
    plans: Sequence[CompPlan],
    months: Sequence[str],
    out: str | Path,
    *,
    splits: pd.DataFrame | None = None,
    invoices: pd.DataFrame | None = None,
    credit_notes: pd.DataFrame | None = None,
    adjustments: pd.DataFrame | None = None,
    engine: str = "local",
    workers: int | None = None,
    rows_per_partition: int = 500_000,
    work_dir: str | Path | None = None,
    statements: Sequence[str] = (),
    rep_names: dict[str, str] | None = None,
    progress: ProgressCallback | None = None,
) -> ScaleResult:
    """Credit the deals file at ``deals_path`` and pay every rep, out of core.

    Parameters
    ----------
    deals_path : path
        Deals as Parquet (or CSV), the columns of :func:`planner.comp.deals.check_deals`.
    account_units, approved, reps, plans, months, splits, invoices, credit_notes, adjustments
        As for :func:`planner.comp.run.run_comp` (unchecked: splits, invoices and credit
        notes are checked here against the deals file). ``months`` must be consecutive.
    out : path
        Where ``lines/part-NNNNN.parquet`` go.
    engine : str
        ``"process"``, ``"local"`` (a Dask cluster of ``workers`` processes, default one
        per core) or a Dask scheduler address.
    rows_per_partition : int
        Credit rows per partition (a partition's memory grows with it).
    work_dir : path, optional
        Where the scratch folder for DuckDB's spills and the partitions goes (default
        ``out``; the folder is removed at the end).
    statements : sequence of str
        Reps whose statements (CSV and HTML) are written to ``out/statements``, each by
        the task paying the rep; ``rep_names`` gives the names shown on them.
    progress : callable, optional
        Called with (fraction done, message): checking, crediting, then each partition.
    """
    report = progress or (lambda fraction, message: None)
    if engine not in ("process", "local") and not re.fullmatch(r"[a-z]+://[^\s:/]+:\d+", engine):
        raise PlannerError(
            f"--engine {engine!r} is not an engine: give local, process or a Dask scheduler address "
            "such as tcp://10.0.0.5:8786"
        )
    months = tuple(sorted(months))
    expected = pd.period_range(months[0], months[-1], freq="M").strftime("%Y-%m").tolist()
    if list(months) != expected:
        raise PlannerError(f"months {months[0]}..{months[-1]} have gaps; give consecutive months")
    plan_of, unplanned = assign_plans(plans, reps)
    unknown = [rep for rep in statements if rep not in plan_of]
    if unknown:
        raise PlannerError(f"no comp plan for rep(s) {unknown}; {len(plan_of)} reps have one")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "lines", ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix="comp-work-", dir=work_dir or out))
    try:
        credited, lines = _credit(
            Path(deals_path),
            account_units,
            approved,
            reps,
            plans,
            months,
            work,
            splits,
            {"invoices": invoices, "credit_notes": credit_notes},
            rows_per_partition,
            report,
        )
        quotas = rep_quotas(approved, quota_months(months), reps=reps)
        shared = SharedInputs(reps, quotas, tuple(plans), months, tuple(lines), rep_names or {}, adjustments)
        tasks = _tasks(credited, out, statements)
        summaries = _pay(tasks, shared, engine, workers, lambda f, m: report(0.2 + 0.8 * f, m))
        uncredited_path = out / "uncredited.parquet"
        shutil.move(credited.uncredited_path, uncredited_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = pd.concat(summaries, ignore_index=True) if summaries else pd.DataFrame()
    report(1.0, "done")
    return ScaleResult(
        summary,
        out / "lines",
        len(tasks),
        sum(p.context_rows for p in credited.partitions),
        credited.uncredited,
        uncredited_path,
        unplanned,
        {p.name: p for p in plans},
        plan_of,
    )


def _credit(
    deals_path: Path,
    account_units: pd.Series,
    approved: Sequence[ApprovedPlan],
    reps: pd.DataFrame,
    plans: Sequence[CompPlan],
    months: Sequence[str],
    work: Path,
    splits: pd.DataFrame | None,
    side_tables: dict[str, pd.DataFrame | None],
    rows_per_partition: int,
    report: ProgressCallback,
) -> tuple[Credited, list[QuotaLine]]:
    """Check the deals (and splits and plans) and credit them into partitions under ``work``."""
    con = duckdb.connect(str(work / "credit.duckdb"))
    try:
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        con.execute(f"SET temp_directory = '{str(work / 'spill').replace(chr(39), chr(39) * 2)}'")
        report(0.0, "checking deals")
        open_deals(con, deals_path, account_units.index)
        con.execute("SET preserve_insertion_order = false")  # after a CSV was loaded in file order
        checked_splits = None
        if splits is not None:
            checked_splits = open_splits(con, splits, known_reps=reps.index)
        checked_sides = {
            name: open_side_table(con, name, table)
            for name, table in side_tables.items()
            if table is not None
        }
        lines = quota_lines(approved, months)
        has_line = "line" in {c[0] for c in con.execute("DESCRIBE deals").fetchall()}
        _check_plans(plans, lines, has_line)
        report(0.05, "crediting deals")
        credited = credit_to_partitions(
            con,
            account_units,
            approved,
            reps,
            plans,
            months,
            work,
            splits=checked_splits,
            side_tables=checked_sides,
            rows_per_partition=rows_per_partition,
        )
    finally:
        con.close()
    return credited, lines
