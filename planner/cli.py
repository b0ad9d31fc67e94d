"""The ``planner`` command line.

Typer gives typed options, ``--help`` on every subcommand and shell completion without
argument-parsing code of our own; rich (a Typer dependency) draws the tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from planner.dataset import check_files
from planner.demo import DEMO_DIR, write_demo_files

app = typer.Typer(
    help="Terrain: territory and quota planning. Check input files, write the demo data set, ...",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(highlight=False)


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
) -> None:
    """Write the demo data set as plain files (CSV, GeoJSON) that you can open and edit."""
    written = write_demo_files(out)
    for path in written:
        console.print(f"wrote {path}")
    console.print(f"Check them with: planner validate {out}  (source: {DEMO_DIR})")


if __name__ == "__main__":
    app()
