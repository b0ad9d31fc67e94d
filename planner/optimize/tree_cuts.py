"""Random spanning trees of a region and the sums below every tree edge.

Cutting one edge of a spanning tree splits a connected region into two connected parts.
Drawing the tree as the minimum spanning tree of random edge weights (scipy) gives a
random tree; in its depth-first order every subtree is a contiguous run, so the sums of
any per-unit values below *every* edge come from one prefix sum. Used by recombination
(:mod:`planner.optimize.search.border_search`) and by the recursive bisection start
(:mod:`planner.optimize.bisection`), after GerryChain's ReCom and ``recursive_tree_part``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import depth_first_order, minimum_spanning_tree


@dataclass(frozen=True)
class TreeCuts:
    """The cuts of one random spanning tree of ``n`` units (positions in the region).

    ``below[e]`` sums the values of the units below tree edge ``e``: those units are
    ``order[first[e]:last[e]]``.
    """

    order: np.ndarray
    first: np.ndarray
    last: np.ndarray
    below: np.ndarray

    def part(self, edge: int, n: int) -> np.ndarray:
        """Boolean mask (length ``n``) of the units below tree edge ``edge``."""
        mask = np.zeros(n, dtype=bool)
        mask[self.order[self.first[edge] : self.last[edge]]] = True
        return mask


def region_graph(indptr: np.ndarray, indices: np.ndarray, members: np.ndarray) -> sparse.csr_array:
    """Adjacency (CSR ``indptr``/``indices`` over all units) restricted to ``members``, by position."""
    n_all = len(indptr) - 1
    position = np.full(n_all, -1)
    position[members] = np.arange(len(members))
    rows = np.repeat(np.arange(len(members)), np.diff(indptr)[members])
    cols = position[np.concatenate([indices[indptr[u] : indptr[u + 1]] for u in members])]
    inside = cols >= 0
    n = len(members)
    return sparse.csr_array((np.ones(int(inside.sum())), (rows[inside], cols[inside])), shape=(n, n))


def random_tree_cuts(
    graph: sparse.csr_array, values: np.ndarray, rng: np.random.Generator
) -> TreeCuts | None:
    """Draw a random spanning tree of ``graph`` and sum ``values`` (n x c) below each edge.

    Returns None when the graph is not connected (no spanning tree). Re-weights
    ``graph.data`` in place.
    """
    n = graph.shape[0]
    graph.data = rng.random(len(graph.data)) + 1e-3
    order, parent = depth_first_order(minimum_spanning_tree(graph), 0, directed=False)
    if len(order) < n:
        return None
    size = [1] * n
    parents = parent.tolist()
    for node in order[:0:-1].tolist():
        size[parents[node]] += size[node]
    start = np.empty(n, dtype=np.int64)
    start[order] = np.arange(n)
    below = order[1:]
    first = start[below]
    last = first + np.asarray(size)[below]
    prefix = np.vstack([np.zeros(values.shape[1]), np.cumsum(values[order], axis=0)])
    return TreeCuts(order=order, first=first, last=last, below=prefix[last] - prefix[first])
