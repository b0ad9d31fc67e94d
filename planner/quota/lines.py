"""A quota line's view of a data set, and whole units for count lines (:mod:`planner.plans.quota_lines`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from planner.data.dataset import Dataset
from planner.errors import PlannerError
from planner.money import round_to_total
from planner.plans.quota_lines import ALL_BOOKINGS, HUNDREDTHS, QuotaLine


def line_dataset(line: QuotaLine, dataset: Dataset) -> Dataset:
    """The data set as this line sees it: its bookings only, each counted as 1 for a count line."""
    if line.potential not in dataset.measures:
        raise PlannerError(
            f"line {line.name}: potential measure '{line.potential}' is not a numeric unit column; "
            f"use one of {', '.join(dataset.measures)}"
        )
    bookings = dataset.bookings
    source = line.source_of()
    if source != ALL_BOOKINGS:
        has_lines = "line" in bookings.columns
        lines = bookings["line"].astype(str) if has_lines else pd.Series("", index=bookings.index)
        bookings = bookings[lines == source]
        if bookings.empty:
            known = sorted(set(lines) - {"", "nan", "<NA>", "None"})
            offer = (
                f"the bookings' lines are {', '.join(known)}" if known else "the bookings have no line column"
            )
            raise PlannerError(
                f"line {line.name}: no bookings with line '{source}' ({offer}); give the line a source "
                f"that names one, or '{ALL_BOOKINGS}' for every booking"
            )
    if line.counts:
        bookings = bookings.assign(amount_usd=1.0)
    return replace(dataset, bookings=bookings)


def whole_units(hundredths: pd.Series, total: int) -> pd.Series:
    """Amounts in hundredths rounded to whole units (largest remainder) summing to ``total``.

    ``total`` is in hundredths and must be a multiple of 100.
    """
    if total % HUNDREDTHS:
        raise PlannerError(f"a count line's total must be whole units, not {total / HUNDREDTHS}")
    units = round_to_total(hundredths.to_numpy(np.float64) / HUNDREDTHS, total // HUNDREDTHS)
    return pd.Series(units.astype(np.int64) * HUNDREDTHS, index=hundredths.index, name=hundredths.name)
