"""What the optimizer is asked to do: balance targets and options, as frozen values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from planner.errors import PlannerError
from planner.progress import ProgressCallback as ProgressCallback  # re-exported for the optimizer's callers


@dataclass(frozen=True)
class BalanceTarget:
    """Balance one measure across territories, per rep.

    Parameters
    ----------
    measure : str
        Unit column, e.g. ``"tam_usd"``.
    tolerance : float
        Allowed deviation from the per-rep mean, as a fraction (0.02 = +/-2%).
    weight : float
        Relative importance against the other measures (soft part of the objective).
    hard : bool
        If True, a plan outside the tolerance is reported as infeasible; if False the
        tolerance is a soft target the optimizer tries to reach.
    """

    measure: str
    tolerance: float = 0.05
    weight: float = 1.0
    hard: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.tolerance < 1:
            raise PlannerError(
                f"tolerance for '{self.measure}' is {self.tolerance}; give a fraction in (0, 1), e.g. 0.02"
            )
        if self.weight < 0:
            raise PlannerError(f"weight for '{self.measure}' is {self.weight}; weights must be >= 0")


@dataclass(frozen=True)
class OptimizeOptions:
    """Options of :func:`planner.optimize.api.optimize`.

    Parameters
    ----------
    targets : tuple of BalanceTarget
        Measures to balance; the first is the primary measure (seeds, multi-rep sizing).
    compactness_weight : float
        Weight of dispersion (moment of inertia around territory centres) against
        balance; 0 ignores compactness.
    disruption_weight : float
        Penalty on moving units away from the reference plan (share of
        ``disruption_measure`` moved); 0 ignores disruption.
    disruption_measure : str
        Measure whose share moved is penalised and budgeted (e.g. ``"tam_usd"``).
    max_disruption : float or None
        Budget: at most this share (0-1) of ``disruption_measure`` may change territory.
    locked_units : mapping
        ``unit_id -> territory_id``: these units end in these territories.
    locked_territories : tuple of str
        Territories left exactly as in the reference plan (units neither leave nor join).
    use_rep_homes : bool
        Centre territories on rep home bases (when the data has them) rather than on
        their weighted centroids.
    allow_multi_rep : bool
        Give a territory several reps where one unit alone exceeds one rep's upper band
        on a hard measure (the fewest reps that fit it; the report names the unit); if
        False, such a unit makes the request infeasible.
    pool_reps : bool
        Let the optimizer change rep counts to reach balance: shift reps between
        multi-rep territories, merge a one-rep territory stuck around a lumpy unit into a
        neighbour, give a dissolved territory's rep to a full one, and size multi-rep
        territories for units no one-rep territory can hold on every hard measure. Off
        by default: the plan then has exactly the territories asked for.
    max_reps_per_territory : int or None
        With ``pool_reps``, the most reps one territory may end with (territories that
        start with more keep theirs).
    reps_per_territory : mapping or None
        Fix the number of reps per territory id; others get one (or what is needed).
    method : {"heuristic", "exact"}
        ``"heuristic"`` (flow allocation + local search; any size) or ``"exact"`` (CP-SAT
        model of :mod:`planner.optimize.exact`, optimal for small instances of up to a few hundred units).
    time_limit_s : float
        Budget for the search, in seconds of work as counted by
        :class:`planner.optimize.work_clock.WorkClock` (about wall-clock seconds on the reference
        machine; longer on a slower or busy one, which is what keeps plans reproducible).
        The wall clock stops a run after three times the limit plus 5 s, and the result
        then says it may not be reproducible.
    seed : int
        Random seed; the same seed and inputs give the same plan, also when the time
        limit stops the search and whatever the machine's load.
    """

    targets: tuple[BalanceTarget, ...] = (BalanceTarget("tam_usd", 0.02),)
    compactness_weight: float = 1.0
    disruption_weight: float = 0.5
    disruption_measure: str | None = None
    max_disruption: float | None = None
    locked_units: Mapping[str, str] = field(default_factory=dict)
    locked_territories: tuple[str, ...] = ()
    use_rep_homes: bool = True
    allow_multi_rep: bool = True
    pool_reps: bool = False
    max_reps_per_territory: int | None = None
    reps_per_territory: Mapping[str, int] | None = None
    method: str = "heuristic"
    time_limit_s: float = 60.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.targets:
            raise PlannerError("give at least one measure to balance (targets)")
        names = [t.measure for t in self.targets]
        if len(set(names)) != len(names):
            raise PlannerError(f"a measure is listed twice in targets: {names}")
        if self.max_disruption is not None and not 0 <= self.max_disruption <= 1:
            raise PlannerError(f"max_disruption is {self.max_disruption}; give a share in [0, 1], e.g. 0.10")
        if self.method not in ("heuristic", "exact"):
            raise PlannerError(f"method is '{self.method}'; use 'heuristic' or 'exact'")
        if self.max_reps_per_territory is not None and self.max_reps_per_territory < 1:
            raise PlannerError(
                f"max_reps_per_territory is {self.max_reps_per_territory}; give 1 or more, or None for no cap"
            )
        if self.time_limit_s <= 0:
            raise PlannerError(f"time_limit_s is {self.time_limit_s}; give a positive number of seconds")

    @property
    def primary(self) -> str:
        """The first balanced measure."""
        return self.targets[0].measure

    @property
    def tolerances(self) -> dict[str, float]:
        """Measure -> tolerance."""
        return {t.measure: t.tolerance for t in self.targets}
