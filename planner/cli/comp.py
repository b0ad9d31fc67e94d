"""``planner comp``: calculate incentive comp from deals, approved plans and comp plan files.

Writes ``summary.csv`` (per rep and month), ``lines.csv`` (every line of every rep, with
tier and rate), ``accrual.csv`` (per month and plan: earned, paid, held, draws) and, per
rep asked for with ``--rep`` (default: every rep when there are at most 100),
``statements/<rep>.csv`` and ``statements/<rep>.html``. With ``--out-of-core`` the lines
are Parquet files per partition (``lines/``).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from planner.cli.common import console, fail, open_store, progress_bar
from planner.comp.accrual import write_accrual
from planner.comp.calculate import month_range
from planner.comp.deals import check_credit_notes, check_deals, check_invoices, check_splits, read_table
from planner.comp.demo import DEMO_MONTHS, demo_approved_plans, demo_comp_plans, demo_deals
from planner.comp.plan_file import CompPlan, load_comp_plan
from planner.comp.run import run_comp
from planner.comp.scale import run_comp_out_of_core
from planner.comp.scale.deals import deal_dates
from planner.comp.statements import write_statement_lines, write_statements, write_summary
from planner.data.dataset import Dataset, load_dataset
from planner.data.demo import load_demo
from planner.errors import InputError, PlannerError
from planner.exports.inputs import file_quota_lines, read_quota_file
from planner.money import format_usd
from planner.plans.approved import ApprovedPlan

MAX_DEFAULT_STATEMENTS = 100


def _inputs(
    data: list[Path] | None,
    demo: bool,
    plan: list[Path] | None,
    deals: Path | None,
    splits: Path | None,
    quotas: Path | None,
    effective_from: date | None,
    months_from: str | None,
    months_to: str | None,
    db: str | None = None,
) -> tuple[Dataset, pd.DataFrame, pd.DataFrame | None, list[ApprovedPlan], list[CompPlan], list[str]]:
    """Checked inputs: the demo's, or the files given (raises InputError/PlannerError).

    With ``db``, the approved plans are the plan store's published versions (the single
    source of truth), instead of the data set's plan with ``--quotas``.
    """
    published = _published(db) if db else None
    if demo:
        dataset = load_demo()
        return (
            dataset,
            check_deals(demo_deals(dataset), known_accounts=dataset.accounts.index),
            None,
            published or demo_approved_plans(dataset),
            [load_comp_plan(p) for p in plan] if plan else demo_comp_plans(),
            month_range(months_from or DEMO_MONTHS[0], months_to or DEMO_MONTHS[-1]),
        )
    missing = [name for name, value in (("DATA", data), ("--plan", plan), ("--deals", deals)) if not value]
    missing += ["--quotas (or --db)"] if quotas is None and published is None else []
    if missing:
        raise typer.BadParameter(f"give {', '.join(missing)} (or --demo for the demo inputs)")
    dataset = load_dataset(*data)
    checked = check_deals(read_table(deals), known_accounts=dataset.accounts.index, file=deals.name)
    split_rows = None
    if splits is not None:
        split_rows = check_splits(
            read_table(splits), checked, known_reps=dataset.reps.index, file=splits.name
        )
    approved = published or [
        _file_plan(dataset, quotas, effective_from or checked["close_date"].min().date())
    ]
    first = months_from or f"{checked['close_date'].min():%Y-%m}"
    last = months_to or f"{checked['close_date'].max():%Y-%m}"
    return dataset, checked, split_rows, approved, [load_comp_plan(p) for p in plan], month_range(first, last)


def _date(text: str, option: str) -> date:
    """A YYYY-MM-DD option as a date; a clear error naming the option when it is not one."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PlannerError(
            f"{option} is {text!r}, not a date; write it as YYYY-MM-DD, e.g. 2026-07-15"
        ) from None


def _month(text: str | None, option: str) -> str | None:
    """A YYYY-MM option, checked; a clear error naming the option when it is not a month."""
    if text is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise PlannerError(f"{option} is {text!r}, not a month; write it as YYYY-MM, e.g. 2026-03")
    return text


def _published(db: str) -> list[ApprovedPlan]:
    """Published versions of the plan store at ``db``; an error when there is none."""
    plans = open_store(db).published_plans()
    if not plans:
        raise PlannerError(
            f"the plan store at {db} has no published version; publish one (planner quota publish)"
        )
    return plans


def comp(
    data: Annotated[
        list[Path] | None, typer.Argument(help="Data set files and/or directories (as for validate).")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Directory for summary, lines and statements.")] = Path(
        "comp-out"
    ),
    plan: Annotated[
        list[Path] | None,
        typer.Option("--plan", help="Comp plan file (.yaml/.toml); repeatable, one per role."),
    ] = None,
    deals: Annotated[Path | None, typer.Option(help="Deals CSV/Parquet (see docs/comp.md).")] = None,
    splits: Annotated[
        Path | None, typer.Option(help="Optional split-credit rows (deal_id, rep_id, share).")
    ] = None,
    invoices: Annotated[
        Path | None,
        typer.Option(
            help="Payments received (deal_id, paid_date, amount), for components that credit on payment."
        ),
    ] = None,
    credit_notes: Annotated[
        Path | None,
        typer.Option(
            "--credit-notes",
            help="Credit notes and returns (deal_id, issued_date, amount), as negative credit.",
        ),
    ] = None,
    quotas: Annotated[
        Path | None,
        typer.Option(help="Quota table of the approved plan (territory_id, period, quota_cents)."),
    ] = None,
    effective_from: Annotated[
        str | None, typer.Option(help="Date the data set's plan took effect, YYYY-MM-DD.")
    ] = None,
    months_from: Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM.")] = None,
    months_to: Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM.")] = None,
    rep: Annotated[list[str] | None, typer.Option(help="Write statements for this rep; repeatable.")] = None,
    demo: Annotated[
        bool, typer.Option(help="Use the demo: deals from bookings, two approved plans.")
    ] = False,
    db: Annotated[
        str | None,
        typer.Option(help="Plan store URL: credit under its published versions (replaces --quotas)."),
    ] = None,
    out_of_core: Annotated[
        bool,
        typer.Option(
            "--out-of-core",
            help="Read the deals file with DuckDB and pay reps in partitions on a Dask cluster "
            "(for millions of deals; see docs/comp.md#at-scale).",
        ),
    ] = False,
    engine: Annotated[
        str,
        typer.Option(
            help="With --out-of-core: 'local' (a Dask cluster of this machine's cores), 'process' "
            "(this process only) or a Dask scheduler address, e.g. tcp://10.0.0.5:8786."
        ),
    ] = "local",
    workers: Annotated[
        int | None, typer.Option(min=1, help="With --out-of-core --engine local: worker processes.")
    ] = None,
) -> None:
    """Calculate comp: credit deals, apply the comp plans, write statements per rep.

    Exit code 0 on success, 1 for invalid inputs (every problem is listed).
    """
    if out_of_core:
        _comp_out_of_core(
            data,
            out,
            plan,
            deals,
            splits,
            invoices,
            credit_notes,
            quotas,
            effective_from,
            months_from,
            months_to,
            rep,
            demo,
            db,
            engine,
            workers,
        )
        return
    try:
        start = _date(effective_from, "--effective-from") if effective_from else None
        months_from, months_to = _month(months_from, "--from"), _month(months_to, "--to")
        if months_from and months_to and months_from > months_to:
            raise PlannerError(f"--from {months_from} is after --to {months_to}; swap them")
        dataset, checked, split_rows, approved, plans, months = _inputs(
            data, demo, plan, deals, splits, quotas, start, months_from, months_to, db
        )
        payments = None
        if invoices is not None:
            payments = check_invoices(read_table(invoices), checked, file=invoices.name)
        approved_adjustments = _approved_adjustments(db)
        notes = None
        if credit_notes is not None:
            notes = check_credit_notes(read_table(credit_notes), checked, file=credit_notes.name)
    except (InputError, PlannerError, ValueError) as exc:
        raise fail(exc) from exc
    try:
        with progress_bar("calculating") as progress:
            result = run_comp(
                checked,
                dataset.accounts["unit_id"],
                approved,
                dataset.reps,
                plans,
                months,
                splits=split_rows,
                invoices=payments,
                credit_notes=notes,
                adjustments=approved_adjustments,
                progress=progress,
            )
    except PlannerError as exc:
        raise fail(exc) from exc
    written = [
        write_summary(result, out / "summary.csv"),
        write_statement_lines(result, out / "lines.csv"),
        write_accrual(result.summary, out / "accrual.csv"),
    ]
    chosen = rep or (sorted(result.plan_of) if len(result.plan_of) <= MAX_DEFAULT_STATEMENTS else [])
    unknown = [r for r in chosen if r not in result.plan_of]
    if unknown:
        raise fail(PlannerError(f"no comp plan for rep(s) {unknown}; {len(result.plan_of)} reps have one"))
    with progress_bar("statements") as progress:
        for done, rep_id in enumerate(chosen, start=1):
            written += write_statements(result, [rep_id], out / "statements", _names(dataset))
            progress(done / len(chosen), f"statement {rep_id}")
    uncredited = result.uncredited if result.uncredited is not None else pd.DataFrame({"reason": []})
    _report(
        result.summary, result.plan_of, months, uncredited["reason"].value_counts(), result.unplanned_reps
    )
    console.print(f"wrote {len(written)} files to {out}")


def _approved_adjustments(db: str | None) -> pd.DataFrame | None:
    """The plan store's approved manual adjustments (None without a store)."""
    if not db:
        return None
    return open_store(db).adjustments("approved").reset_index()


def _names(dataset: Dataset) -> dict[str, str]:
    return dataset.reps["name"].astype(str).to_dict() if "name" in dataset.reps else {}


def _report(
    summary: pd.DataFrame,
    plan_of: dict[str, str],
    months: list[str],
    uncredited: pd.Series,
    unplanned: tuple[str, ...],
) -> None:
    """Print totals per plan, the deals nobody was credited for (count by reason) and unplanned reps."""
    totals = summary.groupby("plan")[["credited_cents", "earnings_cents", "payout_cents"]].sum()
    table = Table("plan", "reps", "credited", "earnings", "payout", title=f"Comp {months[0]}..{months[-1]}")
    for plan_name, row in totals.iterrows():
        reps_on_plan = sum(1 for p in plan_of.values() if p == plan_name)
        table.add_row(
            str(plan_name),
            str(reps_on_plan),
            format_usd(row["credited_cents"]),
            format_usd(row["earnings_cents"]),
            format_usd(row["payout_cents"]),
        )
    console.print(table)
    for reason, count in uncredited.items():
        if count:
            console.print(f"[yellow]{count:,} deal(s) not credited: {reason}[/]")
    if unplanned:
        console.print(f"[yellow]no comp plan for role of: {', '.join(unplanned[:10])}[/]")


def _comp_out_of_core(
    data: list[Path] | None,
    out: Path,
    plan: list[Path] | None,
    deals: Path | None,
    splits: Path | None,
    invoices: Path | None,
    credit_notes: Path | None,
    quotas: Path | None,
    effective_from: str | None,
    months_from: str | None,
    months_to: str | None,
    rep: list[str] | None,
    demo: bool,
    db: str | None,
    engine: str,
    workers: int | None,
) -> None:
    """``planner comp --out-of-core``: the deals file is read by DuckDB, never loaded whole."""
    try:
        start = _date(effective_from, "--effective-from") if effective_from else None
        months_from, months_to = _month(months_from, "--from"), _month(months_to, "--to")
        if months_from and months_to and months_from > months_to:
            raise PlannerError(f"--from {months_from} is after --to {months_to}; swap them")
        if demo:
            dataset = load_demo()
            out.mkdir(parents=True, exist_ok=True)
            deals = out / "demo-deals.parquet"
            check_deals(demo_deals(dataset), known_accounts=dataset.accounts.index).to_parquet(deals)
            approved = _published(db) if db else demo_approved_plans(dataset)
            plans = [load_comp_plan(p) for p in plan] if plan else demo_comp_plans()
            months = month_range(months_from or DEMO_MONTHS[0], months_to or DEMO_MONTHS[-1])
            split_rows = None
        else:
            missing = [n for n, v in (("DATA", data), ("--plan", plan), ("--deals", deals)) if not v]
            missing += ["--quotas (or --db)"] if quotas is None and db is None else []
            if missing:
                raise typer.BadParameter(f"give {', '.join(missing)} (or --demo for the demo inputs)")
            dataset = load_dataset(*data)
            first, last = deal_dates(deals)
            approved = _published(db) if db else [_file_plan(dataset, quotas, start or first)]
            plans = [load_comp_plan(p) for p in plan]
            months = month_range(months_from or f"{first:%Y-%m}", months_to or f"{last:%Y-%m}")
            split_rows = read_table(splits) if splits is not None else None
        with progress_bar("comp out of core") as progress:
            result = run_comp_out_of_core(
                deals,
                dataset.accounts["unit_id"],
                approved,
                dataset.reps,
                plans,
                months,
                out,
                splits=split_rows,
                invoices=read_table(invoices) if invoices is not None else None,
                credit_notes=read_table(credit_notes) if credit_notes is not None else None,
                adjustments=_approved_adjustments(db),
                engine=engine,
                workers=workers,
                statements=rep or [],
                rep_names=_names(dataset),
                progress=progress,
            )
    except (InputError, PlannerError, ValueError) as exc:
        raise fail(exc) from exc
    write_summary(result.summary, out / "summary.csv")
    write_accrual(result.summary, out / "accrual.csv")
    counts = result.uncredited.set_index("reason")["deals"] if len(result.uncredited) else pd.Series()
    _report(result.summary, result.plan_of, months, counts, result.unplanned_reps)
    console.print(
        f"paid {len(result.plan_of):,} reps in {result.partitions} partition(s); wrote summary.csv, "
        "accrual.csv, lines/ (Parquet, one file per partition), uncredited.parquet"
        + (f" and {2 * len(rep)} statement file(s)" if rep else "")
        + f" to {out}"
    )


def _file_plan(dataset: Dataset, quotas: Path, effective_from: date) -> ApprovedPlan:
    """The data set's plan with the quota file, in effect from ``effective_from``."""
    table = (
        read_table(quotas) if quotas.suffix.lower() == ".parquet" else read_quota_file(quotas, dataset.plan)
    )
    return ApprovedPlan(
        0, dataset.plan.name, effective_from, dataset.plan, table, lines=file_quota_lines(table)
    )
