"""Money helpers: dollars to integer cents exactly, one display formatter, and splits that sum exactly.

Money is held as integer cents (``int`` / ``int64``). Conversions from dollars go through
:class:`decimal.Decimal` with round-half-up, never binary floats.
"""

from __future__ import annotations

import numbers
from decimal import ROUND_HALF_UP, Decimal

import numpy as np


def usd_to_cents(amount_usd: float | str | Decimal) -> int:
    """Dollars to whole cents, rounding half up (``12.345`` -> ``1235``)."""
    return int((Decimal(str(amount_usd)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def cents_to_usd(cents: int) -> Decimal:
    """Whole cents to an exact Decimal dollar amount (``1235`` -> ``Decimal('12.35')``)."""
    return (Decimal(int(cents)) / 100).quantize(Decimal("0.01"))


#: Divisor of each ``scale`` letter of :func:`format_usd`.
SCALE_DIVISORS = {"": 1, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}


def format_usd(
    cents: int | float | None = None,
    *,
    usd: float | Decimal | None = None,
    decimals: int | None = 2,
    scale: str = "",
    grouping: bool = True,
    sign_before_symbol: bool = False,
) -> str:
    """Money for display, the one formatter of the CLI, the app, messages and statements.

    Parameters
    ----------
    cents : int or float, optional
        The amount in cents (the planner's money). Whole cents are converted exactly
        (:func:`cents_to_usd`); other values (sums held as floats, NaN) as ``cents / 100``.
    usd : float or Decimal, optional
        The amount in dollars instead (forecasts, capacity, measures such as ``tam_usd``).
        Give exactly one of ``cents`` and ``usd``.
    decimals : int or None
        Digits after the point (``2``: cents, ``0``: whole dollars). ``None`` keeps the
        amount's own digits: a ``Decimal('500')`` from a comp plan file shows as ``$500``.
    scale : str
        ``""`` (dollars), or a unit ``"K"``, ``"M"`` or ``"B"``, optionally after a space:
        the amount is divided by a thousand, a million or a billion and ``scale`` is
        appended as written (``"M"``: ``'$731.1M'``, ``" M"``: ``'$731.1 M'``).
    grouping : bool
        Thousands separators (``'$1,234.56'``); False gives ``'$1234.56'``.
    sign_before_symbol : bool
        Put a minus sign before the dollar sign (``'-$5.00'``, statements) instead of
        after it (``'$-5.00'``, Python's format).

    Returns
    -------
    str
        The amount, e.g. ``'$1,234.56'``.

    Examples
    --------
    >>> format_usd(123456)
    '$1,234.56'
    >>> format_usd(123456, decimals=0)
    '$1,235'
    >>> format_usd(73_110_000_000, decimals=1, scale="M")
    '$731.1M'
    >>> format_usd(usd=1_250_000.0, decimals=1, scale=" M")
    '$1.2 M'
    >>> format_usd(usd=Decimal("500"), decimals=None)
    '$500'
    >>> format_usd(-500, sign_before_symbol=True)
    '-$5.00'
    """
    if (cents is None) == (usd is None):
        raise ValueError("give the amount either in cents or in usd, not both or neither")
    unit = scale.strip()
    if unit not in SCALE_DIVISORS:
        raise ValueError(f"scale '{scale}' is not one of {', '.join(repr(s) for s in SCALE_DIVISORS)}")
    divisor = SCALE_DIVISORS[unit]
    amount: float | Decimal
    if cents is not None:
        exact = divisor == 1 and isinstance(cents, numbers.Integral)
        amount = cents_to_usd(int(cents)) if exact else cents / (100 * divisor)
    else:
        amount = usd / divisor if divisor != 1 else usd
    spec = ("," if grouping else "") + ("" if decimals is None else f".{decimals}f")
    text = format(amount, spec)
    if sign_before_symbol and text.startswith("-"):
        return f"-${text[1:]}{scale}"
    return f"${text}{scale}"


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
