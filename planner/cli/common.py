"""What every ``planner`` subcommand shares: the console, the progress bar, the error exit, the store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from planner.progress import ProgressCallback
from planner.store import PlanStore

console = Console(highlight=False)


@contextmanager
def progress_bar(description: str) -> Iterator[ProgressCallback]:
    """A rich progress bar; yields ``progress(fraction, message)`` for the core's callbacks."""
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task(description, total=1.0)

        def progress(fraction: float, message: str) -> None:
            bar.update(task, completed=min(max(fraction, 0.0), 1.0), description=message[:60])

        yield progress


def open_store(url: str) -> PlanStore:
    """The plan store at ``url``; a bad URL or an unreachable server exits 1 saying which, not a traceback."""
    try:
        return PlanStore(url)
    except Exception as exc:
        console.print(f"[red]cannot open the plan store at {url}: {exc}[/]", soft_wrap=True)
        raise typer.Exit(code=1) from exc


def fail(exc: Exception, code: int = 1) -> typer.Exit:
    """Print ``exc`` in red and return the ``typer.Exit`` to raise (``raise fail(exc) from exc``)."""
    console.print(f"[red]{exc}[/]", soft_wrap=True)
    return typer.Exit(code=code)
