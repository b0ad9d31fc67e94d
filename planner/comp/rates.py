"""Rate-table maths on integer cents, vectorised with numpy, exact to the cent.

A :class:`RateTable` is a component's tiers compiled to integers: rates in millionths
(``rate_pct`` with at most 4 decimals is an integer number of millionths), tier starts in
cents (basis ``amount``) or in millionths of quota (basis ``attainment``), payouts in
cents. :func:`earned_cents` evaluates the window-to-date earnings for many rows at once:

- ``marginal``: ``sum_i rate_i * clip(c - b_i, 0, b_(i+1) - b_i)`` (tax brackets);
- ``single``: ``rate_j * c`` where tier ``j`` is the highest tier reached by ``c_rate``
  (the window-to-date total at the month end: the rate is retroactive);
- ``interpolated``: the straight line between the points ``(b_i, payout_i)``, nothing
  before the first point and the last payout after the last one; nothing at all while
  nothing is credited (a first point that rounds to 0 cents, e.g. 8% of a 1-cent quota,
  does not pay for no sales).

Rounding rule: the exact value (a rational number of cents) is rounded to whole cents
half up, then the gate (nothing below ``threshold``) and the cap (at most ``cap_usd``)
apply. A deal's line is the difference of two such window-to-date values, so the lines
of a window always add up to its rounded total.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from planner.comp.plan_file import Component

MICRO = 1_000_000


def _micro(value: Decimal) -> int:
    """A percentage with at most 4 decimals as an integer number of millionths of 1."""
    return int(value * 10_000)


def _cents(value_usd: Decimal) -> int:
    return int((value_usd * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def round_half_up(numerator: np.ndarray, denominator: np.ndarray | int) -> np.ndarray:
    """``numerator / denominator`` rounded to the nearest integer, halves up (non-negative inputs)."""
    return (2 * numerator + denominator) // (2 * np.asarray(denominator))


@dataclass(frozen=True)
class RateTable:
    """A component's tiers as integers (see the module docstring)."""

    kind: str
    basis: str
    starts: tuple[int, ...]  # cents (amount) or millionths of quota (attainment)
    rates_micro: tuple[int, ...]  # rate of each tier in millionths (single, marginal)
    payouts_cents: tuple[int, ...]  # payout at each start (interpolated)
    threshold: int  # same unit as starts
    cap_cents: int | None

    @classmethod
    def from_component(cls, component: Component) -> RateTable:
        """Compile a validated component."""
        if component.basis == "amount":
            starts = tuple(_cents(t.start) for t in component.tiers)
            threshold = _cents(component.threshold)
        else:
            starts = tuple(_micro(t.start) for t in component.tiers)
            threshold = _micro(component.threshold)
        if component.kind == "interpolated":
            rates: tuple[int, ...] = ()
            payouts = tuple(_cents(t.payout_usd) for t in component.tiers)
        else:
            rates = tuple(_micro(r) for r in component.rates_pct())
            payouts = ()
        cap = _cents(component.cap_usd) if component.cap_usd is not None else None
        return cls(component.kind, component.basis, starts, rates, payouts, threshold, cap)

    def bounds_cents(self, quota_cents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Tier starts and the gate in cents for each row: shape ``(n, k)`` and ``(n,)``.

        For basis ``attainment`` a start of ``p`` % of a quota ``q`` is ``q * p / 100``
        rounded half up to the cent.
        """
        quota = np.asarray(quota_cents, dtype=np.int64)
        starts = np.asarray(self.starts, dtype=np.int64)
        if self.basis == "amount":
            return np.broadcast_to(starts, (len(quota), len(starts))), np.full(len(quota), self.threshold)
        bounds = round_half_up(quota[:, None] * starts[None, :], MICRO)
        return bounds, round_half_up(quota * self.threshold, MICRO)

    def tier_of(self, amount_cents: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        """Index of the highest tier whose start ``amount_cents`` has reached (-1: below the first)."""
        return (np.asarray(amount_cents)[:, None] >= bounds).sum(axis=1) - 1

    def earned_cents(
        self,
        cumulative_cents: np.ndarray,
        bounds: np.ndarray,
        gate_cents: np.ndarray,
        *,
        rate_at_cents: np.ndarray | None = None,
    ) -> np.ndarray:
        """Window-to-date earnings in whole cents for each row (rounded, gated, capped).

        Parameters
        ----------
        cumulative_cents : numpy.ndarray
            Window-to-date credited amount per row.
        bounds, gate_cents : numpy.ndarray
            From :meth:`bounds_cents`.
        rate_at_cents : numpy.ndarray, optional
            For ``single`` tables: the amount that picks the tier and opens the gate
            (the window-to-date total at the month end). Defaults to ``cumulative_cents``.
        """
        c = np.asarray(cumulative_cents, dtype=np.int64)
        at = c if rate_at_cents is None else np.asarray(rate_at_cents, dtype=np.int64)
        if self.kind == "marginal":
            rates = np.asarray(self.rates_micro, dtype=np.int64)
            upper = np.concatenate([bounds[:, 1:], np.full((len(c), 1), np.iinfo(np.int64).max)], axis=1)
            slices = np.clip(np.minimum(c[:, None], upper) - bounds, 0, None)
            value = round_half_up((slices * rates).sum(axis=1), MICRO)
            gate_at = c
        elif self.kind == "single":
            rates = np.asarray(self.rates_micro, dtype=np.int64)
            tier = self.tier_of(at, bounds)
            value = round_half_up(c * rates[np.clip(tier, 0, None)], MICRO)
            gate_at = at
        else:
            value = self._interpolated(c, bounds)
            gate_at = c
        value = np.where(gate_at >= gate_cents, value, 0)
        if self.cap_cents is not None:
            value = np.minimum(value, self.cap_cents)
        return value.astype(np.int64)

    def _interpolated(self, c: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        payouts = np.asarray(self.payouts_cents, dtype=np.int64)
        k = len(payouts)
        tier = self.tier_of(c, bounds)
        inside = (tier >= 0) & (tier < k - 1)
        i = np.clip(tier, 0, k - 2)
        rows = np.arange(len(c))
        x0, x1 = bounds[rows, i], bounds[rows, i + 1]
        y0, y1 = payouts[i], payouts[i + 1]
        width = np.maximum(x1 - x0, 1)
        span = int(np.abs(payouts).max()) * max(int(np.abs(c).max(initial=0)), 1)
        if span < 2**61:
            value = round_half_up(y0 * width + (y1 - y0) * (c - x0), width)
        else:  # products too large for int64: exact Python integers
            obj = [
                (int(a) * int(w) + (int(b) - int(a)) * (int(v) - int(s)), int(w))
                for a, b, v, s, w in zip(y0, y1, c, x0, width, strict=True)
            ]
            value = np.array([(2 * n + d) // (2 * d) for n, d in obj], dtype=np.int64)
        value = np.where(inside, value, np.where(tier >= k - 1, payouts[-1], 0))
        return np.where(c > 0, value, 0).astype(np.int64)
