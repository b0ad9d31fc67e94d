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


def split_cents(total_cents: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total_cents`` in proportion to ``weights`` into whole cents summing exactly to the total.

    Largest-remainder (Hamilton) rounding: floor every share, then give the leftover cents
    one by one to the largest fractional remainders (ties to the earlier position). All
    zero weights split evenly. Raises ``ValueError`` for a negative total or negative or
    non-finite weights.
    """
    weights = np.asarray(weights, dtype=float)
    if len(weights) == 0:
        raise ValueError("cannot split money over no parts")
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError("weights must be finite and non-negative")
    if weights.sum() == 0:
        weights = np.ones_like(weights)
    total = int(total_cents)
    if total < 0:
        raise ValueError(f"cannot split a negative amount ({total} cents)")
    weight_sum = sum(Decimal(float(w)) for w in weights)
    exact = [Decimal(total) * Decimal(float(w)) / weight_sum for w in weights]
    floors = np.array([int(e.to_integral_value(rounding="ROUND_FLOOR")) for e in exact], dtype=np.int64)
    leftover = total - int(floors.sum())
    remainders = np.array([float(e - f) for e, f in zip(exact, floors, strict=True)])
    order = np.argsort(-remainders, kind="stable")
    floors[order[:leftover]] += 1
    return floors
