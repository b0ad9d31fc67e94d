"""How fair a set of quotas is: does quota follow potential, and can each territory make it.

:func:`fairness_report` measures, over territories with a quota and a potential:

- **quota vs potential**: Spearman rank correlation of quota with potential (TAM);
  fair quotas rise with the opportunity (healthy: at least 0.8).
- **evenness**: Gini coefficient of quota per dollar of potential,
  ``G = sum_i sum_j |x_i - x_j| / (2 n^2 mean(x))`` (0 = every territory asked for the
  same share of its potential; healthy: at most 0.10).
- **expected attainment** per territory: expected bookings / quota. The share of
  territories expected to reach 100% (healthy: about 60-70% of reps at or above quota)
  and the share expected to reach a threshold, 50% by default (healthy: 90% or more).
  With ``forecast_cv_frac`` the forecast is treated as uncertain: bookings are lognormal
  with the forecast as mean and that coefficient of variation, and the shares are the
  mean probabilities of reaching quota (threshold); without it, point forecasts are
  counted.
- **attainment vs size**: Spearman correlation of expected attainment with potential;
  fair quotas show none (healthy: |rho| at most 0.2). A positive value means big
  territories get easy quotas.

Spearman correlations come from :func:`scipy.stats.spearmanr` (average ranks for ties).
When either side is constant (e.g. every territory expects the same attainment) no
association exists and the correlation is reported as 0. Territories with a zero quota
(attainment undefined) or zero potential (quota per potential undefined) are left out
of the metrics that need them, and a note says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from planner.errors import PlannerError


@dataclass(frozen=True)
class HealthyRanges:
    """Rules of thumb a fair quota set meets (all fractions).

    Parameters
    ----------
    quota_potential_spearman_min : float
        Lowest acceptable rank correlation of quota with potential.
    quota_per_potential_gini_max : float
        Highest acceptable Gini of quota per dollar of potential.
    at_or_above_quota_frac : tuple of float
        Healthy range of the share of territories expected at or above 100%.
    above_threshold_frac_min : float
        Lowest acceptable share of territories expected above the threshold.
    attainment_size_spearman_max : float
        Largest acceptable |rank correlation| of expected attainment with potential.
    """

    quota_potential_spearman_min: float = 0.8
    quota_per_potential_gini_max: float = 0.10
    at_or_above_quota_frac: tuple[float, float] = (0.6, 0.7)
    above_threshold_frac_min: float = 0.9
    attainment_size_spearman_max: float = 0.2


@dataclass(frozen=True)
class FairnessCheck:
    """One metric against its healthy range.

    Attributes
    ----------
    name : str
        What is checked, in words.
    value : float
        The measured value.
    healthy : str
        The healthy range, in words.
    met : bool
        Whether the value is in the healthy range.
    """

    name: str
    value: float
    healthy: str
    met: bool

    def __str__(self) -> str:
        return f"{'OK ' if self.met else 'NO '} {self.name}: {self.value:.3f} (healthy: {self.healthy})"


@dataclass(frozen=True)
class FairnessReport:
    """Fairness metrics of a quota set.

    Attributes
    ----------
    table : pandas.DataFrame
        Index ``territory_id``: ``quota_cents``, ``potential_usd``,
        ``expected_bookings_usd``, ``quota_per_potential`` (quota USD per potential USD),
        ``attainment_frac`` (expected bookings / quota) and ``reach_quota_frac`` (chance
        of reaching 100%: 0/1 for point forecasts).
    quota_potential_spearman : float
        Spearman rho of quota vs potential.
    quota_per_potential_gini : float
        Gini of quota per potential.
    at_or_above_quota_frac : float
        Share of territories expected to reach 100% of quota.
    above_threshold_frac : float
        Share expected to reach ``threshold_frac`` of quota.
    threshold_frac : float
        The threshold (e.g. 0.5).
    attainment_size_spearman : float
        Spearman rho of expected attainment vs potential.
    verdict : tuple of FairnessCheck
        Each metric against its healthy range.
    notes : tuple of str
        Territories left out of a metric, and why.
    """

    table: pd.DataFrame
    quota_potential_spearman: float
    quota_per_potential_gini: float
    at_or_above_quota_frac: float
    above_threshold_frac: float
    threshold_frac: float
    attainment_size_spearman: float
    verdict: tuple[FairnessCheck, ...]
    notes: tuple[str, ...] = ()

    @property
    def healthy(self) -> bool:
        """True when every check is met."""
        return all(check.met for check in self.verdict)

    def summary(self) -> dict[str, float]:
        """The headline metrics as a flat dict (for tables and JSON)."""
        return {
            "quota_potential_spearman": self.quota_potential_spearman,
            "quota_per_potential_gini": self.quota_per_potential_gini,
            "at_or_above_quota_frac": self.at_or_above_quota_frac,
            "above_threshold_frac": self.above_threshold_frac,
            "attainment_size_spearman": self.attainment_size_spearman,
        }


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values: 0 when all are equal, towards 1 when one holds all.

    Examples
    --------
    >>> gini(np.array([1.0, 2.0, 3.0, 4.0]))
    0.25
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = len(x)
    if n == 0 or x.sum() == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return max(0.0, float(2 * (ranks * x).sum() / (n * x.sum()) - (n + 1) / n))  # no -1e-16 for equal x


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation; 0 when fewer than 2 values or either side is constant."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    return float(stats.spearmanr(x, y).statistic)


def fairness_report(
    quotas_cents: pd.Series,
    potential_usd: pd.Series,
    expected_bookings_usd: pd.Series,
    *,
    threshold_frac: float = 0.5,
    forecast_cv_frac: float | None = None,
    ranges: HealthyRanges | None = None,
) -> FairnessReport:
    """Measure how fair quotas are against potential and expected bookings (see module docstring).

    Parameters
    ----------
    quotas_cents : pandas.Series
        Annual quota per territory, whole cents, indexed by ``territory_id``.
    potential_usd : pandas.Series
        Potential (TAM) per territory, USD, same index.
    expected_bookings_usd : pandas.Series
        Expected bookings per territory for the quota year (the forecast), USD.
    threshold_frac : float
        Attainment threshold for the "above threshold" share (0.5 = 50% of quota).
    forecast_cv_frac : float, optional
        Coefficient of variation of a territory's bookings around its forecast; None
        counts point forecasts.
    ranges : HealthyRanges, optional
        Healthy ranges for the verdict; the defaults in :class:`HealthyRanges` when None.

    Returns
    -------
    FairnessReport

    Examples
    --------
    >>> ids = pd.Index(["A", "B"], name="territory_id")
    >>> report = fairness_report(
    ...     pd.Series([100_00, 300_00], index=ids),
    ...     pd.Series([1000.0, 3000.0], index=ids),
    ...     pd.Series([120.0, 240.0], index=ids),
    ... )
    >>> report.table["attainment_frac"].tolist(), report.at_or_above_quota_frac
    ([1.2, 0.8], 0.5)
    """
    ranges = ranges or HealthyRanges()
    if not 0 < threshold_frac <= 1:
        raise PlannerError(f"threshold_frac is {threshold_frac}; give a fraction in (0, 1], e.g. 0.5")
    if forecast_cv_frac is not None and not forecast_cv_frac > 0:
        raise PlannerError(f"forecast_cv_frac is {forecast_cv_frac}; give a fraction > 0, e.g. 0.2, or None")
    table = _align(quotas_cents, potential_usd, expected_bookings_usd)
    quota_usd = table["quota_cents"].to_numpy(dtype=np.float64) / 100
    potential = table["potential_usd"].to_numpy()
    expected = table["expected_bookings_usd"].to_numpy()
    has_quota, has_potential = quota_usd > 0, potential > 0
    notes = []
    if (~has_quota).any():
        notes.append(f"{int((~has_quota).sum())} territories with a zero quota are left out of attainment")
    if (~has_potential).any():
        notes.append(
            f"{int((~has_potential).sum())} territories with zero potential are left out of "
            "quota per potential"
        )
    table["quota_per_potential"] = np.divide(
        quota_usd, potential, out=np.full(len(table), np.nan), where=has_potential
    )
    table["attainment_frac"] = np.divide(
        expected, quota_usd, out=np.full(len(table), np.nan), where=has_quota
    )
    table["reach_quota_frac"] = reach_probability(expected, quota_usd, 1.0, forecast_cv_frac)
    above = reach_probability(expected, quota_usd, threshold_frac, forecast_cv_frac)
    attainment = table["attainment_frac"].to_numpy()
    report_values = {
        "quota_potential_spearman": spearman(quota_usd, potential),
        "quota_per_potential_gini": gini(table["quota_per_potential"].to_numpy()[has_potential]),
        "at_or_above_quota_frac": float(table["reach_quota_frac"].to_numpy()[has_quota].mean())
        if has_quota.any()
        else 0.0,
        "above_threshold_frac": float(above[has_quota].mean()) if has_quota.any() else 0.0,
        "attainment_size_spearman": spearman(attainment[has_quota], potential[has_quota]),
    }
    return FairnessReport(
        table=table,
        threshold_frac=threshold_frac,
        verdict=_verdict(report_values, threshold_frac, ranges),
        notes=tuple(notes),
        **report_values,
    )


def _align(
    quotas_cents: pd.Series, potential_usd: pd.Series, expected_bookings_usd: pd.Series
) -> pd.DataFrame:
    series = {
        "quota_cents": quotas_cents,
        "potential_usd": potential_usd,
        "expected_bookings_usd": expected_bookings_usd,
    }
    ids = pd.Index(quotas_cents.index.astype(str), name="territory_id")
    table = pd.DataFrame(index=ids)
    for name, values in series.items():
        given = pd.Series(values.to_numpy(), index=values.index.astype(str))
        absent = ids.difference(given.index)
        if len(absent):
            raise PlannerError(f"{name} lacks territories {absent[:10].tolist()}; give a value for each")
        column = pd.to_numeric(given.reindex(ids), errors="coerce").astype(np.float64)
        if column.isna().any() or (column < 0).any() or np.isinf(column).any():
            bad = column[column.isna() | (column < 0) | np.isinf(column)].head(5).to_dict()
            raise PlannerError(f"{name} must be finite and >= 0; got {bad}")
        table[name] = column
    table["quota_cents"] = table["quota_cents"].astype(np.int64)
    return table


def reach_probability(
    expected: np.ndarray, quota_usd: np.ndarray, level_frac: float, cv_frac: float | None
) -> np.ndarray:
    """P(bookings >= level x quota): 0/1 for point forecasts, lognormal tail with a CV."""
    goal = level_frac * quota_usd
    if cv_frac is None:
        return (expected >= goal).astype(np.float64)
    sigma = np.sqrt(np.log1p(cv_frac**2))
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = np.log(expected) - sigma**2 / 2
        z = (np.log(goal) - mu) / sigma
    return np.where(expected > 0, stats.norm.sf(z), (goal <= 0).astype(np.float64))


def _verdict(
    values: dict[str, float], threshold_frac: float, ranges: HealthyRanges
) -> tuple[FairnessCheck, ...]:
    low, high = ranges.at_or_above_quota_frac
    return (
        FairnessCheck(
            "quota rises with potential (Spearman)",
            values["quota_potential_spearman"],
            f">= {ranges.quota_potential_spearman_min:g}",
            values["quota_potential_spearman"] >= ranges.quota_potential_spearman_min,
        ),
        FairnessCheck(
            "quota per potential is even (Gini)",
            values["quota_per_potential_gini"],
            f"<= {ranges.quota_per_potential_gini_max:g}",
            values["quota_per_potential_gini"] <= ranges.quota_per_potential_gini_max,
        ),
        FairnessCheck(
            "territories expected at or above quota",
            values["at_or_above_quota_frac"],
            f"{low:.0%} to {high:.0%}",
            low <= values["at_or_above_quota_frac"] <= high,
        ),
        FairnessCheck(
            f"territories expected above {threshold_frac:.0%} of quota",
            values["above_threshold_frac"],
            f">= {ranges.above_threshold_frac_min:.0%}",
            values["above_threshold_frac"] >= ranges.above_threshold_frac_min,
        ),
        FairnessCheck(
            "attainment independent of territory size (|Spearman|)",
            values["attainment_size_spearman"],
            f"<= {ranges.attainment_size_spearman_max:g}",
            abs(values["attainment_size_spearman"]) <= ranges.attainment_size_spearman_max,
        ),
    )
