"""What every ``planner`` subcommand shares: the console, the progress bar, the error exit, the store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from planner.errors import PermissionDenied
from planner.progress import ProgressCallback
from planner.store import PlanStore

#: The ``--db`` option of the plan-store commands.
DbOption = Annotated[
    str,
    typer.Option(
        "--db", envvar="TERRAIN_DB_URL", help="Store URL: sqlite:///file.db or postgresql+psycopg://..."
    ),
]
#: The ``--user`` option: who acts on a local SQLite store (on PostgreSQL the login decides).
UserOption = Annotated[
    str, typer.Option("--user", envvar="TERRAIN_USER", help="Acting user id (roles apply).")
]

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


def acting(store: PlanStore, user: str | None) -> str | None:
    """Who a command acts as: on PostgreSQL the user mapped to the database login; on SQLite ``--user``.

    On a shared PostgreSQL database the login proves who acts (an admin maps logins to users
    with ``planner quota add-user --db-login``); ``--user``/``TERRAIN_USER`` name the acting user
    for the local SQLite file only, and contradicting the login is refused.
    """
    if store.engine.dialect.name != "postgresql":
        return user
    login, mapped = store.login_user()
    if mapped is None:
        if not store.users():
            return None  # an empty store: the first user added is the admin
        raise PermissionDenied(
            f"the database login '{login}' is not a plan-store user; an admin maps it: "
            f"planner quota add-user USER_ID NAME --role ... --db-login {login}"
        )
    if user and user != mapped.user_id:
        raise PermissionDenied(
            f"on a shared database you act as your database login ('{login}' is user '{mapped.user_id}'), "
            f"not as '{user}': --user and TERRAIN_USER name the acting user for a local SQLite file only"
        )
    return mapped.user_id


def fail(exc: Exception, code: int = 1) -> typer.Exit:
    """Print ``exc`` in red and return the ``typer.Exit`` to raise (``raise fail(exc) from exc``)."""
    console.print(f"[red]{exc}[/]", soft_wrap=True)
    return typer.Exit(code=code)
