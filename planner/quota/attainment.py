r"""The attainment finance wants: the quota total that puts a chosen share of territories at or above quota.

Each territory's bookings are uncertain around its forecast :math:`F_i`: lognormal with
mean :math:`F_i` and coefficient of variation :math:`c` (``forecast_cv_frac``, 0.2 by
default). For quotas :math:`q_i(T)` summing to a total :math:`T` (the allocation's shape
kept, water-filled within the guardrails), the expected share of territories at or
above quota is

.. math::

    A(T) = \frac{1}{n} \sum_i P(B_i \ge q_i(T)),

which falls as :math:`T` rises. :func:`attainment_plan` finds the :math:`T^*` with
:math:`A(T^*)` equal to finance's goal (65% by default: a healthy plan has 60-70% of reps
at or above quota) by bisection, and reports it against the company target: the gap is
the over-assignment (positive) or under-assignment the distribution implies. Finance
then chooses the total: the target (``basis_frac = 0``), the distribution
(``basis_frac = 1``) or a point between, :math:`T = T_0 + f (T^* - T_0)`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.errors import PlannerError
from planner.money import format_usd
from planner.quota.fairness import reach_probability

DEFAULT_GOAL_FRAC = 0.65
DEFAULT_CV_FRAC = 0.2


@dataclass(frozen=True)
class AttainmentPlan:
    """The quota total finance's attainment goal implies, against the target, and the one chosen.

    Attributes
    ----------
    goal_frac : float
        Share of territories finance wants expected at or above quota.
    forecast_cv_frac : float
        Uncertainty of each territory's bookings around its forecast (coefficient of variation).
    target_total_cents : int
        Quota total that meets the company target (with its over-assignment).
    implied_total_cents : int
        Quota total at which the goal share is expected at or above quota.
    basis_frac : float
        Where the chosen total sits: 0 at the target, 1 at the implied total.
    chosen_total_cents : int
        The total the quotas sum to.
    reachable : bool
        False when the guardrails allow no total with the goal share; the implied total is
        then the allowed one nearest to it.
    share_at_target_frac, share_at_chosen_frac : float
        Expected share at or above quota at the target total and at the chosen one.
    curve : pandas.DataFrame
        ``total_cents`` and ``at_or_above_frac``: the expected share over a range of totals.
    """

    goal_frac: float
    forecast_cv_frac: float
    target_total_cents: int
    implied_total_cents: int
    basis_frac: float
    chosen_total_cents: int
    share_at_target_frac: float
    share_at_chosen_frac: float
    curve: pd.DataFrame
    reachable: bool = True

    @property
    def gap_cents(self) -> int:
        """Implied total minus the target total: positive means the goal needs over-assignment."""
        return self.implied_total_cents - self.target_total_cents

    def record(self) -> dict[str, float | int]:
        """What is stored with a version: the goal, the totals and the choice."""
        return {
            "goal_frac": self.goal_frac,
            "forecast_cv_frac": self.forecast_cv_frac,
            "target_total_cents": self.target_total_cents,
            "implied_total_cents": self.implied_total_cents,
            "basis_frac": self.basis_frac,
            "chosen_total_cents": self.chosen_total_cents,
            "share_at_chosen_frac": round(self.share_at_chosen_frac, 6),
            "goal_reachable": self.reachable,
        }

    def describe(self, amount: Callable[[int], str] = format_usd) -> str:
        """What the goal implies against the target, in one sentence (``amount`` formats a total)."""
        goal = f"{self.goal_frac:.0%} of territories expected at or above quota"
        if not self.reachable:
            return (
                f"no quota total within the guardrails gets {goal}: the nearest allowed total is "
                f"{amount(self.implied_total_cents)} (target total {amount(self.target_total_cents)})"
            )
        direction = "over-assignment" if self.gap_cents > 0 else "under-assignment"
        return (
            f"{goal} needs a quota total of {amount(self.implied_total_cents)}: "
            f"{amount(abs(self.gap_cents))} of {direction} against the target total "
            f"{amount(self.target_total_cents)} (which puts {self.share_at_target_frac:.1%} at or above)"
        )


def check_goal(goal_frac: float, basis_frac: float, forecast_cv_frac: float) -> None:
    """Raise a :class:`PlannerError` for a goal, basis or uncertainty out of range."""
    if not 0 < goal_frac < 1:
        raise PlannerError(f"the attainment goal is {goal_frac}; give a share between 0 and 1, e.g. 0.65")
    if not 0 <= basis_frac <= 1:
        raise PlannerError(
            f"basis_frac is {basis_frac}; give 0 (meet the target), 1 (meet the attainment goal) or between"
        )
    if not forecast_cv_frac > 0:
        raise PlannerError(f"forecast_cv_frac is {forecast_cv_frac}; give a fraction > 0, e.g. 0.2")


def share_at_or_above(quotas_cents: np.ndarray, forecast_usd: np.ndarray, cv_frac: float) -> float:
    """Expected share of territories whose bookings reach their quota."""
    reach = reach_probability(forecast_usd, quotas_cents / 100.0, 1.0, cv_frac)
    return float(np.mean(reach))


def attainment_plan(
    shape: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    forecast_usd: np.ndarray,
    target_total_cents: int,
    *,
    goal_frac: float = DEFAULT_GOAL_FRAC,
    basis_frac: float = 0.0,
    forecast_cv_frac: float = DEFAULT_CV_FRAC,
) -> AttainmentPlan:
    """The total that meets the attainment goal, and the one chosen (see the module docstring).

    Parameters
    ----------
    shape : numpy.ndarray
        The allocation's weights per territory (its final shares).
    lower, upper : numpy.ndarray
        Guardrail bounds on each quota, cents (``upper`` may be ``inf``).
    forecast_usd : numpy.ndarray
        Forecast bookings per territory for the quota year.
    target_total_cents : int
        The total that meets the company target.
    goal_frac, basis_frac, forecast_cv_frac : float
        Finance's goal, its choice between target and goal, the forecast's uncertainty.
    """
    from planner.quota.allocation import water_fill

    check_goal(goal_frac, basis_frac, forecast_cv_frac)
    low_total, high_total = float(lower.sum()), float(np.where(shape > 0, upper, lower).sum())

    def share(total: float) -> float:
        return share_at_or_above(water_fill(shape, lower, upper, total), forecast_usd, forecast_cv_frac)

    # A(T) falls with T: bisect in log space between a total that clears the goal and one that misses it.
    bottom, top = max(low_total, 1.0), min(high_total, 1e4 * max(target_total_cents, 1))
    at_bottom = share(bottom)
    reachable = at_bottom >= goal_frac >= share(top)
    if not reachable:  # the guardrails keep the goal out of reach: the nearest total they allow
        bottom = top = bottom if at_bottom < goal_frac else top
    for _ in range(100):
        middle = np.sqrt(bottom * top)
        if share(middle) >= goal_frac:
            bottom = middle
        else:
            top = middle
        if top - bottom < 1.0:
            break
    implied = math.floor(bottom)
    chosen = round(target_total_cents + basis_frac * (implied - target_total_cents))
    span = np.linspace(0.7, 1.3, 25) * max(implied, target_total_cents)
    totals = np.unique(np.concatenate([span, [target_total_cents, implied]]))
    totals = totals[(totals >= low_total) & (totals <= high_total)]
    curve = pd.DataFrame(
        {"total_cents": totals.astype(np.int64), "at_or_above_frac": [share(t) for t in totals]}
    )
    return AttainmentPlan(
        goal_frac,
        forecast_cv_frac,
        int(target_total_cents),
        implied,
        basis_frac,
        chosen,
        share(target_total_cents),
        share(chosen),
        curve,
        reachable,
    )
