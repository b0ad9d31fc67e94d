"""Per-territory totals of unit measures, kept up to date as units move.

A map editor recomputes balance after every click. Regrouping every unit
(:func:`planner.plans.metrics.territory_totals`) costs O(units); a move only changes the
two kinds of territories it touches, so :class:`TerritoryTally` keeps the totals and
updates them from the moved units alone (the tally pattern of GerryChain's updaters).

Model: for territory ``t`` and measure ``m``, ``total[t, m] = sum of value[u, m] over
the units u with label[u] = t``. Moving a set ``S`` of units to territory ``d`` does
``total[label[u], m] -= value[u, m]`` and ``total[d, m] += value[u, m]`` for each ``u``
in ``S``: O(|S| x measures) arithmetic. Tallies are immutable like plans: ``move``
returns a new tally, which costs one copy of the per-unit label array (a few
microseconds for thousands of units) so that the old tally stays valid for undo.

Examples
--------
>>> import pandas as pd
>>> from planner.plans.plan import Plan
>>> units = pd.DataFrame({"tam_usd": [1.0, 2.0, 4.0]}, index=pd.Index(["a", "b", "c"], name="unit_id"))
>>> plan = Plan(pd.Series({"a": "T1", "b": "T1", "c": "T2"}))
>>> tally = TerritoryTally.from_plan(plan, units, ["tam_usd"])
>>> tally.move(["b"], "T2").totals["tam_usd"].to_dict()
{'T1': 1.0, 'T2': 6.0}
>>> tally.totals["tam_usd"].to_dict()  # the original is unchanged
{'T1': 3.0, 'T2': 4.0}
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from planner.errors import PlanError
from planner.plans.metrics import deviations
from planner.plans.plan import Plan


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


class TerritoryTally:
    """Totals of measures per territory for one plan; :meth:`move` gives the tally after an edit.

    Build it with :meth:`from_plan`. The per-unit values are shared between a tally and
    the tallies derived from it (they never change); labels and totals are copied on
    every move, so every tally is an immutable value.

    Attributes
    ----------
    measures : tuple of str
        Measure columns tallied, in order.
    unit_ids : pandas.Index
        Unit ids, in the order of the plan the tally was built from.
    """

    __slots__ = ("_codes", "_counts", "_labels", "_sums", "_territory_ids", "_values", "measures", "unit_ids")

    def __init__(
        self,
        unit_ids: pd.Index,
        measures: tuple[str, ...],
        values: np.ndarray,
        labels: np.ndarray,
        territory_ids: tuple[str, ...],
        sums: np.ndarray,
        counts: np.ndarray,
    ) -> None:
        setter = object.__setattr__
        setter(self, "unit_ids", unit_ids)
        setter(self, "measures", measures)
        setter(self, "_values", values)
        setter(self, "_labels", _frozen(labels))
        setter(self, "_territory_ids", territory_ids)
        setter(self, "_codes", {t: k for k, t in enumerate(territory_ids)})
        setter(self, "_sums", _frozen(sums))
        setter(self, "_counts", _frozen(counts))

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError(f"TerritoryTally is immutable: cannot set '{key}'; use move() for a new tally")

    def __repr__(self) -> str:
        return (
            f"TerritoryTally(units={len(self.unit_ids)}, territories={int((self._counts > 0).sum())}, "
            f"measures={list(self.measures)})"
        )

    @classmethod
    def from_plan(cls, plan: Plan, units: pd.DataFrame, measures: Iterable[str]) -> TerritoryTally:
        """Tally ``measures`` of ``units`` over the territories of ``plan`` (one full pass).

        Parameters
        ----------
        plan : Plan
            The alignment.
        units : pandas.DataFrame
            Indexed by ``unit_id``, covering every unit of ``plan``, with numeric ``measures``.
        measures : iterable of str
            Columns to total.

        Raises
        ------
        PlanError
            When a measure is missing or not numeric, or ``units`` lacks units of the plan.
        """
        names = tuple(dict.fromkeys(measures))
        missing = [m for m in names if m not in units.columns]
        if missing:
            numeric = [c for c in units.columns if pd.api.types.is_numeric_dtype(units[c])]
            raise PlanError(f"measure(s) {missing} not in the units; available: {numeric}")
        not_numeric = [m for m in names if not pd.api.types.is_numeric_dtype(units[m])]
        if not_numeric:
            raise PlanError(f"measure(s) {not_numeric} are not numeric; tally numeric columns only")
        absent = plan.units.difference(units.index)
        if len(absent):
            raise PlanError(
                f"{len(absent)} unit(s) of the plan are not in the units table (e.g. {absent[:5].tolist()})"
            )
        values = units[list(names)].reindex(plan.units).to_numpy(dtype=np.float64, na_value=0.0).copy()
        values = np.nan_to_num(values, nan=0.0)
        territory_ids, labels = np.unique(plan.assignment.to_numpy(dtype=str), return_inverse=True)
        k = len(territory_ids)
        sums = np.zeros((k, len(names)))
        np.add.at(sums, labels, values)
        counts = np.bincount(labels, minlength=k).astype(np.int64)
        return cls(
            plan.units,
            names,
            _frozen(values),
            labels.astype(np.int64),
            tuple(str(t) for t in territory_ids),
            sums,
            counts,
        )

    def move(self, unit_ids: Iterable[str] | str, territory_id: str) -> TerritoryTally:
        """Return the tally after moving ``unit_ids`` to ``territory_id`` (new or existing).

        Costs O(units moved x measures) arithmetic plus one copy of the label array.
        Units already in ``territory_id`` and repeated ids are ignored.

        Raises
        ------
        PlanError
            For unknown unit ids or an empty territory id (as :meth:`planner.plans.plan.Plan.move`).
        """
        ids = [unit_ids] if isinstance(unit_ids, str) else list(unit_ids)
        positions = self.unit_ids.get_indexer(ids) if ids else np.array([], dtype=np.intp)
        if (positions < 0).any():
            unknown = [u for u, p in zip(ids, positions, strict=True) if p < 0]
            raise PlanError(
                f"unknown unit id(s) {unknown[:10]}: not in this tally's {len(self.unit_ids)} units"
            )
        target = str(territory_id)
        if not target.strip():
            raise PlanError("territory id must not be empty")
        territory_ids = self._territory_ids
        sums, counts = self._sums.copy(), self._counts.copy()
        code = self._codes.get(target)
        if code is None:
            code = len(territory_ids)
            territory_ids = (*territory_ids, target)
            sums = np.vstack([sums, np.zeros((1, sums.shape[1]))])
            counts = np.append(counts, 0)
        positions = np.unique(positions)
        positions = positions[self._labels[positions] != code]
        labels = self._labels.copy()
        if len(positions):
            sources = labels[positions]
            moved = self._values[positions]
            np.subtract.at(sums, sources, moved)
            sums[code] += moved.sum(axis=0)
            np.subtract.at(counts, sources, 1)
            counts[code] += len(positions)
            sums[counts == 0] = 0.0  # an emptied territory holds exactly nothing (no rounding residue)
            labels[positions] = code
        return TerritoryTally(self.unit_ids, self.measures, self._values, labels, territory_ids, sums, counts)

    @property
    def territories(self) -> pd.Index:
        """Sorted ids of the territories holding at least one unit (as :attr:`Plan.territories`)."""
        held = [t for t, n in zip(self._territory_ids, self._counts, strict=True) if n > 0]
        return pd.Index(sorted(held), name="territory_id")

    @property
    def totals(self) -> pd.DataFrame:
        """Sum of each measure per non-empty territory (as ``territory_totals`` in metrics)."""
        frame = pd.DataFrame(self._sums, index=pd.Index(self._territory_ids), columns=list(self.measures))
        return frame[self._counts > 0].sort_index().rename_axis("territory_id")

    @property
    def counts(self) -> pd.Series:
        """Number of units per non-empty territory."""
        series = pd.Series(self._counts, index=pd.Index(self._territory_ids), name="units")
        return series[series > 0].sort_index().rename_axis("territory_id")

    def territory_of(self, unit_ids: Iterable[str]) -> pd.Series:
        """Current territory of each of ``unit_ids``."""
        ids = list(unit_ids)
        positions = self.unit_ids.get_indexer(ids)
        if (positions < 0).any():
            unknown = [u for u, p in zip(ids, positions, strict=True) if p < 0]
            raise PlanError(f"unknown unit id(s) {unknown[:10]}")
        names = np.array(self._territory_ids, dtype=object)
        return pd.Series(
            names[self._labels[positions]], index=pd.Index(ids, name="unit_id"), name="territory_id"
        )

    def deviations(self, reps: pd.Series) -> pd.DataFrame:
        """Per territory and measure, deviation from the per-rep target.

        Same definition as :func:`planner.plans.metrics.deviations`, on the tallied totals.

        Parameters
        ----------
        reps : pandas.Series
            Reps per territory id; missing territories count as one rep.
        """
        return deviations(self.totals, reps)
