"""``planner export``: write an approved plan's exports and the change report from files.

Registered on the ``planner`` command in :mod:`planner.cli.main`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from planner.cli.common import console, fail, open_store, progress_bar
from planner.data.dataset import load_dataset
from planner.errors import PlannerError
from planner.exports.change_report import change_report, write_change_report
from planner.exports.formats import EXPORT_FORMATS, check_formats, export_plan
from planner.exports.inputs import approved_from_files
from planner.plans.approved import ApprovedPlan
from planner.plans.plan import Plan
from planner.store.migrate import DEFAULT_DB_URL

#: Pseudo-format: the change report from the data set's current plan to the exported plan.
CHANGES = "changes"


def _parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"'{text}' is not a date; write YYYY-MM-DD, e.g. 2027-01-01") from exc


def export(
    data: Annotated[list[Path], typer.Argument(help="Data set files and/or directories (as for validate).")],
    out: Annotated[Path, typer.Option("--out", help="Directory to write the exports to.")],
    plan: Annotated[
        Path | None,
        typer.Option(
            "--plan", help="Plan directory (alignment.csv, territory_reps.csv), e.g. from planner optimize."
        ),
    ] = None,
    quotas: Annotated[
        Path | None,
        typer.Option(help="Quotas CSV: territory_id, period (2027-01 or 2027-Q1), quota_usd or quota_cents."),
    ] = None,
    fmt: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            help=f"Repeatable; any of {', '.join((*EXPORT_FORMATS, CHANGES))}. Default: all.",
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Plan label (default: the plan directory's name).")] = None,
    effective_date: Annotated[
        str | None, typer.Option(help="Date the plan takes effect, YYYY-MM-DD (default: today).")
    ] = None,
    approved_by: Annotated[str, typer.Option(help="Approver, shown in the Excel README sheet.")] = "",
    changed_only: Annotated[
        bool, typer.Option("--changed-only", help="CRM file: only accounts whose owner changes.")
    ] = False,
    simplify: Annotated[
        float | None,
        typer.Option(help="Simplify polygons in the geo files (tolerance in degrees, e.g. 0.01)."),
    ] = None,
    version: Annotated[
        int | None,
        typer.Option(help="Export this approved or published version from the plan store (--db)."),
    ] = None,
    compare_version: Annotated[
        int | None,
        typer.Option(help="Change report from this stored version (default: the data set's plan)."),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", envvar="TERRAIN_DB_URL", help=f"Plan store URL for --version (default {DEFAULT_DB_URL})."
        ),
    ] = None,
) -> None:
    """Export a plan: CSV, Excel, GeoJSON, GeoPackage, CRM account assignment and change report.

    The plan is an approved version from the plan store (--version), a plan directory
    (--plan, with --quotas) or, by default, the data set's own alignment. The change
    report compares the data set's current plan (or --compare-version) with the exported
    one. Every file is written to a temporary name first and renamed only when all were
    written: a failed export leaves earlier files intact. Exit code 1 for bad input.
    """
    chosen = [f.lower().strip() for f in (fmt or [*EXPORT_FORMATS, CHANGES])]
    unknown = sorted(set(chosen) - {*EXPORT_FORMATS, CHANGES})
    if unknown:
        raise typer.BadParameter(
            f"unknown format(s) {unknown}; choose from {', '.join((*EXPORT_FORMATS, CHANGES))}",
            param_hint="--format",
        )
    try:
        files = [f for f in chosen if f != CHANGES]
        formats = check_formats(files) if files else ()
        dataset = load_dataset(*data)
        before: Plan | ApprovedPlan = dataset.plan
        if version is not None or compare_version is not None:
            store = open_store(db or DEFAULT_DB_URL)
            if compare_version is not None:
                before = store.approved_plan(compare_version)
        if version is not None:
            if plan is not None or quotas is not None:
                raise typer.BadParameter("give either --version or --plan/--quotas, not both")
            approved = store.approved_plan(version)
        else:
            approved = approved_from_files(
                dataset,
                plan,
                quotas,
                name=name,
                effective_from=_parse_date(effective_date),
                approved_by=approved_by,
            )
    except PlannerError as exc:
        raise fail(exc) from exc
    written: list[Path] = []
    with progress_bar("exporting") as progress:
        try:
            if formats:
                written += export_plan(
                    approved,
                    dataset,
                    out,
                    formats,
                    changed_only=changed_only,
                    simplify_tolerance_deg=simplify,
                    progress=progress,
                )
            if CHANGES in chosen:
                progress(1.0, "change report")
                report = change_report(before, approved, dataset)
                written += write_change_report(report, out)
        except PlannerError as exc:
            raise fail(exc) from exc
    if CHANGES in chosen:
        summary = report.summary
        console.print(
            f"{report.before_name} -> {report.after_name}: {summary.loc['units', 'moved']:,.0f} units moved, "
            f"{summary.loc['accounts_owner_changed', 'moved']:,.0f} accounts change owner"
        )
    for path in written:
        console.print(f"wrote {path}")
