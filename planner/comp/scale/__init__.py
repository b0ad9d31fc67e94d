"""Comp at scale: the same calculation out of core (DuckDB over Parquet) and on a Dask cluster.

Modules: :mod:`~planner.comp.scale.deals` (deals on disk, checked), :mod:`~planner.comp.scale.credit`
(crediting as a DuckDB query, written per partition of reps), :mod:`~planner.comp.scale.partition`
(paying one partition), :mod:`~planner.comp.scale.run` (the whole job on an engine).
"""

from planner.comp.scale.run import ScaleResult, run_comp_out_of_core

__all__ = ["ScaleResult", "run_comp_out_of_core"]
