"""The ``planner`` command line.

Typer gives typed options, ``--help`` on every subcommand and shell completion without
argument-parsing code of our own; rich (a Typer dependency) draws the tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from planner.cli.adjust import adjust_app
from planner.cli.common import console, fail, progress_bar
from planner.cli.comp import comp
from planner.cli.export import export
from planner.cli.forecast import capacity_command, forecast_command
from planner.cli.quota import quota_app
from planner.data.dataset import Dataset, check_files, load_dataset
from planner.data.demo import DEMO_DIR, load_demo, write_dataset_files, write_demo_files
from planner.data.zips import big_counties, zip_dataset
from planner.errors import InputError, PlannerError
from planner.optimize.api import Outcome, optimize_dataset
from planner.optimize.frontier import frontier as run_frontier
from planner.optimize.options import BalanceTarget, OptimizeOptions
from planner.plans.files import write_plan, write_report

app = typer.Typer(
    help="Terrain: territory and quota planning. Check input files, write the demo data set, ...",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(export)
app.add_typer(quota_app, name="quota")
app.add_typer(adjust_app, name="adjust")
app.command()(comp)
app.command("forecast")(forecast_command)
app.command("capacity")(capacity_command)


@app.command()
def validate(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Input files and/or directories (units.*, accounts.*, reps.*, ...)."),
    ],
) -> None:
    """Check input files and print every problem found, with file, row and column.

    Exit code 0 when there is no error (warnings allowed), 1 otherwise.
    """
    dataset, problems = check_files(paths)
    for problem in problems:
        style = "red" if problem.severity == "error" else "yellow"
        console.print(f"[{style}]{problem}[/]", soft_wrap=True)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        console.print(f"[red]{len(errors)} error(s)[/], {len(problems) - len(errors)} warning(s).")
        raise typer.Exit(code=1)
    summary = "no errors"
    if dataset is not None:
        summary += (
            f": {len(dataset.units):,} units, {len(dataset.accounts):,} accounts, "
            f"{len(dataset.reps):,} reps, {len(dataset.bookings):,} bookings, "
            f"{len(dataset.plan.territories):,} territories"
        )
    console.print(f"[green]OK[/] {summary}.")


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the demo files to.")],
    geography: Annotated[
        str,
        typer.Option(
            help="counties (3,108 units), metro-zips (ZIP cells in the 7 largest metros, counties "
            "elsewhere: 4,084 units) or zips (29,552 units; about a minute to build)"
        ),
    ] = "counties",
) -> None:
    """Write the demo data set as plain files (CSV, GeoJSON or GeoParquet) that you can open and edit."""
    if geography == "counties":
        written = write_demo_files(out)
    elif geography in ("metro-zips", "zips"):
        base = load_demo()
        zipped = zip_dataset(base, big_counties(base) if geography == "metro-zips" else None)
        written = write_dataset_files(zipped, out)
    else:
        raise typer.BadParameter(
            f"'{geography}': choose counties, metro-zips or zips", param_hint="--geography"
        )
    for path in written:
        console.print(f"wrote {path}")
    console.print(f"Check them with: planner validate {out}  (source: {DEMO_DIR})")


def parse_target(text: str) -> BalanceTarget:
    """``measure:tolerance[:hard][:weight=W]``, e.g. ``tam_usd:0.01:hard``."""
    parts = text.split(":")
    if len(parts) < 2:
        raise typer.BadParameter(f"'{text}': write measure:tolerance, e.g. tam_usd:0.02 or tam_usd:0.01:hard")
    measure, tolerance, *flags = parts
    try:
        weight = next((float(f.split("=", 1)[1]) for f in flags if f.startswith("weight=")), 1.0)
        return BalanceTarget(measure, float(tolerance), weight=weight, hard="hard" in flags)
    except ValueError as exc:
        raise typer.BadParameter(f"'{text}': tolerance and weight must be numbers ({exc})") from exc
    except PlannerError as exc:
        raise typer.BadParameter(str(exc)) from exc


@app.command()
def optimize(
    data: Annotated[list[Path], typer.Argument(help="Data set files and/or directories (as for validate).")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the plan and its report.")],
    balance: Annotated[
        list[str] | None,
        typer.Option(
            "--balance", help="measure:tolerance[:hard][:weight=W], repeatable. Default tam_usd:0.02."
        ),
    ] = None,
    n_reps: Annotated[
        int | None,
        typer.Option("--reps", "--k", help="Number of reps to plan for (default: the current plan's)."),
    ] = None,
    compactness_weight: Annotated[float, typer.Option(help="Weight of compactness against balance.")] = 1.0,
    disruption_weight: Annotated[
        float, typer.Option(help="Penalty on moving units from the current plan.")
    ] = 0.5,
    max_disruption: Annotated[
        float | None, typer.Option(help="Budget: at most this share (0-1) of the primary measure moves.")
    ] = None,
    lock_territory: Annotated[
        list[str] | None, typer.Option(help="Territory left untouched; repeatable.")
    ] = None,
    method: Annotated[
        str, typer.Option(help="heuristic (any size) or exact (CP-SAT, small instances).")
    ] = "heuristic",
    time_limit: Annotated[
        float, typer.Option(help="Seconds of search work (about wall seconds; same seed, same plan).")
    ] = 60.0,
    seed: Annotated[int, typer.Option(help="Random seed (same seed and inputs, same plan).")] = 0,
    pool_reps: Annotated[
        bool,
        typer.Option(help="Let rep counts move (shifts, merges); off: exactly the territories asked for."),
    ] = False,
    relocate: Annotated[
        bool,
        typer.Option(
            "--relocate",
            help="Let a territory be re-formed away from its rep's home where that moves less.",
        ),
    ] = False,
    frontier: Annotated[
        bool,
        typer.Option(
            "--frontier",
            help="Run budgets of 1.1, 1.25, 1.5, 2x the transport floor and no budget; write frontier.csv.",
        ),
    ] = False,
) -> None:
    """Optimize territories from the current plan: balanced, contiguous, compact, minimal moves.

    Writes alignment.csv and territory_reps.csv (loadable as a plan), report.json and
    territories.csv to --out. Exit code 0 when every hard tolerance is met, 2 otherwise.
    With --frontier, runs the balance-versus-disruption frontier instead, prints it, writes
    frontier.csv and the plan of the smallest budget that meets every hard tolerance (else
    of the last budget).
    """
    try:
        targets = tuple(parse_target(t) for t in (balance or ["tam_usd:0.02"]))
        options = OptimizeOptions(
            targets=targets,
            compactness_weight=compactness_weight,
            disruption_weight=disruption_weight,
            max_disruption=max_disruption,
            locked_territories=tuple(lock_territory or ()),
            method=method,
            time_limit_s=time_limit,
            seed=seed,
            pool_reps=pool_reps,
            use_rep_homes=not relocate,
        )
        dataset = load_dataset(*data)
    except (InputError, PlannerError) as exc:
        raise fail(exc) from exc
    if frontier:
        _run_frontier(dataset, options, out)
        return
    with progress_bar("optimizing") as progress:
        try:
            result = optimize_dataset(dataset, n_reps=n_reps, options=options, progress=progress)
        except PlannerError as exc:
            raise fail(exc) from exc
    written = write_plan(result.plan, out) + write_report(result.report, result.status, result.messages, out)
    table = Table("measure", "tolerance", "max |dev|", "within tolerance", title=f"Plan: {result.status}")
    for measure, row in result.report.balance.iterrows():
        table.add_row(
            measure, f"{row['tolerance']:.1%}", f"{row['max_abs_dev']:.2%}", f"{row['share_within_tol']:.0%}"
        )
    console.print(table)
    summary = result.report.summary()
    console.print(
        f"contiguity violations {int(summary['contiguity_violations'])}, mean dispersion "
        f"{summary['dispersion_km_mean']:.0f} km, moved {summary.get('moved_units', 0):.0%} of units, "
        f"{result.seconds:.1f} s"
    )
    for message in result.messages:
        console.print(f"- {message}", soft_wrap=True)
    for path in written:
        console.print(f"wrote {path}")
    if result.status == Outcome.INFEASIBLE:
        raise typer.Exit(code=2)


def _run_frontier(dataset: Dataset, options: OptimizeOptions, out: Path) -> None:
    """``planner optimize --frontier``: the table, frontier.csv, and the plan of the chosen budget."""
    with progress_bar("frontier") as progress:
        try:
            result = run_frontier(dataset, options=options, progress=progress)
        except PlannerError as exc:
            raise fail(exc) from exc
    measure = options.disruption_measure or options.primary
    least = (
        ""
        if result.least_move is None
        else f"; least move to balance by the territory model {result.least_move:.1%}"
    )
    table = Table(
        "budget",
        f"{options.primary} max |dev|",
        "within tol",
        "moved units",
        f"moved {measure}",
        "x floor",
        title=f"Frontier: transport floor {result.transport_floor:.1%} of {measure}{least}",
    )
    for _, row in result.table.iterrows():
        budget = "none" if pd.isna(row["budget_frac"]) else f"{row['budget_frac']:.1%}"
        times = "" if row["moved_over_floor"] is None else f"{row['moved_over_floor']:.2f}"
        table.add_row(
            budget,
            f"{row[f'{options.primary}_max_abs_dev']:.2%}",
            f"{row[f'{options.primary}_within_tol']:.0%}",
            f"{row['moved_units']:.0%}",
            f"{row[f'moved_{measure}']:.1%}",
            times,
        )
    console.print(table)
    out.mkdir(parents=True, exist_ok=True)
    result.table.to_csv(out / "frontier.csv", index=False)
    chosen = next((r for r in result.results if r.status != Outcome.INFEASIBLE), result.results[-1])
    written = [out / "frontier.csv"]
    written += write_plan(chosen.plan, out) + write_report(chosen.report, chosen.status, chosen.messages, out)
    for path in written:
        console.print(f"wrote {path}")


if __name__ == "__main__":
    app()
