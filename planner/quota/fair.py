r"""Shares that make quotas fair by construction: the blend weight and a size correction, fitted.

The allocation's share of territory :math:`i` is a blend of its potential and forecast
shares, tilted by size:

.. math::

    s_i(w, \gamma) \propto \Big(w \frac{P_i}{\sum P} + (1 - w) \frac{F_i}{\sum F}\Big)
    \Big(\frac{P_i}{\tilde P}\Big)^{\gamma}

(:math:`\tilde P` the median potential). Quotas are :math:`s` water-filled to the total
within the guardrails (:func:`planner.quota.allocation.water_fill`). The two knobs pull
the fairness figures apart: a pure potential blend (:math:`w = 1`) makes quota per
potential even (Gini 0) but leaves expected attainment :math:`F_i / q_i` following
:math:`F_i / P_i`, which in most books rises with size (big territories are better
penetrated, so their quotas are easy); a pure forecast blend evens attainment but not
quota per potential; :math:`\gamma > 0` asks big territories for a little more than
their share. :func:`fit_shares` searches a grid of :math:`(w, \gamma)` (:math:`w` in
steps of 0.05, :math:`\gamma` in steps of 0.025 within :math:`\pm 0.5`) for the point
closest to the user's blend (:math:`|w - w_0| + |\gamma|`) whose quotas meet all three
targets of :class:`planner.quota.fairness.HealthyRanges`: Spearman(quota, potential),
Gini(quota / potential) and |Spearman(expected attainment, potential)|. Ties go to the
point with the most room to the targets. The search runs on full-year quotas; when ramp and
relief then push the final quotas out of a range, it runs again on the final quotas, so the
fairness report shows what was fitted (and a leave in one territory changes nobody else's
fit while the ranges hold). When no point meets them all, it keeps the
user's blend, names the targets missed at the point that misses least, and says
whether the guardrails are the reason (the same search without guardrails succeeds).

A grid rather than a solver: the figures are rank statistics and a Gini of ratios (not
smooth), the grid has 861 points, each a water fill and three statistics (under a
millisecond for 500 territories), and the answer is explainable as two numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.quota.fairness import HealthyRanges, gini

BLEND_STEP = 0.05
TILT_STEP = 0.025
TILT_MAX = 0.5


@dataclass(frozen=True)
class FairFit:
    """The blend weight and size correction chosen, and what they achieve.

    Attributes
    ----------
    potential_weight_frac : float
        Weight of the potential share in the blend (the user's, or the fitted one).
    size_tilt : float
        The size correction (gamma in the module docstring; 0: none).
    quota_potential_spearman, quota_per_potential_gini, attainment_size_spearman : float
        The three figures of the quotas at that point (point forecast attainment).
    met : bool
        Whether all three targets are met.
    missed : tuple of str
        The targets missed (empty when met).
    guardrails_bind : bool
        True when the targets could be met without the guardrails but not with them.
    """

    potential_weight_frac: float
    size_tilt: float
    quota_potential_spearman: float
    quota_per_potential_gini: float
    attainment_size_spearman: float
    met: bool
    missed: tuple[str, ...] = ()
    guardrails_bind: bool = False

    def describe(self) -> str:
        """One sentence for notes and reasons."""
        figures = (
            f"Spearman(quota, potential) {self.quota_potential_spearman:.3f}, "
            f"Gini(quota/potential) {self.quota_per_potential_gini:.4f}, "
            f"Spearman(attainment, potential) {self.attainment_size_spearman:+.3f}"
        )
        if self.met:
            return (
                f"fair by construction: potential weight {self.potential_weight_frac:.2f}, size tilt "
                f"{self.size_tilt:+.3f} ({figures})"
            )
        cause = (
            "the guardrails allow no fair quotas" if self.guardrails_bind else "no blend meets every target"
        )
        return f"{cause}: {', '.join(self.missed)} missed at best ({figures})"


def ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (ties share their mean rank), as :func:`scipy.stats.rankdata` gives."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    starts = np.concatenate([[True], sorted_values[1:] != sorted_values[:-1]])
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    counts = np.diff(np.append(first, len(values)))
    mean_rank = first + (counts + 1) / 2
    out = np.empty(len(values))
    out[order] = mean_rank[group]
    return out


def rank_correlation(x_ranks: np.ndarray, y: np.ndarray) -> float:
    """Spearman correlation from precomputed ranks of x and raw y; 0 when either is constant."""
    y_ranks = ranks(y)
    x_dev, y_dev = x_ranks - x_ranks.mean(), y_ranks - y_ranks.mean()
    denominator = np.sqrt((x_dev**2).sum() * (y_dev**2).sum())
    return float((x_dev * y_dev).sum() / denominator) if denominator > 0 else 0.0


def fit_shares(
    potential: np.ndarray,
    forecast: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    total: float,
    potential_weight_frac: float,
    ranges: HealthyRanges,
    capacity: np.ndarray | None = None,
    redistribute: bool = True,
) -> tuple[np.ndarray, FairFit]:
    """Shares meeting the fairness targets, closest to the user's blend (see the module docstring).

    Parameters
    ----------
    potential, forecast : numpy.ndarray
        Potential and forecast per territory (> 0 where they count).
    lower, upper : numpy.ndarray
        Guardrail bounds on each full-year quota (cents; ``upper`` may be ``inf``).
    total : float
        The quota total the shares are water-filled to.
    potential_weight_frac : float
        The user's blend weight of potential.
    ranges : HealthyRanges
        The targets.
    capacity : numpy.ndarray, optional
        Ramp x (1 - relief) per territory: the figures are those of the final quotas, after
        ramp and relief (carried by the others when ``redistribute``, else by the company).

    Returns
    -------
    shares : numpy.ndarray
        Shares summing to 1 (the chosen point's, or the user's blend when none is fair).
    fit : FairFit
    """
    from planner.quota.allocation import water_fill

    counted = (potential > 0) & (forecast > 0)
    potential_ranks = ranks(potential[counted])
    scale = np.median(potential[counted]) if counted.any() else 1.0
    blends = np.round(np.arange(0, 1 + 1e-9, BLEND_STEP), 10)
    tilts = np.round(np.arange(-TILT_MAX, TILT_MAX + 1e-9, TILT_STEP), 10)
    tilt_factor = {
        g: np.where(potential > 0, (np.maximum(potential, 1e-300) / scale) ** g, 0.0) for g in tilts
    }
    p_share = potential / potential.sum() if potential.sum() > 0 else np.zeros_like(potential)
    f_share = forecast / forecast.sum() if forecast.sum() > 0 else np.zeros_like(forecast)

    def shares_at(w: float, g: float) -> np.ndarray:
        s = (w * p_share + (1 - w) * f_share) * tilt_factor[g]
        return s / s.sum() if s.sum() > 0 else s

    def figures(q: np.ndarray) -> tuple[float, float, float]:
        quota, pot, fc = q[counted], potential[counted], forecast[counted]
        return (
            rank_correlation(potential_ranks, quota),
            gini(quota / pot),
            rank_correlation(potential_ranks, fc / np.maximum(quota, 1e-300)),
        )

    def slack(fig: tuple[float, float, float]) -> tuple[float, float, float]:
        spearman, g, attainment = fig
        return (
            spearman - ranges.quota_potential_spearman_min,
            ranges.quota_per_potential_gini_max - g,
            ranges.attainment_size_spearman_max - abs(attainment),
        )

    def full_year(shares: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        return water_fill(shares, low, high, total)

    def final(shares: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """The quotas the allocation ends with for these shares (after ramp and relief)."""
        if capacity is None:
            return full_year(shares, low, high)
        if not redistribute:
            return capacity * full_year(shares, low, high)
        top = np.floor(capacity * high)
        return water_fill(capacity * shares, np.minimum(np.ceil(capacity * low), top), top, total)

    def search(low: np.ndarray, high: np.ndarray, quotas=full_year) -> tuple[tuple, tuple] | None:
        best = None
        for w in blends:
            for g in tilts:
                fig = figures(quotas(shares_at(w, g), low, high))
                room = slack(fig)
                if min(room) < 0:
                    continue
                key = (round(abs(w - potential_weight_frac) + abs(g), 10), -min(room))
                if best is None or key < best[0]:
                    best = (key, (w, g, fig))
        return best

    found = search(lower, upper)
    if found is not None and capacity is not None:
        w, g, _ = found[1]
        if min(slack(figures(final(shares_at(w, g), lower, upper)))) < 0:
            found = search(lower, upper, final) or found
    if found is not None:
        w, g, _ = found[1]
        fig = figures(final(shares_at(w, g), lower, upper))  # the figures of the quotas as allocated
        return shares_at(w, g), FairFit(w, g, *fig, met=min(slack(fig)) >= 0)
    own = shares_at(potential_weight_frac, 0.0)
    fig = figures(final(own, lower, upper))
    names = (
        f"Spearman(quota, potential) >= {ranges.quota_potential_spearman_min}",
        f"Gini(quota/potential) <= {ranges.quota_per_potential_gini_max}",
        f"|Spearman(attainment, potential)| <= {ranges.attainment_size_spearman_max}",
    )
    missed = tuple(name for name, room in zip(names, slack(fig), strict=True) if room < 0)
    unbounded = search(np.zeros_like(lower), np.full_like(upper, np.inf))
    return own, FairFit(
        potential_weight_frac, 0.0, *fig, met=False, missed=missed, guardrails_bind=unbounded is not None
    )
