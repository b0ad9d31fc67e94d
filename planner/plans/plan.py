"""A plan (alignment) as an immutable value, and the diff of two plans.

A :class:`Plan` maps every unit to exactly one territory and every territory to the
reps who cover it. Edits never change a plan: :meth:`Plan.move` returns a new plan
whose ``parent`` is the old one, which gives undo and history for free.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.errors import PlanError


def _read_only(values: pd.Series) -> np.ndarray:
    array = values.to_numpy(dtype=object, copy=True)
    array.flags.writeable = False
    return array


class Plan:
    """An alignment of units to territories and of territories to reps; immutable.

    Parameters
    ----------
    assignment : pandas.Series
        ``territory_id`` (str) indexed by ``unit_id``; every unit exactly once.
    territory_reps : pandas.Series, optional
        ``territory_id`` indexed by ``rep_id``: who covers which territory. A territory
        may have several reps (multi-rep) or none (vacant).
    name : str
        Label shown in the UI and in reports.
    parent : Plan or None
        The plan this one was derived from by an edit.

    Notes
    -----
    ``assignment`` and ``territory_reps`` return fresh Series on every access, so
    changing what they return never changes the plan.
    """

    __slots__ = ("_rep_ids", "_reps", "_territory", "_units", "name", "parent")

    def __init__(
        self,
        assignment: pd.Series,
        territory_reps: pd.Series | None = None,
        *,
        name: str = "plan",
        parent: Plan | None = None,
    ) -> None:
        if assignment.index.has_duplicates:
            dup = assignment.index[assignment.index.duplicated()].unique().tolist()
            raise PlanError(f"units assigned more than once: {dup[:10]}; give each unit one territory")
        if assignment.isna().any():
            missing = assignment.index[assignment.isna()].tolist()
            raise PlanError(f"units without a territory: {missing[:10]}; assign each unit a territory")
        reps = territory_reps if territory_reps is not None else pd.Series(dtype=object)
        if reps.index.has_duplicates:
            dup = reps.index[reps.index.duplicated()].unique().tolist()
            raise PlanError(f"reps covering more than one territory: {dup[:10]}; give each rep one territory")
        setter = object.__setattr__
        setter(self, "_units", pd.Index(assignment.index.astype(str), name="unit_id"))
        setter(self, "_territory", _read_only(assignment.astype(str)))
        setter(self, "_rep_ids", pd.Index(reps.index.astype(str), name="rep_id"))
        setter(self, "_reps", _read_only(reps.astype(str)))
        setter(self, "name", name)
        setter(self, "parent", parent)

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError(f"Plan is immutable: cannot set '{key}'; use move() for a new plan")

    def __repr__(self) -> str:
        return f"Plan(name={self.name!r}, units={len(self._units)}, territories={len(self.territories)})"

    @property
    def assignment(self) -> pd.Series:
        """``territory_id`` indexed by ``unit_id`` (a fresh Series)."""
        return pd.Series(self._territory, index=self._units, name="territory_id", copy=False)

    @property
    def territory_reps(self) -> pd.Series:
        """``territory_id`` indexed by ``rep_id`` (a fresh Series)."""
        return pd.Series(self._reps, index=self._rep_ids, name="territory_id", copy=False)

    @property
    def territories(self) -> pd.Index:
        """Sorted ids of the territories that hold at least one unit."""
        return pd.Index(sorted(set(self._territory)), name="territory_id")

    @property
    def units(self) -> pd.Index:
        """Unit ids of the plan."""
        return self._units

    def units_of(self, territory_id: str) -> pd.Index:
        """Unit ids assigned to ``territory_id``."""
        return self._units[self._territory == territory_id]

    def reps_of(self, territory_id: str) -> list[str]:
        """Rep ids covering ``territory_id`` (empty when vacant)."""
        return self._rep_ids[self._reps == territory_id].tolist()

    def rep_count(self) -> pd.Series:
        """Number of reps per territory (0 for vacant territories), indexed by territory_id."""
        counts = self.territory_reps.value_counts()
        return counts.reindex(self.territories, fill_value=0).astype(int).rename("reps")

    def move(self, unit_ids: Iterable[str] | str, territory_id: str, *, name: str | None = None) -> Plan:
        """Return a new plan with ``unit_ids`` moved to ``territory_id``.

        The territory may be new (a territory is created by moving a unit into it).
        Raises :class:`PlanError` for unknown unit ids.
        """
        ids = [unit_ids] if isinstance(unit_ids, str) else list(unit_ids)
        positions = self._units.get_indexer(ids)
        if (positions < 0).any():
            unknown = [u for u, p in zip(ids, positions, strict=True) if p < 0]
            raise PlanError(f"unknown unit id(s) {unknown[:10]}: not in this plan's {len(self._units)} units")
        if not str(territory_id).strip():
            raise PlanError("territory id must not be empty")
        new = self._territory.copy()
        new[positions] = str(territory_id)
        return Plan(
            pd.Series(new, index=self._units), self.territory_reps, name=name or self.name, parent=self
        )

    def with_assignment(self, assignment: Mapping[str, str] | pd.Series, *, name: str | None = None) -> Plan:
        """Return a new plan with a whole new assignment (e.g. an optimizer's result)."""
        series = pd.Series(assignment)
        missing = self._units.difference(series.index)
        extra = series.index.difference(self._units)
        if len(missing) or len(extra):
            raise PlanError(
                f"new assignment must cover the same units: {len(missing)} missing "
                f"(e.g. {missing[:5].tolist()}), {len(extra)} unknown (e.g. {extra[:5].tolist()})"
            )
        return Plan(series.reindex(self._units), self.territory_reps, name=name or self.name, parent=self)

    def history(self) -> list[Plan]:
        """Return this plan and its ancestors, newest first."""
        chain: list[Plan] = []
        plan: Plan | None = self
        while plan is not None:
            chain.append(plan)
            plan = plan.parent
        return chain

    def equals(self, other: Plan) -> bool:
        """True when both plans assign the same units to the same territories and reps."""
        return self.assignment.sort_index().equals(other.assignment.sort_index()) and (
            self.territory_reps.sort_index().equals(other.territory_reps.sort_index())
        )


@dataclass(frozen=True)
class PlanDiff:
    """What changed between a ``before`` and an ``after`` plan.

    Attributes
    ----------
    moved : pandas.DataFrame
        One row per moved unit (index ``unit_id``): ``from_territory``, ``to_territory``
        and the unit's measures.
    by_territory : pandas.DataFrame
        Per territory (index ``territory_id``): ``units_out``, ``units_in`` and, per
        measure, ``<measure>_out`` and ``<measure>_in`` (sums over moved units).
    share_moved : pandas.Series
        Per measure (and ``units``), the share of the total that changed territory, 0-1.
    """

    moved: pd.DataFrame
    by_territory: pd.DataFrame
    share_moved: pd.Series

    @property
    def n_units_moved(self) -> int:
        """Number of units that changed territory."""
        return len(self.moved)


def diff_plans(before: Plan, after: Plan, measures: pd.DataFrame) -> PlanDiff:
    """Units, and measure totals (accounts, TAM, ...), that moved from ``before`` to ``after``.

    Parameters
    ----------
    before, after : Plan
        Plans over the same units.
    measures : pandas.DataFrame
        Numeric measures indexed by ``unit_id`` (e.g. ``tam_usd``, ``accounts``).
    """
    if not before.units.sort_values().equals(after.units.sort_values()):
        raise PlanError("plans cover different units; a diff needs the same units in both")
    old = before.assignment
    new = after.assignment.reindex(old.index)
    changed = (old != new).to_numpy()
    values = measures.reindex(old.index).fillna(0.0)
    moved = pd.DataFrame(
        {"from_territory": old[changed], "to_territory": new[changed]}, index=old.index[changed]
    ).join(values[changed])
    parts = {
        "units_out": moved.groupby("from_territory").size(),
        "units_in": moved.groupby("to_territory").size(),
    }
    for col in values.columns:
        parts[f"{col}_out"] = moved.groupby("from_territory")[col].sum()
        parts[f"{col}_in"] = moved.groupby("to_territory")[col].sum()
    territories = before.territories.union(after.territories)
    by_territory = pd.DataFrame(parts).reindex(territories).fillna(0.0).rename_axis("territory_id")
    totals = values.sum()
    share = pd.Series(
        {"units": changed.mean() if len(changed) else 0.0}
        | {c: (values.loc[changed, c].sum() / totals[c] if totals[c] else 0.0) for c in values.columns},
        name="share_moved",
    )
    return PlanDiff(moved=moved, by_territory=by_territory, share_moved=share.astype(np.float64))
