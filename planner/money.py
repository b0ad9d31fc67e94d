"""Money helpers: dollars to integer cents exactly, and largest-remainder splits that sum exactly.

Money is held as integer cents (``int`` / ``int64``). Conversions from dollars go through
:class:`decimal.Decimal` with round-half-up, never binary floats.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np


def usd_to_cents(amount_usd: float | str | Decimal) -> int:
    """Dollars to whole cents, rounding half up (``12.345`` -> ``1235``)."""
    return int((Decimal(str(amount_usd)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def cents_to_usd(cents: int) -> Decimal:
    """Whole cents to an exact Decimal dollar amount (``1235`` -> ``Decimal('12.35')``)."""
    return (Decimal(int(cents)) / 100).quantize(Decimal("0.01"))


def format_usd(cents: int) -> str:
    """Cents as a dollar amount for messages, e.g. ``123456`` -> ``'$1,234.56'``."""
    return f"${cents_to_usd(cents):,.2f}"


def round_to_total(values: np.ndarray, totals: np.ndarray | int) -> np.ndarray:
    """Round non-negative amounts to integers that sum exactly to ``totals`` (largest remainder).

    Parameters
    ----------
    values : numpy.ndarray
        1-D amounts, or 2-D (one row per group, rounded row by row).
    totals : int or numpy.ndarray
        Integer total (per row for 2-D input); should be within a few units of the sum
        of ``values`` (any difference is spread evenly first).

    Returns
    -------
    numpy.ndarray
        int64 array shaped like ``values``. Each entry is the floor or the ceiling of its
        value; the missing units go to the largest fractional parts, ties to the
        earlier position.

    Examples
    --------
    >>> round_to_total(np.array([1.5, 1.5, 1.0]), 4).tolist()
    [2, 1, 1]
    """
    matrix = np.atleast_2d(np.asarray(values, dtype=np.float64))
    wanted = np.broadcast_to(np.asarray(totals, dtype=np.int64), (matrix.shape[0],))
    floors = np.floor(matrix)
    fractions = matrix - floors
    rounded = floors.astype(np.int64)
    missing = wanted - rounded.sum(axis=1)
    width = matrix.shape[1]
    even, rest = np.divmod(missing, width)
    rounded += even[:, None]
    order = np.argsort(-fractions, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(width), order.shape), axis=1)
    rounded += (ranks < rest[:, None]).astype(np.int64)
    return rounded.reshape(np.shape(values))


def split_cents(total_cents: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total_cents`` in proportion to ``weights`` into whole cents summing exactly to the total.

    Largest-remainder rounding (:func:`round_to_total`). All zero weights split evenly.
    Raises ``ValueError`` for a negative total or negative or non-finite weights.
    """
    weights = np.asarray(weights, dtype=float)
    if len(weights) == 0:
        raise ValueError("cannot split money over no parts")
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError("weights must be finite and non-negative")
    total = int(total_cents)
    if total < 0:
        raise ValueError(f"cannot split a negative amount ({total} cents)")
    if weights.sum() == 0:
        weights = np.ones_like(weights)
    return round_to_total(weights / weights.sum() * total, total)
