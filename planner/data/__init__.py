"""The map and its tables: schema, checked loading, geometry, adjacency and the demo data set."""

from planner.data.adjacency import Adjacency, IslandLink, build_adjacency
from planner.data.dataset import Dataset, check_files, load_dataset
from planner.data.demo import load_demo

__all__ = [
    "Adjacency",
    "Dataset",
    "IslandLink",
    "build_adjacency",
    "check_files",
    "load_dataset",
    "load_demo",
]
