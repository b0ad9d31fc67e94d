"""Adjacency graph of units (rook contiguity by default), with islands linked to the mainland.

Two units are neighbours when they share a border of positive length (rook contiguity):
a rep can drive from one to the other. Borders are found within a small tolerance that
absorbs slivers and gaps left by digitising or generalisation; two units whose borders
run together for less than ``MIN_BORDER_TOLERANCES`` tolerances only meet at a point and
are neighbours only when queen contiguity is asked for. A unit, or a group of units, that
has no neighbour (an island such as Nantucket) is linked to its nearest unit so the graph
is connected, and every such link is reported: territories may then cross water only
along these links.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from planner.data.geometry import equal_area_crs
from planner.errors import PlannerError

DEFAULT_TOLERANCE_M = 10.0
MIN_BORDER_TOLERANCES = 4.0  # a shared border shorter than this many tolerances is a point contact
CONTIGUITY = ("rook", "queen")


@dataclass(frozen=True)
class IslandLink:
    """An edge added to connect an island: ``unit_id`` to its nearest unit ``linked_to``."""

    unit_id: str
    linked_to: str
    distance_km: float

    def __str__(self) -> str:
        return f"{self.unit_id} -> {self.linked_to} ({self.distance_km:.1f} km across a gap)"


@dataclass(frozen=True)
class Adjacency:
    """Undirected adjacency of units.

    Attributes
    ----------
    unit_ids : pandas.Index
        Unit ids; position ``i`` in the matrix is ``unit_ids[i]``.
    matrix : scipy.sparse.csr_array
        Symmetric 0/1 matrix, ``n x n``, no self-loops; includes the island links.
    island_links : tuple of IslandLink
        Edges added to connect units that touch no other unit.
    border_km : numpy.ndarray or None
        Length (km) of the border each pair of neighbours shares, aligned with
        ``matrix.indices`` (CSR order); 0 for island links (and, with queen contiguity,
        for units touching at a corner). Used for the cut-length compactness of the optimizer.
    contiguity : {"rook", "queen"}
        Whether neighbours share a border (rook) or may touch at a point (queen).
    """

    unit_ids: pd.Index
    matrix: sparse.csr_array
    island_links: tuple[IslandLink, ...]
    border_km: np.ndarray | None = None
    contiguity: str = "rook"

    @property
    def n_edges(self) -> int:
        """Number of undirected edges."""
        return int(self.matrix.nnz // 2)

    def neighbors(self, unit_id: str) -> list[str]:
        """Ids of the units adjacent to ``unit_id``."""
        i = self.unit_ids.get_loc(unit_id)
        row = self.matrix.indices[self.matrix.indptr[i] : self.matrix.indptr[i + 1]]
        return [self.unit_ids[j] for j in row]

    def to_networkx(self) -> nx.Graph:
        """The graph as networkx, nodes named by unit id."""
        graph = nx.Graph()
        graph.add_nodes_from(self.unit_ids)
        coo = sparse.triu(self.matrix, k=1).tocoo()
        graph.add_edges_from(zip(self.unit_ids[coo.row], self.unit_ids[coo.col], strict=True))
        return graph

    def edge_frame(self) -> pd.DataFrame:
        """Edges as a frame with columns ``unit_a``, ``unit_b`` (each edge once, a < b by position)."""
        coo = sparse.triu(self.matrix, k=1).tocoo()
        return pd.DataFrame({"unit_a": self.unit_ids[coo.row], "unit_b": self.unit_ids[coo.col]})


def _symmetric(rows: np.ndarray, cols: np.ndarray, n: int) -> sparse.csr_array:
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    data = np.ones(2 * len(rows), dtype=np.int8)
    matrix = sparse.csr_array(
        (data, (np.concatenate([rows, cols]), np.concatenate([cols, rows]))), shape=(n, n)
    )
    matrix.data[:] = 1  # duplicate pairs were summed on construction
    return matrix


def build_adjacency(
    units: gpd.GeoDataFrame,
    *,
    contiguity: str = "rook",
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    link_islands: bool = True,
) -> Adjacency:
    """Adjacency of ``units`` (indexed by unit id): shared borders (rook) by default, islands linked.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        Unit polygons with a CRS, indexed by ``unit_id``.
    contiguity : {"rook", "queen"}
        ``"rook"``: neighbours share a border of positive length; ``"queen"``: a single
        point of contact is enough.
    tolerance_m : float
        Polygons closer than this many metres count as touching.
    link_islands : bool
        Connect every component to its nearest unit outside it until the graph is connected.
    """
    if contiguity not in CONTIGUITY:
        raise PlannerError(f"contiguity is '{contiguity}'; use 'rook' (shared borders) or 'queen'")
    projected = units.geometry.to_crs(equal_area_crs(units)).to_numpy()
    n = len(projected)
    tree = shapely.STRtree(projected)
    rows, cols = tree.query(projected, predicate="dwithin", distance=tolerance_m)
    matrix = _symmetric(rows, cols, n)
    lengths_km = _shared_border_km(matrix, projected, tolerance_m)
    if contiguity == "rook":
        keep = _aligned(lengths_km, matrix) * 1000.0 >= MIN_BORDER_TOLERANCES * tolerance_m
        matrix = _symmetric(np.repeat(np.arange(n), np.diff(matrix.indptr))[keep], matrix.indices[keep], n)
    links: list[IslandLink] = []
    if link_islands and n > 1:
        matrix, links = _link_components(matrix, projected, units.index)
    return Adjacency(
        unit_ids=units.index.copy(),
        matrix=matrix,
        island_links=tuple(links),
        border_km=_aligned(lengths_km, matrix),
        contiguity=contiguity,
    )


def _aligned(lengths_km: sparse.csr_array, matrix: sparse.csr_array) -> np.ndarray:
    """Border length of every entry of ``matrix`` in CSR order (0 for pairs ``lengths_km`` lacks)."""
    if not matrix.nnz:
        return np.zeros(0)
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    return np.asarray(lengths_km[rows, matrix.indices]).ravel()


def _shared_border_km(
    matrix: sparse.csr_array, projected: np.ndarray, tolerance_m: float
) -> sparse.csr_array:
    """Shared border length (km) of every neighbour pair of ``matrix``, as a symmetric sparse matrix.

    The length of the common part of the two boundaries, computed once per pair and
    mirrored. Where the boundaries do not coincide exactly (a sliver or gap from
    digitising), the length of one boundary within ``tolerance_m`` of the other is taken
    instead; a pair that only meets at a point gets a few tolerances at most.
    """
    n = matrix.shape[0]
    rows = np.repeat(np.arange(n), np.diff(matrix.indptr))
    cols = matrix.indices
    upper = np.flatnonzero(rows < cols)
    boundary = shapely.boundary(projected)
    a, b = boundary[rows[upper]], boundary[cols[upper]]
    length = shapely.length(shapely.intersection(a, b))
    loose = np.flatnonzero(length == 0)
    if len(loose):
        near = shapely.intersection(a[loose], shapely.buffer(b[loose], tolerance_m))
        length[loose] = shapely.length(near)
    lookup = sparse.csr_array((length / 1000.0, (rows[upper], cols[upper])), shape=(n, n))
    return lookup + lookup.T


def _link_components(
    matrix: sparse.csr_array, projected: np.ndarray, ids: pd.Index
) -> tuple[sparse.csr_array, list[IslandLink]]:
    """Repeatedly link the smallest component to its nearest unit elsewhere."""
    links: list[IslandLink] = []
    extra_rows: list[int] = []
    extra_cols: list[int] = []
    n_comp, labels = connected_components(matrix, directed=False)
    while n_comp > 1:
        sizes = np.bincount(labels).astype(float)
        sizes[sizes == 0] = np.inf  # labels merged away earlier
        smallest = int(np.argmin(sizes))
        inside = np.flatnonzero(labels == smallest)
        outside = np.flatnonzero(labels != smallest)
        tree = shapely.STRtree(projected[outside])
        (src, dst), dist = tree.query_nearest(projected[inside], return_distance=True, all_matches=False)
        best = int(np.argmin(dist))
        a, b = int(inside[src[best]]), int(outside[dst[best]])
        links.append(IslandLink(str(ids[a]), str(ids[b]), float(dist[best]) / 1000.0))
        extra_rows.append(a)
        extra_cols.append(b)
        labels[labels == smallest] = labels[b]
        n_comp -= 1
    if extra_rows:
        coo = matrix.tocoo()
        matrix = _symmetric(
            np.concatenate([coo.row, extra_rows]), np.concatenate([coo.col, extra_cols]), matrix.shape[0]
        )
    return matrix, links
