"""The territory optimizer: options, instance building, construction, the exact model and the search.

Public entry points are :func:`optimize` and :func:`optimize_dataset`; the border search lives
in :mod:`planner.optimize.search`.
"""

from planner.optimize.api import (
    STATUS_INFEASIBLE,
    OptimizationResult,
    optimize,
    optimize_dataset,
    protected_unit_locks,
)
from planner.optimize.options import BalanceTarget, OptimizeOptions, ProgressCallback

__all__ = [
    "STATUS_INFEASIBLE",
    "BalanceTarget",
    "OptimizationResult",
    "OptimizeOptions",
    "ProgressCallback",
    "optimize",
    "optimize_dataset",
    "protected_unit_locks",
]
