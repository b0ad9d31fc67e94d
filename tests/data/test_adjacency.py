"""Queen adjacency on hand-checkable grids, island linking, and the demo counties."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.data.adjacency import build_adjacency
from tests.conftest import grid_units


def test_rook_neighbours_share_a_border_and_corners_do_not_count():
    adjacency = build_adjacency(grid_units(3, 3).set_index("unit_id"))
    assert adjacency.contiguity == "rook"
    assert sorted(adjacency.neighbors("r1c1")) == ["r0c1", "r1c0", "r1c2", "r2c1"]
    assert sorted(adjacency.neighbors("r0c0")) == ["r0c1", "r1c0"]
    assert adjacency.n_edges == 3 * 2 + 2 * 3  # horizontal + vertical
    assert (adjacency.border_km > 8.0).all()  # every edge is a shared border of 8.5 or 11.1 km


@settings(max_examples=25, deadline=None)
# Gaps of 0 or 1 mm to 5 m: GEOS's mitred inward buffer by a nanometre can empty a cell (seen with
# gap_m=1e-9), which says nothing about adjacency.
@given(rows=st.integers(1, 6), cols=st.integers(1, 6), gap_m=st.one_of(st.just(0.0), st.floats(1e-3, 5.0)))
def test_rook_neighbours_are_found_across_a_sliver_gap(rows, cols, gap_m):
    # Cells shrunk by a gap of up to 5 m (half the tolerance) on every side: shared edges
    # no longer coincide, yet every rook pair is still found, and no diagonal one.
    units = grid_units(rows, cols).set_index("unit_id")
    projected = units.to_crs("EPSG:5070")
    shrunk = projected.set_geometry(projected.geometry.buffer(-gap_m / 2, join_style="mitre")).to_crs(4326)
    adjacency = build_adjacency(shrunk, link_islands=False)
    assert adjacency.n_edges == rows * (cols - 1) + cols * (rows - 1)


def test_a_unit_that_only_touches_at_a_corner_is_linked_and_reported():
    # r0c0 and r1c1 of a 2 x 2 grid, without the other two cells: they meet at one point.
    units = grid_units(2, 2).set_index("unit_id").loc[["r0c0", "r1c1"]]
    adjacency = build_adjacency(units)
    [link] = adjacency.island_links
    assert {link.unit_id, link.linked_to} == {"r0c0", "r1c1"}
    assert build_adjacency(units, contiguity="queen").island_links == ()


def test_queen_neighbours_on_3x3_grid():
    adjacency = build_adjacency(grid_units(3, 3).set_index("unit_id"), contiguity="queen")
    assert sorted(adjacency.neighbors("r1c1")) == sorted(
        ["r0c0", "r0c1", "r0c2", "r1c0", "r1c2", "r2c0", "r2c1", "r2c2"]
    )
    assert sorted(adjacency.neighbors("r0c0")) == ["r0c1", "r1c0", "r1c1"]
    # queen edges in an r x c grid: horizontal + vertical + 2 per inner square
    assert adjacency.n_edges == 3 * 2 + 2 * 3 + 2 * 4
    assert adjacency.island_links == ()


def test_islands_are_linked_to_nearest_unit_and_reported():
    units = grid_units(2, 2).set_index("unit_id")
    island = gpd.GeoDataFrame(
        {"name": ["Isle"], "region": ["XX"], "tam_usd": [1.0], "workload_hours": [1.0]},
        geometry=[shapely.box(-99.75, 40.0, -99.7, 40.05)],  # 0.05 deg east of r0c1
        index=pd.Index(["isle"], name="unit_id"),
        crs="EPSG:4326",
    )
    adjacency = build_adjacency(pd.concat([units, island]))
    [link] = adjacency.island_links
    assert (link.unit_id, link.linked_to) == ("isle", "r0c1")
    assert 3.5 < link.distance_km < 5.0  # 0.05 degrees of longitude at 40N is about 4.3 km
    assert nx.is_connected(adjacency.to_networkx())


def test_two_separate_islands_both_join_the_mainland():
    units = grid_units(2, 2).set_index("unit_id")
    far = gpd.GeoDataFrame(
        {"name": ["a", "b"], "region": ["XX", "XX"], "tam_usd": [1.0, 1.0], "workload_hours": [1.0, 1.0]},
        geometry=[shapely.box(-99.5, 40.0, -99.45, 40.05), shapely.box(-100.5, 40.0, -100.45, 40.05)],
        index=pd.Index(["east", "west"], name="unit_id"),
        crs="EPSG:4326",
    )
    adjacency = build_adjacency(pd.concat([units, far]))
    assert {link.unit_id for link in adjacency.island_links} == {"east", "west"}
    assert nx.is_connected(adjacency.to_networkx())


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 6), cols=st.integers(1, 6))
def test_grid_adjacency_is_symmetric_connected_and_queen(rows, cols):
    adjacency = build_adjacency(grid_units(rows, cols).set_index("unit_id"), contiguity="queen")
    matrix = adjacency.matrix
    assert (matrix != matrix.T).nnz == 0
    assert matrix.diagonal().sum() == 0
    expected = rows * (cols - 1) + cols * (rows - 1) + 2 * max(rows - 1, 0) * max(cols - 1, 0)
    assert adjacency.n_edges == expected
    assert nx.is_connected(adjacency.to_networkx())


def test_demo_counties_adjacency_is_connected_with_known_islands():
    from planner.data.demo import load_demo

    units = load_demo().units
    adjacency = build_adjacency(units)
    graph = adjacency.to_networkx()
    assert nx.is_connected(graph)
    # Cook County IL (17031) touches Lake, DuPage, Will, Kane? no: Lake, McHenry? Check a sure one:
    assert "17043" in adjacency.neighbors("17031")  # DuPage borders Cook
    islands = {link.unit_id for link in adjacency.island_links}
    assert {"25019", "53055"} <= islands  # Nantucket MA, San Juan WA
    assert 5.0 < adjacency.n_edges / len(units) * 2 < 7.0  # mean degree of US counties is about 6


def test_shared_border_lengths_are_the_common_edges_and_zero_at_corners():
    # 0.1 degree squares near 40 N: a shared vertical edge is 0.1 degree of latitude
    # (about 11.1 km); a shared horizontal edge is 0.1 degree of longitude at 40 N
    # (about 8.5 km); diagonal (queen) neighbours only touch at a corner.
    adjacency = build_adjacency(grid_units(2, 2).set_index("unit_id"), contiguity="queen")
    ids = adjacency.unit_ids
    matrix = adjacency.matrix
    lengths = {}
    for i in range(len(ids)):
        for entry in range(matrix.indptr[i], matrix.indptr[i + 1]):
            lengths[ids[i], ids[matrix.indices[entry]]] = adjacency.border_km[entry]
    assert lengths["r0c0", "r0c1"] == pytest.approx(11.1, abs=0.2)
    assert lengths["r0c0", "r1c0"] == pytest.approx(8.5, abs=0.2)
    assert lengths["r0c0", "r1c1"] == pytest.approx(0.0, abs=0.1)
    assert all(lengths[a, b] == lengths[b, a] for a, b in lengths)


def test_units_without_a_crs_or_with_contradicting_coordinates_get_a_clear_error():
    from planner.errors import PlannerError
    from planner.optimize import OptimizeOptions, optimize
    from planner.plans.metrics import unit_points_km

    bare = grid_units(2, 2).set_index("unit_id").set_crs(None, allow_override=True)
    for call in (lambda: build_adjacency(bare), lambda: unit_points_km(bare)):
        with pytest.raises(PlannerError, match=r"no coordinate reference system.*set_crs\('EPSG:4326'\)"):
            call()
    metres = grid_units(2, 2).set_index("unit_id")
    metres = metres.set_geometry(metres.geometry.scale(1e5, 1e5, origin=(0, 0)))  # metres labelled degrees
    with pytest.raises(PlannerError, match="which is not degrees"):
        build_adjacency(metres)
    good = grid_units(2, 2).set_index("unit_id")
    with pytest.raises(PlannerError, match="no coordinate reference system"):
        optimize(bare, build_adjacency(good), n_reps=2, options=OptimizeOptions())
