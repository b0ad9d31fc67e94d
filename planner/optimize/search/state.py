"""The search state: labels, rep counts and running tallies of one plan, changed only through moves.

The instance is never changed: the state owns its copy of the rep counts (rep shifts,
merges and relocation change them). Every change goes through :meth:`SearchState.apply`
(one unit), :meth:`SearchState.exchange` (two paths of units), :meth:`SearchState.relabel`
(a whole new labelling) or :meth:`SearchState.change_reps`; inside
``with state.trial() as trial:`` each is journaled and undone at the end of the block
unless the trial was kept (see :class:`Trial`).
The state charges its work to the search clock (:mod:`planner.optimize.work_clock`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

import numpy as np

from planner.optimize.exact import HARD_FACTOR
from planner.optimize.instance import Instance, sparse_measures, unit_reps_needed
from planner.optimize.work_clock import WorkClock

LEXICOGRAPHIC = 1e3  # hard against soft violation: a soft gain must be 1000x a hard loss to pay
EPS = 1e-12


#: Labels and reps per territory, as taken by ``SearchState.snapshot``.
Snapshot = tuple[np.ndarray, np.ndarray]
#: A named predicate on the state: True when a group of changes may be kept.
Check = Callable[["SearchState"], bool]


def check_name(check: Check) -> str:
    """Readable name of a check (its ``name`` attribute, else its function name with spaces)."""
    return getattr(check, "name", getattr(check, "__name__", repr(check)).replace("_", " "))


class Trial:
    """The journal of one trial and whether it is kept; made by ``SearchState.trial``."""

    def __init__(self, state: SearchState) -> None:
        self.state = state
        self.journal: list[tuple] = []
        self.kept = False
        self.refused_by: str | None = None

    def keep(self) -> None:
        """Keep the changes made in this trial."""
        self.kept = True

    def keep_if(self, *checks: Check) -> bool:
        """Keep the changes when every check holds (in order); else record the first refusal."""
        for check in checks:
            if not check(self.state):
                self.refused_by = check_name(check)
                return False
        self.kept = True
        return True


def tolerance_violation(dev: np.ndarray, tol: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted excess beyond tolerance, in tolerance units, summed over the last axis (measures)."""
    return (np.maximum(np.abs(dev) / tol - 1.0, 0.0) * np.maximum(weights, 1e-6)).sum(axis=-1)


class SearchState:
    """Labels, rep counts and tallies of the plan a search is improving.

    Parameters
    ----------
    instance : Instance
        The request (never changed).
    labels : ndarray (n,) int
        Territory index of each unit at the start.
    neighbors : list of list of int
        Adjacent units of each unit.
    compactness_weight, disruption_weight : float
        Weights of compactness and disruption against balance in the objective.
    max_disruption : float or None
        Budget: most share of the disruption measure that may change territory.
    clock : WorkClock
        The deterministic clock every step's work is charged to.
    """

    def __init__(
        self,
        instance: Instance,
        labels: np.ndarray,
        neighbors: list[list[int]],
        *,
        compactness_weight: float,
        disruption_weight: float,
        max_disruption: float | None,
        clock: WorkClock,
    ) -> None:
        self.instance = instance
        self.clock = clock
        self.neighbors = neighbors
        self.compactness_weight = compactness_weight
        self.disruption_weight = disruption_weight
        self.max_disruption = max_disruption
        self.reps = instance.reps.copy()
        n = instance.n_units
        self.tol = instance.tolerances
        # Hard tolerances come first: in the balance penalty they weigh HARD_FACTOR times
        # more; in tolerance violation, which steps may not raise, LEXICOGRAPHIC times.
        # A sparse soft measure is not chased (border moves cannot balance it; see
        # docs/optimizer.md); in the final polish it may not get worse.
        chased = instance.hard | ~sparse_measures(instance)
        self.w = instance.weights * np.where(instance.hard, HARD_FACTOR, 1.0) * chased
        self.wv = instance.weights * np.where(instance.hard, LEXICOGRAPHIC, 1.0)
        self.movable = instance.locked < 0
        self.rows = np.repeat(np.arange(n), np.diff(instance.indptr))
        self.has_ref = instance.reference >= 0
        xy = instance.xy_km - instance.xy_km.mean(axis=0)  # centred: keeps the sums well conditioned
        self.xy = xy
        self.q = (xy**2).sum(axis=1)
        self.border = instance.border_km
        self.column = np.full(n, -1)  # scratch of shared_border: position of a unit in a set, else -1
        self.degree = np.diff(instance.indptr)
        self.unit_reps = unit_reps_needed(instance)
        self._trial: Trial | None = None
        self.reset(labels)
        self.c_scale = float(self.inertia().sum()) or 1.0
        self.p_scale = self.cut_km() or 1.0

    # --- whole-plan changes ---------------------------------------------------------------
    def reset(self, labels: np.ndarray) -> None:
        """Take ``labels`` as the current plan and recompute every tally from scratch."""
        inst = self.instance
        K = inst.n_territories
        self.clock.charge("reset", inst.n_units)
        self.labels = labels.copy()
        self.load = np.zeros((K, len(self.tol)))
        np.add.at(self.load, self.labels, inst.share)
        retired = self.reps <= 0
        self.load /= np.where(retired, 1.0, self.reps)[:, None]
        self.load[retired] = 1.0  # no units and no rep (its rep went to another): balanced
        self.count = np.bincount(self.labels, minlength=K)
        a = inst.compact_weight
        self.mass = np.bincount(self.labels, weights=a, minlength=K)
        self.first = np.zeros((K, 2))
        np.add.at(self.first, self.labels, self.xy * a[:, None])
        self.second = np.bincount(self.labels, weights=a * self.q, minlength=K)
        self.moved = self.has_ref & (self.labels != inst.reference)
        self.disruption = float(inst.disrupt_weight[self.moved].sum())

    def snapshot(self) -> Snapshot:
        """The current plan: labels and reps per territory (copies), for :meth:`restore`."""
        return self.labels.copy(), self.reps.copy()

    def restore(self, snapshot: Snapshot) -> None:
        """Go back to a plan taken by :meth:`snapshot`."""
        labels, reps = snapshot
        self.reps[:] = reps
        self.reset(labels)

    def relabel(self, labels: np.ndarray, reps: np.ndarray | None = None) -> None:
        """Take a whole new labelling (and rep counts), journaled in a trial."""
        self._journal_snapshot()
        if reps is not None:
            self.reps[:] = reps
        self.reset(labels)

    def change_reps(self, t: int, change: float) -> None:
        """Give territory ``t`` ``change`` more reps (its units stay); journaled in a trial."""
        self._journal_snapshot()
        self.load[t] *= self.reps[t] / (self.reps[t] + change)
        self.reps[t] += change

    def current_instance(self) -> Instance:
        """The instance with the rep counts as they are now."""
        return replace(self.instance, reps=self.reps.copy())

    # --- unit moves -----------------------------------------------------------------------
    def apply(self, u: int, a: int, b: int) -> None:
        """Move unit ``u`` from territory ``a`` to ``b`` and update every tally."""
        if self._trial is not None:
            self._trial.journal.append(("move", u, a, b))
        self._move(u, a, b)

    def exchange(self, pulled: list[int], pushed: list[int], t: int, b: int) -> None:
        """Move the units of ``pulled`` from b into t, then those of ``pushed`` from t to b."""
        if self._trial is not None:
            self._trial.journal.append(("exchange", pulled, pushed, t, b))
        self._exchange(pulled, pushed, t, b)

    def _exchange(self, pulled: list[int], pushed: list[int], t: int, b: int) -> None:
        for u in pulled:
            self._move(u, b, t)
        for u in pushed:
            self._move(u, t, b)

    def _move(self, u: int, a: int, b: int) -> None:
        inst = self.instance
        self.clock.charge("apply")
        self.labels[u] = b
        self.load[a] -= inst.share[u] / self.reps[a]
        self.load[b] += inst.share[u] / self.reps[b]
        self.count[a] -= 1
        self.count[b] += 1
        w = inst.compact_weight[u]
        self.mass[a] -= w
        self.mass[b] += w
        self.first[a] -= w * self.xy[u]
        self.first[b] += w * self.xy[u]
        self.second[a] -= w * self.q[u]
        self.second[b] += w * self.q[u]
        if self.has_ref[u]:
            was, now = self.moved[u], b != inst.reference[u]
            if was != now:
                self.moved[u] = now
                self.disruption += inst.disrupt_weight[u] * (1 if now else -1)

    # --- trials ---------------------------------------------------------------------------
    @contextmanager
    def trial(self) -> Iterator[Trial]:
        """Changes made in the block are undone when it ends, unless the trial was kept."""
        if self._trial is not None:
            raise RuntimeError("trials do not nest")
        trial = self._trial = Trial(self)
        try:
            yield trial
        finally:
            self._trial = None
            if not trial.kept:
                self._undo(trial.journal)

    def _journal_snapshot(self) -> None:
        if self._trial is not None and not any(entry[0] == "snapshot" for entry in self._trial.journal):
            self._trial.journal.append(("snapshot", self.snapshot()))

    def _undo(self, journal: list[tuple]) -> None:
        """Undo a journal: back to its first whole-plan snapshot, then the moves before it, in reverse."""
        first = next((i for i, entry in enumerate(journal) if entry[0] == "snapshot"), None)
        if first is not None:
            self.restore(journal[first][1])
            journal = journal[:first]
        for entry in reversed(journal):
            if entry[0] == "move":
                _, u, a, b = entry
                self._move(u, b, a)
            else:
                _, pulled, pushed, t, b = entry
                self._exchange(pushed, pulled, t, b)

    # --- what the plan looks like ---------------------------------------------------------
    def members(self, t: int, scans: int = 1) -> np.ndarray:
        """Units of territory ``t``; charges the pass over the map and ``scans`` visits per unit."""
        members = np.flatnonzero(self.labels == t)
        self.clock.charge("pass", self.instance.n_units)
        self.clock.charge("visit", scans * len(members))
        return members

    def territory_graph(self) -> dict[int, set[int]]:
        """Adjacent territories of each territory."""
        labels, n_territories = self.labels, self.instance.n_territories
        self.clock.charge("pass", len(self.rows))
        a_all, b_all = labels[self.rows], labels[self.instance.indices]
        cross = a_all != b_all
        pairs = np.unique(a_all[cross].astype(np.int64) * n_territories + b_all[cross])
        adjacent: dict[int, set[int]] = {}
        for a, b in zip(*divmod(pairs, n_territories), strict=True):
            adjacent.setdefault(int(a), set()).add(int(b))
        return adjacent

    def cut_km(self) -> float:
        """Total length (km) of the borders between territories (each shared border once)."""
        cut = self.labels[self.rows] != self.labels[self.instance.indices]
        return float(self.border[cut].sum()) / 2.0

    def inertia(self, mass=None, first=None, second=None) -> np.ndarray:
        """Moment of inertia sum a |xy - centroid|^2 from running sums (per territory, or per row)."""
        mass = self.mass if mass is None else mass
        first = self.first if first is None else first
        second = self.second if second is None else second
        return second - (first**2).sum(axis=-1) / np.maximum(mass, 1e-300)

    def deviations(self) -> np.ndarray:
        """Current deviation per territory and measure (fraction)."""
        return self.load - 1.0

    def territory_violation(self) -> np.ndarray:
        """Tolerance violation per territory; 0 for locked territories (the user fixed them)."""
        violation = tolerance_violation(self.deviations(), self.tol, self.wv)
        violation[self.instance.frozen_territory] = 0.0
        return violation

    def violation(self) -> float:
        """Total tolerance violation V over territories that may change (locked ones excluded)."""
        return float(self.territory_violation().sum())

    def hard_excess(self) -> np.ndarray:
        """Excess beyond each hard tolerance per territory and hard measure, in tolerance units."""
        hard = self.instance.hard
        excess = np.abs(self.deviations()[:, hard]) / self.tol[hard] - 1.0
        return np.maximum(excess, 0.0)

    def hard_violation(self) -> float:
        """Total violation of the hard tolerances only, in tolerance units (unweighted)."""
        return float(self.hard_excess().sum())

    def worst_hard_excess(self) -> float:
        """Largest excess beyond a hard tolerance over territories and measures, in tolerance units."""
        excess = self.hard_excess()
        return float(excess.max()) if excess.size else 0.0

    def within_budget(self) -> bool:
        """True when the disruption budget (if any) is respected."""
        return self.max_disruption is None or self.disruption <= self.max_disruption + 1e-12
