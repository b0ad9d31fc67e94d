"""The ``planner`` command line: one module per command group, wired together in :mod:`planner.cli.main`."""

from planner.cli.main import app

__all__ = ["app"]
