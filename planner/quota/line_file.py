"""A quota lines file: one row per line of a version, each with its own target and options.

Columns (CSV; only ``line`` and ``target`` are required, a blank cell keeps the default):

- ``line``: the line's name, e.g. ``new_business``;
- ``target``: the line's target for the year, in dollars, or in whole units for a count line;
- ``unit``: ``usd`` (default) or a count noun such as ``deals``;
- ``potential``: the unit measure its potential comes from (default ``tam_usd``);
- ``source``: the bookings ``line`` value it learns from (default: its name; ``*`` = every booking);
- ``growth``, ``guardrail``, ``attainment_goal``, ``basis``: as the ``planner quota allocate``
  options of the same names (fractions; ``guardrail`` ``none`` switches it off);
- ``frequency``: phasing, ``month`` or ``quarter``.

Example::

    line,unit,target,potential,source,guardrail
    new_business,usd,90000000,tam_usd,,0.25
    renewal,usd,640000000,tam_usd,,0.10
    new_logos,deals,2900,accounts,new_business,
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from planner.data.tables import read_csv_table, sheet_row
from planner.errors import InputError, PlannerError, Problem
from planner.plans.quota_lines import QuotaLine, check_lines

REQUIRED = ("line", "target")
FRACTIONS = ("growth", "guardrail", "attainment_goal", "basis")
TEXT = ("unit", "potential", "source", "frequency")


@dataclass(frozen=True)
class LineSpec:
    """One row of a lines file: the line, its target (hundredths of its unit) and the options it sets."""

    line: QuotaLine
    target_cents: int
    options: dict[str, float | str | None] = field(default_factory=dict)


def read_lines_file(path: str | Path) -> list[LineSpec]:
    """Read a quota lines CSV (see the module doc).

    Raises :class:`InputError` naming every bad row and column.
    """
    path = Path(path)
    frame, problems = read_csv_table(path, REQUIRED)
    if frame is None:
        raise InputError(problems)
    unknown = [c for c in frame.columns if c not in (*REQUIRED, *FRACTIONS, *TEXT)]
    if unknown:
        raise InputError(
            [
                Problem(
                    path.name,
                    f"unknown column(s) {unknown}",
                    f"use {', '.join((*REQUIRED, *TEXT, *FRACTIONS))}",
                )
            ]
        )
    specs = []
    for position, row in enumerate(frame.to_dict("records")):
        cells = {k: str(v).strip() for k, v in row.items()}

        def problem(message: str, fix: str, column: str, position: int = position) -> None:
            problems.append(Problem(path.name, message, fix, row=sheet_row(position), column=column))

        try:
            line = QuotaLine(
                cells["line"],
                cells.get("unit") or "usd",
                cells.get("potential") or "tam_usd",
                cells.get("source") or None,
            )
        except PlannerError as exc:
            problem(str(exc), "fix the line's name or unit", "line" if "name" in str(exc) else "unit")
            continue
        try:
            target = line.parse(cells["target"])
            if target <= 0:
                raise PlannerError(f"line {line.name}: the target must be positive")
        except PlannerError as exc:
            problem(str(exc), f"give the year's target in {line.unit}, e.g. 1000000", "target")
            continue
        options: dict[str, float | str | None] = {}
        for column in FRACTIONS:
            text = cells.get(column, "")
            if not text:
                continue
            if column == "guardrail" and text.lower() == "none":
                options[column] = None
                continue
            try:
                options[column] = float(text)
            except ValueError:
                problem(f"'{text}' is not a number", "give a fraction, e.g. 0.25", column)
        if cells.get("frequency"):
            options["frequency"] = cells["frequency"]
        specs.append(LineSpec(line, target, options))
    if problems:
        raise InputError(problems)
    try:
        check_lines([spec.line for spec in specs])
    except PlannerError as exc:
        raise InputError([Problem(path.name, str(exc), "give each line one row", column="line")]) from None
    return specs
