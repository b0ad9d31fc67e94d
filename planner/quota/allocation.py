"""Allocate a company target to territories as quotas in whole cents that sum exactly to it.

The model, for territories ``i`` with potential ``P_i`` (TAM), forecast ``F_i``, last
year's quota ``L_i`` (optional), ramp ``r_i`` and relief ``v_i`` (both optional):

1. **Total.** ``T = round(target_cents * (1 + over_assignment_frac))`` (half-even, in
   ``Decimal``): over-assignment gives the field more quota than the company needs.
2. **Share.** ``s_i = w_p * P_i / sum(P) + w_f * F_i / sum(F)`` with user weights
   ``w_p + w_f = 1``. ``raw_cents`` is ``s_i * T`` rounded to whole cents. With fairness
   targets (the default, :class:`~planner.quota.fairness.HealthyRanges`) the blend weight
   and a size correction are fitted so the quotas meet them
   (:func:`planner.quota.fair.fit_shares`): the blend closest to the user's that does.
3. **Guardrails.** Each full-year quota must stay within ``[L_i (1 - g), L_i (1 + g)]``
   (``g = guardrail_frac``; rounded inwards to whole cents; territories without a last
   quota are unbounded). The quota is ``f_i = clip(lam * s_i, lo_i, hi_i)`` with the one
   ``lam`` that makes ``sum(f) = T``: clamping a territory and spreading its excess or
   shortfall over the unclamped ones in proportion to their share, until stable (water
   filling). ``sum(clip(lam * s, lo, hi))`` is piecewise linear and non-decreasing in
   ``lam``, so ``lam`` is found exactly by a binary search over its breakpoints and one
   linear solve, with no iteration tolerance. When ``T`` lies outside
   ``[sum(lo), sum(hi)]`` no quotas can meet both: :class:`~planner.errors.InfeasibleError`
   says by how much and the smallest guardrail that would work. ``guardrail_cents`` is
   ``f`` rounded.
4. **Ramp and relief.** A territory delivers ``c_i = r_i * (1 - v_i)`` of a full year
   (``ramp_frac``: share of full productivity its reps deliver over the year; ``relief_frac``:
   share of the year it is uncovered, for leave or a mid-year territory change, pro-rated).
   ``ramp_cents`` is ``c_i * f_i`` rounded.
5. **Final.** With ``relief_policy="redistribute"`` (default) what ramp and relief take off
   is carried by the other territories in proportion to their share, within their
   guardrails: ``q_i = clip(lam' * c_i * s_i, c_i * lo_i, c_i * hi_i)`` with ``sum(q) = T``
   (guardrails apply to the full-year equivalent ``q_i / c_i``). With ``"absorb"`` the
   company absorbs it: ``q_i = c_i * f_i`` and the quotas sum to less than ``T`` (a note
   says how much and the over-assignment that would cover it).
6. **Rounding.** Largest remainder (Hamilton): floor every quota, then give the missing
   cents one each to the largest fractional parts (ties to the earlier territory), so the
   quotas sum exactly to the total. Guardrail bounds are rounded inwards to whole cents,
   so rounding never crosses them (when a range holds no whole cent, e.g. a quota of a
   few cents, its lower bound is rounded down instead).

Last year's quota should be the full-year quota before ramp and relief. Money is held
in integer cents; floats appear only in the shares and the continuous solve before
rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

import numpy as np
import pandas as pd

from planner.errors import InfeasibleError, InputError, PlannerError, Problem
from planner.money import format_usd, round_to_total
from planner.quota.fair import FairFit, fit_shares
from planner.quota.fairness import HealthyRanges

TABLE_NAME = "territories"
REQUIRED_COLUMNS = ("potential_usd", "forecast_usd")
OPTIONAL_COLUMNS = ("last_quota_cents", "ramp_frac", "relief_frac")
RESULT_COLUMNS = (
    "share_frac",
    "raw_cents",
    "guardrail_cents",
    "ramp_cents",
    "quota_cents",
    "reason",
)
RelievePolicy = Literal["redistribute", "absorb"]
#: Shares below this fraction of the largest count as 0 (no territory carries 1e-12 of another's quota).
SIGNIFICANT_FRAC = 1e-12


@dataclass(frozen=True)
class QuotaOptions:
    """How a target is split into quotas.

    Parameters
    ----------
    potential_weight_frac : float
        Weight of the potential (TAM) share in the blend, 0-1.
    forecast_weight_frac : float
        Weight of the forecast (or trailing bookings) share; the two weights sum to 1.
    over_assignment_frac : float
        Quotas sum to ``target x (1 + over_assignment_frac)``; 0.10 assigns 10% more
        than the company target. At least -0.5.
    guardrail_frac : float or None
        Largest allowed change of a territory's full-year quota against last year's,
        as a fraction (0.25 = +/-25%); None switches guardrails off.
    relief_policy : {"redistribute", "absorb"}
        Who carries the quota that ramp and relief take off: the other territories
        (the total stays exact) or the company (the total shrinks).
    fairness : HealthyRanges or None
        Targets the quotas are built to meet (blend weight and size correction fitted,
        see :mod:`planner.quota.fair`); None keeps the user's blend as given.
    """

    potential_weight_frac: float = 0.5
    forecast_weight_frac: float = 0.5
    over_assignment_frac: float = 0.0
    guardrail_frac: float | None = 0.25
    relief_policy: RelievePolicy = "redistribute"
    fairness: HealthyRanges | None = field(default_factory=HealthyRanges)

    def __post_init__(self) -> None:
        weights = (self.potential_weight_frac, self.forecast_weight_frac)
        if any(not np.isfinite(w) or w < 0 for w in weights):
            raise PlannerError(f"quota weights {weights} must be finite and >= 0; e.g. 0.5 and 0.5")
        if abs(sum(weights) - 1.0) > 1e-9:
            raise PlannerError(
                f"potential_weight_frac + forecast_weight_frac = {sum(weights):g}; make them sum to 1"
            )
        if not np.isfinite(self.over_assignment_frac) or self.over_assignment_frac < -0.5:
            raise PlannerError(
                f"over_assignment_frac is {self.over_assignment_frac}; give a fraction >= -0.5, e.g. 0.10"
            )
        if self.guardrail_frac is not None and not 0 <= self.guardrail_frac < 10:
            raise PlannerError(
                f"guardrail_frac is {self.guardrail_frac}; give a fraction in [0, 10), e.g. 0.25, or None"
            )
        if self.relief_policy not in ("redistribute", "absorb"):
            raise PlannerError(f"relief_policy is {self.relief_policy!r}; use 'redistribute' or 'absorb'")


@dataclass(frozen=True)
class QuotaAllocation:
    """Quotas per territory and how they were reached.

    Attributes
    ----------
    table : pandas.DataFrame
        Index ``territory_id``; ``share_frac`` (blend share), ``raw_cents`` (share of the
        total), ``guardrail_cents`` (full-year quota within guardrails), ``ramp_cents``
        (after ramp and relief), ``quota_cents`` (final, int64) and ``reason`` (which
        rules bound, in words).
    total_cents : int
        Sum of ``quota_cents``: ``target x (1 + over_assignment)`` exactly, or less with
        ``relief_policy="absorb"``.
    target_cents : int
        The company target asked for.
    options : QuotaOptions
        The options used.
    notes : tuple of str
        What the rules did (clamped territories, redistributed relief, shortfalls).
    fit : FairFit or None
        The fitted blend and size correction and the fairness they reach (None when
        ``options.fairness`` is None).
    """

    table: pd.DataFrame
    total_cents: int
    target_cents: int
    options: QuotaOptions
    notes: tuple[str, ...] = ()
    fit: FairFit | None = None

    @property
    def quotas_cents(self) -> pd.Series:
        """Final quota per territory (int64 cents), indexed by territory_id."""
        return self.table["quota_cents"]


def water_fill(weights: np.ndarray, lower: np.ndarray, upper: np.ndarray, total: float) -> np.ndarray:
    """Amounts ``clip(lam * weights, lower, upper)`` summing to ``total``, for the one fitting ``lam``.

    Parameters
    ----------
    weights : numpy.ndarray
        Non-negative weights (shares).
    lower, upper : numpy.ndarray
        Bounds per entry (``upper`` may be ``inf``); ``lower <= upper``.
    total : float
        Required sum, within ``[sum(lower), sum(upper where weights > 0 else lower)]``.

    Returns
    -------
    numpy.ndarray
        The amounts (float). Entries with weight 0 sit at their lower bound.

    Notes
    -----
    ``g(lam) = sum(clip(lam * w, lower, upper))`` is piecewise linear and non-decreasing
    with breakpoints ``lower / w`` and ``upper / w``. A binary search finds the segment
    holding ``total``; inside it the free entries are known and ``lam`` is solved in
    closed form. This is the fixed point of "clamp, then spread the excess over the
    unclamped entries in proportion to their weight, repeat".
    """
    active = weights > 0
    w = weights[active]
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        breaks = np.concatenate([[0.0], lower[active] / w, upper[active] / w])
    breaks = np.unique(breaks[np.isfinite(breaks)])

    def total_at(lam: float) -> float:
        return float(np.clip(lam * weights, lower, upper).sum())

    low, high = 0, len(breaks) - 1  # invariant: total_at(breaks[low]) <= total
    if total_at(breaks[high]) <= total:
        low = high
    while high - low > 1:
        middle = (low + high) // 2
        if total_at(breaks[middle]) <= total:
            low = middle
        else:
            high = middle
    start = breaks[low]
    end = breaks[low + 1] if low + 1 < len(breaks) else np.inf
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        lo_break = np.where(active, lower / weights, np.inf)
        hi_break = np.where(active, upper / weights, np.inf)
    free = active & (lo_break <= start) & (hi_break >= end)
    fixed = np.where(hi_break <= start, upper, lower)
    slope = weights[free].sum()
    lam = (total - fixed[~free].sum()) / slope if slope > 0 else start
    return np.clip(lam * weights, lower, upper)


def allocate_quotas(
    target_cents: int,
    territories: pd.DataFrame,
    options: QuotaOptions,
    *,
    total_cents: int | None = None,
    amount: Callable[[int], str] = format_usd,
) -> QuotaAllocation:
    """Split a company target into territory quotas in whole cents (see the module docstring).

    Parameters
    ----------
    target_cents : int
        Company target, whole cents, >= 0.
    territories : pandas.DataFrame
        Index ``territory_id``; ``potential_usd`` and ``forecast_usd`` (>= 0), optional
        ``last_quota_cents`` (>= 0; empty = no last quota), ``ramp_frac`` and
        ``relief_frac`` (0-1; default 1 and 0). See :mod:`planner.quota.inputs` to build
        it from a data set.
    options : QuotaOptions
        Weights, over-assignment, guardrail and relief policy.
    total_cents : int, optional
        The quota total, instead of ``target_cents x (1 + over_assignment_frac)`` (e.g. the
        total finance chose from :mod:`planner.quota.attainment`).
    amount : callable
        Formats an amount in the notes and errors (dollars; a count line passes its own).

    Returns
    -------
    QuotaAllocation
        ``table.quota_cents`` sums exactly to ``total_cents``.

    Raises
    ------
    InputError
        When the territories table is malformed (every problem, by row and column).
    InfeasibleError
        When the guardrails cannot be met with this total; says the smallest guardrail
        that would work and the range of totals they allow.

    Examples
    --------
    >>> table = pd.DataFrame(
    ...     {"potential_usd": [300.0, 100.0], "forecast_usd": [100.0, 100.0]},
    ...     index=pd.Index(["A", "B"], name="territory_id"),
    ... )
    >>> allocation = allocate_quotas(1_000_00, table, QuotaOptions(guardrail_frac=None))
    >>> allocation.quotas_cents.tolist()
    [62500, 37500]
    """
    if isinstance(target_cents, bool) or not isinstance(target_cents, int | np.integer) or target_cents < 0:
        raise PlannerError(f"target_cents is {target_cents!r}; give whole cents >= 0, e.g. 1_000_000_00")
    frame = check_territories(territories, options)
    total = int(
        (Decimal(int(target_cents)) * (1 + Decimal(repr(options.over_assignment_frac)))).quantize(
            Decimal(1), rounding=ROUND_HALF_EVEN
        )
    )
    if total_cents is not None:
        if isinstance(total_cents, bool) or not isinstance(total_cents, int | np.integer) or total_cents < 0:
            raise PlannerError(f"total_cents is {total_cents!r}; give whole cents >= 0")
        total = int(total_cents)
    share = _blend_shares(frame, options)
    capacity = (frame["ramp_frac"] * (1.0 - frame["relief_frac"])).to_numpy()
    last = frame["last_quota_cents"].to_numpy(dtype=np.float64)
    lower, upper = _guardrail_bounds(last, options.guardrail_frac)
    fit = None
    if options.fairness is not None and total > 0 and total >= lower.sum() and total <= upper.sum():
        fitted, fit = fit_shares(
            frame["potential_usd"].to_numpy(),
            frame["forecast_usd"].to_numpy(),
            lower,
            upper,
            float(total),
            options.potential_weight_frac,
            options.fairness,
            capacity=capacity,
            redistribute=options.relief_policy == "redistribute",
        )
        share = _significant(fitted)

    raw = round_to_total(share * total, total)
    _check_feasible(total, share, lower, upper, last, options.guardrail_frac, stage="", amount=amount)
    full_year = water_fill(share, lower, upper, float(total))
    after_ramp = capacity * full_year
    if options.relief_policy == "redistribute":
        weights = _significant(capacity * share)
        if total > 0 and weights.sum() == 0:
            raise InfeasibleError(
                "every territory with a share has ramp_frac 0 or relief_frac 1: no one can carry the quota",
                constraint="relief_policy",
                suggestion="use relief_policy='absorb', or give a territory some capacity",
            )
        high = np.floor(capacity * upper)
        low = np.minimum(np.ceil(capacity * lower), high)
        _check_feasible(
            total,
            weights,
            low,
            high,
            capacity * last,
            options.guardrail_frac,
            stage="ramp-adjusted ",
            amount=amount,
        )
        final = water_fill(weights, low, high, float(total))
        quota = round_to_total(final, total)
        capped, floored = _at_bounds(final, low, high, weights)
    else:
        quota = round_to_total(after_ramp, int(np.floor(after_ramp.sum() + 0.5)))
        capped, floored = _at_bounds(full_year, lower, upper, share)
    relieved = int(np.floor(full_year.sum() - after_ramp.sum() + 0.5))
    table = pd.DataFrame(
        {
            "share_frac": share,
            "raw_cents": raw,
            "guardrail_cents": round_to_total(full_year, total),
            "ramp_cents": np.floor(after_ramp + 0.5).astype(np.int64),
            "quota_cents": quota,
            "reason": _reasons(frame, share, capped, floored, options, amount),
        },
        index=frame.index,
    )
    notes = _notes(total, int(quota.sum()), relieved, int(capped.sum()), int(floored.sum()), options, amount)
    if fit is not None:
        notes = (fit.describe(), *notes)
    return QuotaAllocation(table, int(quota.sum()), int(target_cents), options, notes, fit)


def quota_bounds(territories: pd.DataFrame, options: QuotaOptions) -> tuple[np.ndarray, np.ndarray]:
    """Guardrail bounds on each final quota (after ramp and relief), whole cents; ``inf`` when unbounded."""
    frame = check_territories(territories, options)
    capacity = (frame["ramp_frac"] * (1.0 - frame["relief_frac"])).to_numpy()
    lower, upper = _guardrail_bounds(
        frame["last_quota_cents"].to_numpy(dtype=np.float64), options.guardrail_frac
    )
    high = np.floor(capacity * upper)
    return np.minimum(np.ceil(capacity * lower), high), high


def check_territories(territories: pd.DataFrame, options: QuotaOptions) -> pd.DataFrame:
    """Validate the territories table; return it with every optional column filled.

    Raises :class:`~planner.errors.InputError` listing every problem (row = position of
    the territory, 1-based, with its id in the message).
    """
    problems: list[Problem] = []

    def problem(message: str, fix: str, row: int | None = None, column: str | None = None) -> None:
        problems.append(Problem(TABLE_NAME, message, fix, row=row, column=column))

    missing = [c for c in REQUIRED_COLUMNS if c not in territories.columns]
    if missing:
        problem(f"missing column(s) {missing}", f"give {list(REQUIRED_COLUMNS)} per territory_id")
    if len(territories) == 0:
        problem("no territories", "give at least one territory")
    ids = pd.Index(territories.index.astype(str), name="territory_id")
    for position in np.flatnonzero(ids.duplicated()):
        problem(f"territory '{ids[position]}' appears twice", "give one row per territory", row=position + 1)
    if problems:
        raise InputError(problems)
    frame = pd.DataFrame(index=ids)
    limits = {"ramp_frac": (0.0, 1.0), "relief_frac": (0.0, 1.0)}
    defaults = {"last_quota_cents": np.nan, "ramp_frac": 1.0, "relief_frac": 0.0}
    for column in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
        if column not in territories.columns:
            frame[column] = defaults[column]
            continue
        given = territories[column]
        values = pd.to_numeric(given, errors="coerce").astype(np.float64).to_numpy()
        allowed_missing = column == "last_quota_cents"
        low, high = limits.get(column, (0.0, np.inf))
        bad = (np.isnan(values) & (~allowed_missing | given.notna().to_numpy())) | (values < low)
        bad |= (values > high) | np.isinf(values)
        for position in np.flatnonzero(bad):
            span = "between 0 and 1" if column in limits else "a finite number >= 0"
            problem(
                f"territory '{ids[position]}': {column} is {given.iloc[position]}",
                f"give {span}" + (" (leave empty when there is no last quota)" if allowed_missing else ""),
                row=position + 1,
                column=column,
            )
        frame[column] = values
    for column, weight in (
        ("potential_usd", options.potential_weight_frac),
        ("forecast_usd", options.forecast_weight_frac),
    ):
        if not problems and weight > 0 and frame[column].sum() <= 0:
            problem(
                f"{column} is 0 for every territory but has weight {weight:g}",
                f"give {column} values or set its weight to 0",
                column=column,
            )
    if problems:
        raise InputError(problems)
    return frame


def _significant(weights: np.ndarray) -> np.ndarray:
    """Set weights below 1e-12 of the largest to 0 (moving them would need a level that overflows)."""
    largest = weights.max(initial=0.0)
    return np.where(weights >= SIGNIFICANT_FRAC * largest, weights, 0.0)


def _blend_shares(frame: pd.DataFrame, options: QuotaOptions) -> np.ndarray:
    share = np.zeros(len(frame))
    for column, weight in (
        ("potential_usd", options.potential_weight_frac),
        ("forecast_usd", options.forecast_weight_frac),
    ):
        if weight > 0:
            values = frame[column].to_numpy()
            share += weight * values / values.sum()
    return _significant(share)


def _guardrail_bounds(last: np.ndarray, guardrail_frac: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Whole-cent bounds on the full-year quota; unbounded without a last quota or a guardrail."""
    if guardrail_frac is None:
        return np.zeros_like(last), np.full_like(last, np.inf)
    has_last = ~np.isnan(last)
    lower = np.where(has_last, np.ceil(np.nan_to_num(last) * (1 - guardrail_frac) - 1e-9), 0.0)
    upper = np.where(has_last, np.floor(np.nan_to_num(last) * (1 + guardrail_frac) + 1e-9), np.inf)
    return np.clip(lower, 0.0, upper), upper


def _check_feasible(
    total: int,
    weights: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    reference: np.ndarray,
    guardrail_frac: float | None,
    *,
    stage: str,
    amount: Callable[[int], str],
) -> None:
    """Raise InfeasibleError when no amounts within the bounds sum to ``total``.

    ``reference`` is the amount each guardrail is centred on (NaN when unbounded); the
    smallest sufficient guardrail is solved from it. Entries with weight 0 stay at their
    lower bound, so they cannot take more.
    """
    movable = weights > 0
    reachable_low = float(lower.sum())
    reachable_high = float(np.where(movable, upper, lower).sum())
    if reachable_low <= total <= reachable_high or guardrail_frac is None:
        return
    bounded = ~np.isnan(reference)
    if total > reachable_high:
        side, limit, verb = "above", int(np.floor(reachable_high)), "at most"
        base = float(reference[bounded & movable].sum())
        slack = 2 * int((bounded & movable).sum())  # whole-cent bounds lose < 2 cents each
        needed = (total + slack - float(lower[~movable].sum())) / base - 1 if base > 0 else np.inf
    else:
        side, limit, verb = "below", int(np.ceil(reachable_low)), "at least"
        needed = 1 - (total - 2 * int(bounded.sum())) / float(reference[bounded].sum())
    suggestion = f"set the target so quotas total {verb} {amount(limit)}"
    if np.isfinite(needed):
        suggestion = f"raise guardrail_frac to at least {np.ceil(needed * 1e4) / 1e4:g}, or {suggestion}"
    if stage:
        suggestion += ", or use relief_policy='absorb'"
    raise InfeasibleError(
        f"the {stage}quota total {amount(total)} is {amount(abs(total - limit))} {side} what "
        f"guardrails of +/-{guardrail_frac * 100:g}% around last year's quotas allow "
        f"({amount(int(np.ceil(reachable_low)))} to {amount(int(np.floor(reachable_high)))})",
        constraint="guardrail_frac",
        suggestion=suggestion,
    )


def _at_bounds(
    values: np.ndarray, lower: np.ndarray, upper: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Which entries a guardrail holds: capped at the upper bound, floored at a positive lower one."""
    tolerance = 1e-6 * np.maximum(1.0, np.abs(values))
    capped = np.isfinite(upper) & (values >= upper - tolerance) & (weights > 0)
    floored = (lower > 0) & (values <= lower + tolerance) & ~capped
    return capped, floored


def _notes(
    total: int,
    quota_sum: int,
    relieved: int,
    capped: int,
    floored: int,
    options: QuotaOptions,
    amount: Callable[[int], str],
) -> tuple[str, ...]:
    notes = []
    if capped or floored:
        notes.append(
            f"guardrails (+/-{options.guardrail_frac * 100:g}% of last year's quota) capped {capped} and "
            f"floored {floored} territories; the others carry the difference in proportion to their share"
        )
    if relieved > 0 and options.relief_policy == "redistribute":
        notes.append(
            f"ramp and relief take {amount(relieved)} off some territories; the others carry it "
            "in proportion to their share, within their guardrails"
        )
    if relieved > 0 and options.relief_policy == "absorb":
        cover = (
            Decimal(total) / Decimal(max(quota_sum, 1)) * (1 + Decimal(repr(options.over_assignment_frac)))
            - 1
        )
        notes.append(
            f"ramp and relief take {amount(relieved)} off: quotas total {amount(quota_sum)}, "
            f"{relieved / total:.1%} below {amount(total)}; over_assignment_frac "
            f"{float(cover):.4f} would cover it"
        )
    return tuple(notes)


def _reasons(
    frame: pd.DataFrame,
    share: np.ndarray,
    capped: np.ndarray,
    floored: np.ndarray,
    options: QuotaOptions,
    amount: Callable[[int], str],
) -> list[str]:
    reasons = []
    blend = (
        f"blend share (potential {options.potential_weight_frac:.0%}, "
        f"forecast {options.forecast_weight_frac:.0%})"
    )
    guard = options.guardrail_frac
    for k, row in enumerate(frame.itertuples()):
        parts = []
        last = row.last_quota_cents
        if capped[k]:
            parts.append(f"guardrail: capped at +{guard * 100:g}% of last year's {amount(int(last))}")
        elif floored[k]:
            parts.append(f"guardrail: floored at -{guard * 100:g}% of last year's {amount(int(last))}")
        elif share[k] == 0:
            parts.append("no potential and no forecast")
        else:
            parts.append(blend)
            if guard is not None and np.isnan(last):
                parts.append("no last-year quota, so no guardrail")
        if row.ramp_frac < 1:
            parts.append(f"ramp: {row.ramp_frac:.0%} of full productivity")
        if row.relief_frac > 0:
            parts.append(f"relief: uncovered {row.relief_frac:.0%} of the year")
        reasons.append("; ".join(parts))
    return reasons
