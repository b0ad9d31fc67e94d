"""Errors raised by the planner core.

Every error derives from :class:`PlannerError`. Input problems are collected as
:class:`Problem` records (file, row, column, what is wrong, how to fix it) and raised
together in one :class:`InputError`, so a user sees every problem in one run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class PlannerError(Exception):
    """Base class for every error the planner raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    Parameters
    ----------
    file : str
        File (or table) name the problem was found in.
    message : str
        What is wrong, with the offending value.
    fix : str
        What the user should do about it.
    row : int or None
        1-based data row (the header is row 0), or None when the problem is file-wide.
    column : str or None
        Column name, or None when the problem is not about one column.
    severity : {"error", "warning"}
        Warnings are repairs the loader made (and says so); errors stop the load.
    """

    file: str
    message: str
    fix: str
    row: int | None = None
    column: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{self.severity.upper()} {where}: {self.message}. Fix: {self.fix}"


class InputError(PlannerError):
    """One or more input files are invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = tuple(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        lines = [f"{len(errors)} problem(s) in the input:"] + [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class PlanError(PlannerError):
    """An alignment edit or plan operation is invalid (e.g. an unknown unit or territory)."""


class InfeasibleError(PlannerError):
    """The request cannot be met; ``constraint`` names what to relax and ``suggestion`` by how much."""

    def __init__(self, message: str, *, constraint: str, suggestion: str):
        self.constraint = constraint
        self.suggestion = suggestion
        super().__init__(f"{message}. Relax {constraint}: {suggestion}")


class PermissionDenied(PlannerError):
    """A user tried an action their role does not allow; the message names role, action and who may."""


class WorkflowError(PlannerError):
    """An illegal plan-version transition or an edit of a version whose status forbids it."""


class ConflictError(PlannerError):
    """Someone else saved first: the caller's copy is stale and must be reloaded (optimistic locking)."""
