"""Terrain planner core: data model, loading, adjacency and plans (no UI imports here)."""

from planner.adjacency import Adjacency, IslandLink, build_adjacency
from planner.dataset import Dataset, check_files, load_dataset
from planner.errors import InputError, PlanError, PlannerError, Problem
from planner.plan import Plan, PlanDiff, diff_plans

__all__ = [
    "Adjacency",
    "Dataset",
    "InputError",
    "IslandLink",
    "Plan",
    "PlanDiff",
    "PlanError",
    "PlannerError",
    "Problem",
    "build_adjacency",
    "check_files",
    "diff_plans",
    "load_dataset",
]
__version__ = "0.1.0"
