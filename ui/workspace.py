"""The territory workspace as values: plan history (undo/redo), locks, map events, tables.

Pure Python over the core (no Streamlit), so it is tested directly. The pages keep one
:class:`Workspace` in session state and replace it on every edit; since plans and
tallies are immutable, undo and redo only move a position in the history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd

from planner.data.adjacency import Adjacency
from planner.errors import PlanError
from planner.plans.metrics import contiguity_pieces, plan_report, rep_counts
from planner.plans.plan import Plan, diff_plans
from planner.plans.tally import TerritoryTally

if TYPE_CHECKING:  # the optimizer is not imported at run time: this module stays light
    pass

WITHIN_COLOUR = "background-color: #d9f0d3"
OUTSIDE_COLOUR = "background-color: #f8cbcb"


@dataclass(frozen=True)
class Step:
    """One state of the plan: the plan, its tally and what produced it."""

    plan: Plan
    tally: TerritoryTally
    label: str


@dataclass(frozen=True)
class Workspace:
    """Edit history of one data set, and the units locked for the optimizer.

    Attributes
    ----------
    token : str
        Names the data set the history belongs to (a new data set starts a new workspace).
    steps : tuple of Step
        Every state, oldest first; ``steps[position]`` is the current one.
    position : int
        Index of the current step; steps after it can be redone.
    locked : frozenset of str
        Unit ids the optimizer must keep in their current territory.
    """

    token: str
    steps: tuple[Step, ...]
    position: int = 0
    locked: frozenset[str] = field(default_factory=frozenset)
    max_steps: ClassVar[int] = 200

    @classmethod
    def start(cls, token: str, plan: Plan, units: pd.DataFrame, measures: Iterable[str]) -> Workspace:
        """A workspace whose only step is ``plan`` (a full tally of ``measures``)."""
        return cls(token, (Step(plan, TerritoryTally.from_plan(plan, units, measures), "loaded plan"),))

    @property
    def current(self) -> Step:
        """The current step."""
        return self.steps[self.position]

    @property
    def plan(self) -> Plan:
        """The current plan."""
        return self.current.plan

    @property
    def tally(self) -> TerritoryTally:
        """Measure totals of the current plan."""
        return self.current.tally

    @property
    def can_undo(self) -> bool:
        """True when there is an earlier step."""
        return self.position > 0

    @property
    def can_redo(self) -> bool:
        """True when an undone step can be applied again."""
        return self.position < len(self.steps) - 1

    def _push(self, step: Step) -> Workspace:
        steps = (*self.steps[: self.position + 1], step)[-self.max_steps :]
        return replace(self, steps=steps, position=len(steps) - 1)

    def move(self, unit_ids: Iterable[str], territory_id: str) -> Workspace:
        """Move units to a territory (existing or new); the tally is updated from the moved units only.

        Units already in ``territory_id`` are skipped; moving none returns this workspace.

        Raises
        ------
        PlanError
            For unknown unit ids or an empty territory id.
        """
        target = str(territory_id).strip()
        if not target:
            raise PlanError("give a territory id to move the units to")
        ids = list(dict.fromkeys(str(u) for u in unit_ids))
        if not ids:
            return self
        current = self.tally.territory_of(ids)
        ids = current.index[current != target].tolist()
        if not ids:
            return self
        label = f"moved {len(ids)} unit(s) to {target}"
        return self._push(Step(self.plan.move(ids, target), self.tally.move(ids, target), label))

    def adopt(self, plan: Plan, units: pd.DataFrame, label: str) -> Workspace:
        """Make ``plan`` (e.g. an optimizer's result) the current step, with a full tally."""
        return self._push(Step(plan, TerritoryTally.from_plan(plan, units, self.tally.measures), label))

    def undo(self) -> Workspace:
        """Go back one step (no-op at the start)."""
        return replace(self, position=max(self.position - 1, 0))

    def redo(self) -> Workspace:
        """Re-apply the next step (no-op at the end)."""
        return replace(self, position=min(self.position + 1, len(self.steps) - 1))

    def lock(self, unit_ids: Iterable[str]) -> Workspace:
        """Lock units in their current territory for the optimizer."""
        return replace(self, locked=self.locked | {str(u) for u in unit_ids})

    def unlock(self, unit_ids: Iterable[str]) -> Workspace:
        """Release locked units."""
        return replace(self, locked=self.locked - {str(u) for u in unit_ids})

    def locked_units(self) -> dict[str, str]:
        """``unit_id -> territory_id`` of the locked units in the current plan (for ``locked_units``)."""
        if not self.locked:
            return {}
        return self.tally.territory_of(sorted(self.locked)).to_dict()


def balance_table(
    tally: TerritoryTally, plan: Plan, tolerances: Mapping[str, float], adjacency: Adjacency | None = None
) -> pd.DataFrame:
    """One row per territory: units, reps, each measure's total and deviation (%), pieces, what is out.

    ``<measure>_dev_pct`` is the deviation from the per-rep mean in percent (see
    :func:`planner.plans.metrics.deviations`); ``out_of_tolerance`` names the measures whose
    deviation exceeds their tolerance (empty when balanced).
    """
    measures = list(tolerances)
    reps = rep_counts(plan)
    totals = tally.totals[measures]
    dev = tally.deviations(reps)
    table = pd.DataFrame({"units": tally.counts, "reps": plan.rep_count()}).reindex(totals.index)
    for measure in measures:
        table[measure] = totals[measure]
        table[f"{measure}_dev_pct"] = 100.0 * dev[measure]
    if adjacency is not None:
        table["pieces"] = contiguity_pieces(plan, adjacency).reindex(totals.index).fillna(1).astype(int)
    outside = np.column_stack([(dev[m].abs() > tolerances[m] + 1e-12).to_numpy() for m in measures])
    table["out_of_tolerance"] = [", ".join(np.array(measures)[row]) for row in outside]
    table["reps"] = table["reps"].fillna(0).astype(int)
    return table.rename_axis("territory_id")


def headline_metrics(
    plan: Plan, units: pd.DataFrame, adjacency: Adjacency, tolerances: Mapping[str, float]
) -> pd.Series:
    """Headline numbers: per measure worst deviation and share within tolerance; contiguity; dispersion.

    Percentages are in percent; dispersion is the weighted mean distance (km) of units to
    their territory's centre, averaged over territories.
    """
    report = plan_report(plan, units, adjacency, dict(tolerances), with_polsby_popper=False)
    rows: dict[str, float] = {}
    for measure, row in report.balance.iterrows():
        rows[f"{measure}: worst deviation (%)"] = 100.0 * row["max_abs_dev"]
        rows[f"{measure}: territories within tolerance (%)"] = 100.0 * row["share_within_tol"]
    rows["contiguity violations (extra pieces)"] = float(report.contiguity_violations)
    rows["dispersion, mean (km)"] = float(report.dispersion_km.mean())
    rows["territories"] = float(len(plan.territories))
    return pd.Series(rows)


def compare_metrics(
    plans: Mapping[str, Plan], units: pd.DataFrame, adjacency: Adjacency, tolerances: Mapping[str, float]
) -> pd.DataFrame:
    """:func:`headline_metrics` of several plans side by side (one column per plan)."""
    return pd.DataFrame(
        {name: headline_metrics(plan, units, adjacency, tolerances) for name, plan in plans.items()}
    ).rename_axis("metric")


def change_report(
    before: Plan, after: Plan, units: pd.DataFrame, measures: list[str]
) -> tuple[dict, pd.DataFrame]:
    """Totals moved (units and each measure) and the per-territory change table, from :func:`diff_plans`."""
    diff = diff_plans(before, after, units[measures])
    totals = {"units": diff.n_units_moved} | {m: float(diff.moved[m].sum()) for m in measures}
    table = diff.by_territory
    changed = table[(table["units_out"] > 0) | (table["units_in"] > 0)]
    return totals, changed


def unique_name(name: str, taken: Iterable[str]) -> str:
    """``name``, or ``name (2)``, ``name (3)``... when already taken."""
    existing = set(taken)
    base = name.strip() or "scenario"
    if base not in existing:
        return base
    k = 2
    while f"{base} ({k})" in existing:
        k += 1
    return f"{base} ({k})"


def territory_choices(plan: Plan) -> list[str]:
    """Existing territory ids, sorted."""
    return [str(t) for t in plan.territories]


def summarize_selection(units: pd.DataFrame, unit_ids: Iterable[str], measures: list[str]) -> pd.Series:
    """Sum of ``measures`` over the selected units (zero for an empty selection)."""
    ids = units.index.intersection(pd.Index(list(unit_ids)))
    return units.loc[ids, measures].sum() if len(ids) else pd.Series(np.zeros(len(measures)), index=measures)
