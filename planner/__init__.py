"""Terrain planner core: data model, loading, adjacency, plans, metrics and the optimizer.

The core never imports the UI (Streamlit); the app in ``app.py`` is a thin shell over it.
"""

from planner.data.adjacency import Adjacency, IslandLink, build_adjacency
from planner.data.dataset import Dataset, check_files, load_dataset
from planner.errors import InfeasibleError, InputError, PlanError, PlannerError, Problem
from planner.optimize.api import OptimizationResult, optimize_dataset
from planner.optimize.options import BalanceTarget, OptimizeOptions
from planner.plans.plan import Plan, PlanDiff, diff_plans

__all__ = [
    "Adjacency",
    "BalanceTarget",
    "Dataset",
    "InfeasibleError",
    "InputError",
    "IslandLink",
    "OptimizationResult",
    "OptimizeOptions",
    "Plan",
    "PlanDiff",
    "PlanError",
    "PlannerError",
    "Problem",
    "build_adjacency",
    "check_files",
    "diff_plans",
    "load_dataset",
    "optimize_dataset",
]
__version__ = "0.1.0"
