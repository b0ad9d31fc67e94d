r"""Sales capacity: ramped-equivalent headcount, bookings capacity, and the hires a target needs.

The model (expected values, so headcounts may be fractional) runs month by month over
the plan's months :math:`m = 0 \ldots M-1`:

- Reps come in *cohorts* that start together: current reps (start = their hire month,
  possibly before the plan), planned hires, and backfills. A rep in the month of tenure
  :math:`t` (1 in the month they start) produces ``ramp_frac[t-1]`` of a ramped rep
  (1 after the ramp curve ends).
- At the end of every month a share ``attrition_monthly_frac`` of the active reps
  leaves; reps with a known last month (``leave_month``) leave after it. Every leaver is
  replaced by a hire who starts ``backfill_months`` later (0: the next month).
- Ramped-equivalent headcount :math:`R_m = \sum_c n_c(m) \, \rho(t_c(m))`; capacity
  :math:`C_m = R_m \times` ``ramped_monthly_usd`` :math:`\times` ``attainment_frac``.
  Give the quota of a ramped rep with the expected attainment, or their expected
  bookings with attainment 1.
- Coverage: :math:`C_m / T_m` per month, cumulative, and over the whole plan.

Hires needed: the model is linear in the number of reps, so one extra hire starting in
month :math:`m` adds a fixed amount :math:`g_m` of capacity (its own ramp, attrition and
the backfills of its leaving). Hires are added from the first month on (at most
``max_hires_per_month`` per month) until the plan's capacity reaches the target; when
even that cannot reach it, the result says so and by how much it falls short.

Scenarios: best, base and worst cases take the low, base and high attrition with the
high, base and low attainment.

From a data set: :func:`plan_capacity_for` takes a :class:`CapacityRequest` (the target,
the months, the assumptions), reads the current reps and the seasonality of past bookings
from the data set and returns the three scenarios (:class:`CapacityPlan`). The Capacity page
and ``planner capacity`` both make that one call and only render its result.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from planner.data.dataset import Dataset
from planner.errors import PlannerError
from planner.forecast.history import seasonal_weights, territory_history

MONTH_FORMAT = "%Y-%m"


class CapacityInputError(PlannerError):
    """A capacity input is invalid; the message names the value and how to fix it."""


def plan_months(start_month: str, n_months: int = 12) -> list[str]:
    """``n_months`` consecutive months ``'YYYY-MM'`` from ``start_month``."""
    if n_months < 0:
        raise CapacityInputError(f"the plan cannot have {n_months} months; give 1 or more")
    start = _parse_month(start_month, "start_month")
    return [p.strftime(MONTH_FORMAT) for p in pd.period_range(start, periods=n_months, freq="M")]


def _parse_month(text: str, what: str) -> pd.Period:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(text)):
        raise CapacityInputError(f"{what} '{text}' is not a month; write it as YYYY-MM, e.g. 2027-01")
    return pd.Period(str(text), freq="M")


def spread_target(
    target_usd: float, months: list[str], weights: list[float] | np.ndarray | None = None
) -> pd.Series:
    """A yearly (or any-period) target spread over ``months``, evenly or in proportion to ``weights``.

    Raises :class:`CapacityInputError` for a target with no months, a negative target
    or weights that do not match the months.
    """
    if not months:
        raise CapacityInputError("the target has no months; give at least one month to spread it over")
    if not math.isfinite(target_usd) or target_usd < 0:
        raise CapacityInputError(f"target_usd must be a finite amount of 0 or more, not {target_usd}")
    share = np.ones(len(months)) if weights is None else np.asarray(weights, dtype=np.float64)
    if share.shape != (len(months),) or (share < 0).any() or share.sum() <= 0:
        raise CapacityInputError(
            f"weights must be {len(months)} non-negative numbers (one per month) with a positive sum"
        )
    return pd.Series(
        target_usd * share / share.sum(), index=pd.Index(months, name="month"), name="target_usd"
    )


def _check_frac(value: float, name: str) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and 0 <= value <= 1):
        raise CapacityInputError(f"{name} must be a rate between 0 and 1 (e.g. 0.02 for 2%), not {value}")


def check_ramp(ramp_frac: tuple[float, ...] | list[float]) -> tuple[float, ...]:
    """Validate a ramp curve: shares 0-1 by month of tenure, never falling, ending at 1 (100%)."""
    ramp = tuple(float(r) for r in ramp_frac)
    if not ramp:
        raise CapacityInputError(
            "the ramp curve is empty; give the share of productivity per month, e.g. 0.25,0.5,1"
        )
    for month, share in enumerate(ramp, start=1):
        _check_frac(share, f"ramp share of tenure month {month}")
    falling = [m for m in range(1, len(ramp)) if ramp[m] < ramp[m - 1]]
    if falling:
        month = falling[0] + 1
        raise CapacityInputError(
            f"the ramp curve falls in tenure month {month} ({ramp[month - 2]:g} to {ramp[month - 1]:g}); "
            "shares of full productivity must never decrease"
        )
    if not math.isclose(ramp[-1], 1.0):
        raise CapacityInputError(
            f"the ramp curve ends at {ramp[-1]:.0%}, not 100%; add the months until a rep is fully "
            "productive (end with 1.0)"
        )
    return ramp


@dataclass(frozen=True)
class CapacityInputs:
    """Everything the capacity model needs (validated on construction).

    Parameters
    ----------
    target_usd : pandas.Series
        Target bookings per month, indexed by consecutive months ``'YYYY-MM'`` (see
        :func:`spread_target`); the plan runs over these months.
    hire_dates : pandas.Series
        Hire date of each current rep (index ``rep_id``).
    ramp_frac : tuple of float
        Share of full productivity in tenure month 1, 2, ...; never falling, ends at 1.
    ramped_monthly_usd : float
        Monthly productivity of a ramped rep: quota, or expected bookings.
    attainment_frac : float
        Expected share of that productivity achieved, 0-1.
    attrition_monthly_frac : float
        Share of active reps who leave at the end of each month, 0-1.
    backfill_months : int
        Months a leaver's seat stays empty before the replacement starts.
    planned_hires : mapping of str to int
        New reps starting in a month ``'YYYY-MM'`` of the plan.
    leave_months : mapping of str to str
        Known last month worked (``'YYYY-MM'``) of current reps who are leaving.
    max_hires_per_month : int or None
        Most extra hires the hiring plan may start in one month (None: no limit).
    """

    target_usd: pd.Series
    hire_dates: pd.Series
    ramp_frac: tuple[float, ...]
    ramped_monthly_usd: float
    attainment_frac: float = 1.0
    attrition_monthly_frac: float = 0.0
    backfill_months: int = 0
    planned_hires: Mapping[str, int] = field(default_factory=dict)
    leave_months: Mapping[str, str] = field(default_factory=dict)
    max_hires_per_month: int | None = None

    def __post_init__(self) -> None:
        if len(self.target_usd) == 0:
            raise CapacityInputError("the target has no months; give the target of at least one month")
        months = [str(m) for m in self.target_usd.index]
        expected = plan_months(months[0], len(months))
        if months != expected:
            raise CapacityInputError(
                f"target months must be consecutive months YYYY-MM; got {months[:4]}..., "
                f"expected {expected[:4]}..."
            )
        target = self.target_usd.to_numpy(dtype=np.float64)
        if not np.isfinite(target).all() or (target < 0).any():
            raise CapacityInputError("monthly targets must be finite amounts of 0 or more")
        object.__setattr__(self, "ramp_frac", check_ramp(self.ramp_frac))
        _check_frac(self.attainment_frac, "attainment_frac")
        _check_frac(self.attrition_monthly_frac, "attrition_monthly_frac")
        if not math.isfinite(self.ramped_monthly_usd) or self.ramped_monthly_usd < 0:
            raise CapacityInputError(
                "ramped_monthly_usd must be 0 or more (a ramped rep's monthly quota), "
                f"not {self.ramped_monthly_usd}"
            )
        if int(self.backfill_months) != self.backfill_months or self.backfill_months < 0:
            raise CapacityInputError(
                f"backfill_months must be a whole number 0 or more, not {self.backfill_months}"
            )
        for month, count in self.planned_hires.items():
            if str(month) not in months:
                raise CapacityInputError(
                    f"planned hires in {month}, outside the plan's months {months[0]}..{months[-1]}"
                )
            if int(count) != count or count < 0:
                raise CapacityInputError(
                    f"planned hires in {month} is {count}: headcount must be a whole number 0 or more"
                )
        if self.max_hires_per_month is not None and (
            int(self.max_hires_per_month) != self.max_hires_per_month or self.max_hires_per_month < 0
        ):
            raise CapacityInputError(
                "max_hires_per_month must be a whole number 0 or more (or None), "
                f"not {self.max_hires_per_month}"
            )
        dates = pd.to_datetime(self.hire_dates, errors="coerce")
        if dates.isna().any():
            bad = self.hire_dates[dates.isna()].index.tolist()[:5]
            raise CapacityInputError(f"reps {bad} have no valid hire date; give hire_date as YYYY-MM-DD")
        unknown = sorted(set(map(str, self.leave_months)) - set(map(str, self.hire_dates.index)))
        if unknown:
            raise CapacityInputError(f"leave months given for unknown reps {unknown[:5]}")
        for rep, month in self.leave_months.items():
            _parse_month(month, f"leave month of rep {rep}")

    @property
    def months(self) -> list[str]:
        """The plan's months ``'YYYY-MM'``."""
        return [str(m) for m in self.target_usd.index]


@dataclass
class _Cohort:
    start: int  # plan-month index of tenure month 1 (negative: hired before the plan)
    active: float
    last: int | None = None  # last plan month worked (known leavers)


def _ramp_share(ramp: tuple[float, ...], tenure: int) -> float:
    return ramp[tenure - 1] if tenure <= len(ramp) else 1.0


def _simulate(cohorts: list[_Cohort], inputs: CapacityInputs) -> pd.DataFrame:
    """Month-by-month expected headcount, ramped equivalents, departures and backfills."""
    n_months = len(inputs.target_usd)
    rate, lag, ramp = inputs.attrition_monthly_frac, int(inputs.backfill_months), inputs.ramp_frac
    starting = np.zeros(n_months + lag + 2)
    cohorts = [replace(c) for c in cohorts]
    rows = []
    for month in range(n_months):
        if starting[month] > 0:
            cohorts.append(_Cohort(month, float(starting[month])))
        working = [c for c in cohorts if c.start <= month and c.active > 0]
        headcount = sum(c.active for c in working)
        ramped = sum(c.active * _ramp_share(ramp, month - c.start + 1) for c in working)
        departures = 0.0
        for cohort in working:
            leaving = cohort.active if cohort.last == month else cohort.active * rate
            cohort.active -= leaving
            departures += leaving
        starting[month + 1 + lag] += departures
        rows.append(
            {
                "headcount": headcount,
                "ramped_equivalent": ramped,
                "departures": departures,
                "backfills_starting": float(starting[month]),
            }
        )
    frame = pd.DataFrame(rows, index=pd.Index(inputs.months, name="month"))
    frame["capacity_usd"] = frame["ramped_equivalent"] * inputs.ramped_monthly_usd * inputs.attainment_frac
    return frame


def _current_cohorts(inputs: CapacityInputs) -> list[_Cohort]:
    first = pd.Period(inputs.months[0], freq="M")
    cohorts = []
    for rep, hired in pd.to_datetime(inputs.hire_dates).items():
        start = (pd.Period(hired, freq="M") - first).n
        last = None
        if rep in inputs.leave_months:
            last = (pd.Period(inputs.leave_months[rep], freq="M") - first).n
            if last < 0:
                continue  # gone before the plan starts
        cohorts.append(_Cohort(start, 1.0, last))
    return cohorts


def _hire_cohorts(hires: Mapping[int, float]) -> list[_Cohort]:
    return [_Cohort(month, float(count)) for month, count in hires.items() if count > 0]


@dataclass(frozen=True)
class CapacityResult:
    """Capacity by month and the hiring plan that reaches the target.

    Attributes
    ----------
    by_month : pandas.DataFrame
        Index ``month`` (``'YYYY-MM'``): ``target_usd``, ``headcount``,
        ``ramped_equivalent``, ``capacity_usd``, ``coverage_frac``,
        ``cumulative_coverage_frac``, ``departures``, ``backfills_starting``,
        ``planned_hires``, ``hires_needed`` (extra hires starting that month),
        ``capacity_with_hires_usd``.
    hire_gain_usd : pandas.Series
        Capacity one extra hire starting in each month adds over the plan.
    reachable : bool
        Whether the hires found reach the target.
    """

    by_month: pd.DataFrame
    hire_gain_usd: pd.Series
    reachable: bool

    @property
    def target_usd(self) -> float:
        """Target over the plan's months."""
        return float(self.by_month["target_usd"].sum())

    @property
    def capacity_usd(self) -> float:
        """Capacity over the plan's months, without extra hires."""
        return float(self.by_month["capacity_usd"].sum())

    @property
    def coverage_frac(self) -> float:
        """Capacity over target for the whole plan (inf for a zero target)."""
        return self.capacity_usd / self.target_usd if self.target_usd else math.inf

    @property
    def hires_needed(self) -> int:
        """Extra hires the plan needs (on top of planned hires and backfills)."""
        return int(self.by_month["hires_needed"].sum())

    @property
    def gap_usd(self) -> float:
        """Target not covered after the extra hires (0 when reachable)."""
        return max(self.target_usd - float(self.by_month["capacity_with_hires_usd"].sum()), 0.0)

    def summary(self) -> dict[str, float]:
        """Headline numbers: target, capacity, coverage, hires needed, remaining gap."""
        return {
            "target_usd": self.target_usd,
            "capacity_usd": self.capacity_usd,
            "coverage_frac": self.coverage_frac,
            "hires_needed": float(self.hires_needed),
            "gap_after_hires_usd": self.gap_usd,
        }


def plan_capacity(inputs: CapacityInputs) -> CapacityResult:
    """Capacity by month for ``inputs`` and the extra hires (number and month) the target needs."""
    months = inputs.months
    planned = {months.index(str(m)): float(c) for m, c in inputs.planned_hires.items()}
    base = _simulate(_current_cohorts(inputs) + _hire_cohorts(planned), inputs)
    gains = np.array([_simulate([_Cohort(m, 1.0)], inputs)["capacity_usd"].sum() for m in range(len(months))])
    shortfall = float(inputs.target_usd.sum()) - float(base["capacity_usd"].sum())
    needed = np.zeros(len(months), dtype=np.int64)
    cap = inputs.max_hires_per_month
    for month, gain in enumerate(gains):
        if shortfall <= 1e-9 * max(1.0, float(inputs.target_usd.sum())):
            break
        if gain <= 1e-9:  # a hire this late adds (next to) nothing
            continue
        count = math.ceil(shortfall / gain - 1e-9)
        needed[month] = count if cap is None else min(count, cap)
        shortfall -= needed[month] * gain
    extra = _simulate(_hire_cohorts({m: float(n) for m, n in enumerate(needed)}), inputs)
    by_month = base.assign(
        target_usd=inputs.target_usd.to_numpy(dtype=np.float64),
        planned_hires=[float(planned.get(m, 0.0)) for m in range(len(months))],
        hires_needed=needed,
        capacity_with_hires_usd=base["capacity_usd"] + extra["capacity_usd"],
    )
    target = by_month["target_usd"]
    by_month["coverage_frac"] = by_month["capacity_usd"] / target.where(target > 0)
    by_month["cumulative_coverage_frac"] = by_month["capacity_usd"].cumsum() / target.cumsum().where(
        target.cumsum() > 0
    )
    columns = [
        "target_usd",
        "headcount",
        "ramped_equivalent",
        "capacity_usd",
        "coverage_frac",
        "cumulative_coverage_frac",
        "departures",
        "backfills_starting",
        "planned_hires",
        "hires_needed",
        "capacity_with_hires_usd",
    ]
    reachable = shortfall <= 1e-9 * max(1.0, float(inputs.target_usd.sum()))
    return CapacityResult(
        by_month=by_month[columns],
        hire_gain_usd=pd.Series(gains, index=base.index, name="gain_usd"),
        reachable=reachable,
    )


def plan_scenarios(
    inputs: CapacityInputs,
    *,
    attrition_range: tuple[float, float],
    attainment_range: tuple[float, float],
) -> dict[str, CapacityResult]:
    """Best, base and worst cases: (low attrition, high attainment), the inputs, and the reverse.

    Raises :class:`CapacityInputError` when a range is not two rates 0-1 with low <= high.
    """
    for name, (low, high) in (("attrition_range", attrition_range), ("attainment_range", attainment_range)):
        _check_frac(low, f"{name} low")
        _check_frac(high, f"{name} high")
        if low > high:
            raise CapacityInputError(f"{name} low {low} is above its high {high}; give (low, high)")
    return {
        "best": plan_capacity(
            replace(inputs, attrition_monthly_frac=attrition_range[0], attainment_frac=attainment_range[1])
        ),
        "base": plan_capacity(inputs),
        "worst": plan_capacity(
            replace(inputs, attrition_monthly_frac=attrition_range[1], attainment_frac=attainment_range[0])
        ),
    }


def scenario_table(scenarios: Mapping[str, CapacityResult]) -> pd.DataFrame:
    """Headline numbers of each scenario, one row per scenario."""
    return pd.DataFrame({name: result.summary() for name, result in scenarios.items()}).T.rename_axis(
        "scenario"
    )


def current_reps(reps: pd.DataFrame, first_month: str) -> tuple[pd.Series, dict[str, str]]:
    """Hire dates of a data set's quota-carrying reps and the known leavers' last month.

    Managers are left out; reps with status ``leaving`` are taken to work the plan's
    first month and leave after it (give ``leave_months`` yourself to say otherwise).
    A data set without reps (or without hire dates) has no current reps.
    """
    if "hire_date" not in reps:
        return pd.Series(dtype="datetime64[ns]", name="hire_date"), {}
    sellers = reps[reps["role"].astype(str) != "manager"] if "role" in reps else reps
    leaving = sellers.index[sellers["status"].astype(str) == "leaving"] if "status" in sellers else []
    return sellers["hire_date"].rename("hire_date"), {str(rep): first_month for rep in leaving}


def first_plan_month(history: pd.DataFrame) -> str:
    """The month after the last month of bookings ``history`` (``'YYYY-MM'``): the default start."""
    return (history.index[-1] + pd.DateOffset(months=1)).strftime(MONTH_FORMAT)


@dataclass(frozen=True)
class CapacityRequest:
    """What to plan: the target over the plan's months and the assumptions of the scenarios.

    The values are checked by :func:`plan_capacity_for` (through :func:`plan_months`,
    :func:`spread_target`, :class:`CapacityInputs` and :func:`plan_scenarios`), which raises
    :class:`CapacityInputError` naming the bad value.

    Parameters
    ----------
    target_usd : float
        Bookings target over the plan's months.
    ramped_annual_usd : float
        Yearly quota (or expected bookings) of a fully ramped rep.
    ramp_frac : tuple of float
        Share of full productivity in tenure month 1, 2, ...; never falling, ends at 1.
    attainment_frac : float
        Expected attainment of the base case, 0-1.
    attainment_range_frac : tuple of (float, float)
        Worst and best attainment, 0-1, low first.
    attrition_monthly_frac : float
        Monthly attrition of the base case, 0-1.
    attrition_range_frac : tuple of (float, float)
        Best and worst monthly attrition, 0-1, low first.
    backfill_months : int
        Months a leaver's seat stays empty before the replacement starts.
    start_month : str or None
        First month ``'YYYY-MM'``; None: the month after the last booking.
    n_months : int
        Months in the plan.
    planned_hires : mapping of str to int
        New reps starting in a month ``'YYYY-MM'`` of the plan.
    max_hires_per_month : int or None
        Most extra hires that can start in one month (None: no limit).
    seasonal : bool
        Spread the target like past bookings (True) or evenly (False).
    """

    target_usd: float
    ramped_annual_usd: float
    ramp_frac: tuple[float, ...]
    attainment_frac: float
    attainment_range_frac: tuple[float, float]
    attrition_monthly_frac: float
    attrition_range_frac: tuple[float, float]
    backfill_months: int
    start_month: str | None = None
    n_months: int = 12
    planned_hires: Mapping[str, int] = field(default_factory=dict)
    max_hires_per_month: int | None = None
    seasonal: bool = True


@dataclass(frozen=True)
class CapacityPlan:
    """The capacity of a data set's sales team against a target: best, base and worst cases.

    Attributes
    ----------
    inputs : CapacityInputs
        The base case's model inputs (months, monthly target, current reps, assumptions).
    scenarios : dict of str to CapacityResult
        ``"best"``, ``"base"`` and ``"worst"``, in that order.
    """

    inputs: CapacityInputs
    scenarios: dict[str, CapacityResult]

    @property
    def base(self) -> CapacityResult:
        """The base case."""
        return self.scenarios["base"]

    def summary(self) -> pd.DataFrame:
        """Headline numbers of each scenario, one row per scenario (see :func:`scenario_table`)."""
        return scenario_table(self.scenarios)

    def by_month(self) -> pd.DataFrame:
        """Every scenario by month in one table: ``month``, the columns of ``by_month``, ``scenario``."""
        frames = [result.by_month.assign(scenario=name) for name, result in self.scenarios.items()]
        return pd.concat(frames).reset_index()


def plan_capacity_for(
    dataset: Dataset, request: CapacityRequest, *, history: pd.DataFrame | None = None
) -> CapacityPlan:
    """Plan the capacity of ``dataset``'s reps against ``request``: the call behind page and CLI.

    Parameters
    ----------
    dataset : Dataset
        Current reps (managers left out; reps with status ``leaving`` leave after the first
        month, see :func:`current_reps`) and the bookings history.
    request : CapacityRequest
        Target, months and assumptions.
    history : pandas.DataFrame, optional
        Monthly bookings per territory of ``dataset`` (:func:`~planner.forecast.history.territory_history`),
        when the caller already has it (the app caches it); computed when omitted.

    Returns
    -------
    CapacityPlan
        The base case inputs and the best, base and worst scenarios.

    Raises
    ------
    CapacityInputError
        For a bad month, target, ramp, rate, hire count or range.
    PlannerError
        When the data set's bookings history cannot be built.
    """
    if history is None:
        history = territory_history(dataset)
    first = first_plan_month(history) if request.start_month is None else request.start_month
    months = plan_months(first, request.n_months)
    weights = seasonal_weights(history, months) if request.seasonal else None
    hire_dates, leaving = current_reps(dataset.reps, months[0] if months else first)
    inputs = CapacityInputs(
        target_usd=spread_target(request.target_usd, months, weights),
        hire_dates=hire_dates,
        ramp_frac=request.ramp_frac,
        ramped_monthly_usd=request.ramped_annual_usd / 12,
        attainment_frac=request.attainment_frac,
        attrition_monthly_frac=request.attrition_monthly_frac,
        backfill_months=request.backfill_months,
        planned_hires=request.planned_hires,
        leave_months=leaving,
        max_hires_per_month=request.max_hires_per_month,
    )
    scenarios = plan_scenarios(
        inputs,
        attrition_range=request.attrition_range_frac,
        attainment_range=request.attainment_range_frac,
    )
    return CapacityPlan(inputs=inputs, scenarios=scenarios)
