"""The territory optimizer: options, instance building, construction, the exact model and the search.

Public entry points are :func:`optimize` and :func:`optimize_dataset`; the border search lives
in :mod:`planner.optimize.search`.
"""

from planner.optimize.api import (
    OptimizationResult,
    Outcome,
    optimize,
    optimize_dataset,
    protected_unit_locks,
)
from planner.optimize.options import BalanceTarget, OptimizeOptions, ProgressCallback

__all__ = [
    "BalanceTarget",
    "OptimizationResult",
    "OptimizeOptions",
    "Outcome",
    "ProgressCallback",
    "optimize",
    "optimize_dataset",
    "protected_unit_locks",
]
