"""The border search, split the way GerryChain splits a chain.

- :mod:`~planner.optimize.search.state`: labels, rep counts and tallies; ``apply``,
  ``snapshot``/``restore`` and ``trial()``, which keeps or undoes a group of changes;
- :mod:`~planner.optimize.search.score`: pure scoring of a move, a swap or a rep change;
- :mod:`~planner.optimize.search.accept`: named acceptance predicates;
- :mod:`~planner.optimize.search.moves`: one module per family of moves;
- :mod:`~planner.optimize.search.schedule`: which move runs when, and which plan is kept.
"""

from planner.optimize.search.schedule import SearchStats, default_recombination, run_search
from planner.optimize.search.state import SearchState

__all__ = ["SearchState", "SearchStats", "default_recombination", "run_search"]
