"""Quota lines: what each quota of a plan measures (revenue, or a count such as deals).

A version holds one or more lines per territory, e.g. ``new_business`` and ``renewal``, one
per product, or ``deals``. Each line has

- a **unit**: ``usd``, or a count noun (``deals``, ``meetings``) for a non-revenue line;
- a **potential** measure: the unit column its potential comes from (``tam_usd``,
  ``accounts``, any numeric column of the units);
- a **source**: the bookings that feed its history, forecast and seasonality, those whose
  ``line`` column equals the source (the line's name by default), or every booking when the
  source is ``*`` or when the default line ``bookings`` is asked of bookings without lines.
  A count line counts the source's bookings (each row is one deal).

Amounts are held in hundredths of the line's unit: cents for USD, hundredths of a deal for a
count line, so one integer column and one exact arithmetic serve every line. Count lines are
allocated and phased in whole units (multiples of 100 hundredths); :mod:`planner.quota.lines`
reads a line's bookings from a data set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from planner.errors import PlanError, PlannerError
from planner.money import format_usd

DEFAULT_LINE = "bookings"
USD = "usd"
ALL_BOOKINGS = "*"
HUNDREDTHS = 100  #: stored amounts per unit (cents per dollar, hundredths per deal)
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
UNIT_PATTERN = re.compile(r"^[a-z][a-z_ ]{0,31}$")


@dataclass(frozen=True)
class QuotaLine:
    """One quota line: its name, unit, potential measure and the bookings it learns from.

    Parameters
    ----------
    name : str
        Id of the line, e.g. ``"new_business"`` (letters, digits, ``_ . -``).
    unit : str
        ``"usd"`` for revenue, or a count noun such as ``"deals"`` (integer units).
    potential : str
        Unit measure the line's potential is taken from (``"tam_usd"``).
    source : str, optional
        Bookings ``line`` value that feeds it; ``"*"`` for every booking. Default: the name.
    """

    name: str = DEFAULT_LINE
    unit: str = USD
    potential: str = "tam_usd"
    source: str | None = None

    def __post_init__(self) -> None:
        if not NAME_PATTERN.match(self.name):
            raise PlannerError(
                f"quota line name {self.name!r} must be 1-64 letters, digits, '_', '.' or '-', "
                "e.g. new_business"
            )
        if not UNIT_PATTERN.match(self.unit):
            raise PlannerError(
                f"line {self.name}: unit {self.unit!r} must be 'usd' or a lower-case count noun "
                "such as 'deals'"
            )

    @property
    def counts(self) -> bool:
        """Whether the line counts something (integer units) instead of measuring revenue."""
        return self.unit != USD

    def format(self, hundredths: float) -> str:
        """An amount of this line as people read it: ``$1,234`` or ``12 deals``."""
        if not self.counts:
            return format_usd(round(hundredths))
        return f"{hundredths / HUNDREDTHS:,.0f} {self.unit}"

    def parse(self, amount: str | float) -> int:
        """An amount typed in the line's unit (dollars, or whole units) as stored hundredths."""
        what = "dollars" if not self.counts else f"whole {self.unit}"
        try:
            value = float(str(amount).replace(",", "").replace("$", "").strip())
        except ValueError:
            value = float("nan")
        if not np.isfinite(value):
            raise PlannerError(
                f"line {self.name}: '{amount}' is not an amount; give a number of {what}, e.g. 5000"
            )
        if value < 0:
            raise PlannerError(f"line {self.name}: {amount} must be 0 or more {what}")
        if self.counts and value != round(value):
            raise PlannerError(
                f"line {self.name}: counts whole {self.unit}, not {amount}; give a whole number"
            )
        return round(value * HUNDREDTHS)

    def record(self) -> dict[str, str]:
        """The line's definition as stored with a version."""
        return {"unit": self.unit, "potential": self.potential, "source": self.source_of()}

    def source_of(self) -> str:
        """The bookings ``line`` value this line learns from, or ``"*"`` for every booking."""
        if self.source is not None:
            return self.source
        return ALL_BOOKINGS if self.name == DEFAULT_LINE else self.name


def check_lines(lines: list[QuotaLine]) -> None:
    """Raise :class:`PlanError` when two lines share a name or no line is given."""
    if not lines:
        raise PlanError("a version needs at least one quota line")
    names = [line.name for line in lines]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise PlanError(f"quota line(s) {repeated} given twice; name every line once")
