"""The shipped demo data: real geography, rebuildable bit for bit, a visibly unbalanced current plan."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from planner.data.adjacency import build_adjacency
from planner.data.demo import DEMO_DIR, load_demo
from planner.plans.metrics import contiguity_pieces

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo():
    return load_demo()


def test_demo_is_the_contiguous_us_with_real_measures(demo):
    units = demo.units
    assert len(units) == 3108
    assert units["region"].nunique() == 49  # 48 states and DC
    assert units.loc["17031", "name"] == "Cook County, IL"
    # BLS LAUS 2009: Cook County's labor force was about 2.6 million
    assert 2.4e6 < units.loc["17031", "labor_force"] < 2.8e6
    assert units["labor_force"].sum() == pytest.approx(153e6, rel=0.03)
    assert (units[["tam_usd", "accounts", "workload_hours", "bookings_usd"]] >= 0).all().all()


def test_demo_history_covers_36_months(demo):
    months = demo.bookings["date"].dt.to_period("M").nunique()
    assert months >= 36
    assert demo.bookings["unit_id"].notna().all()


def test_current_alignment_is_contiguous_and_visibly_unbalanced(demo):
    # Drawn over queen contiguity, as inherited plans sometimes are: connected through corners,
    # and on shared borders (rook, what the optimizer uses) 9 territories are in pieces.
    graph = build_adjacency(demo.units, contiguity="queen").to_networkx()
    for territory in demo.plan.territories:
        assert nx.is_connected(graph.subgraph(demo.plan.units_of(territory))), territory
    pieces = contiguity_pieces(demo.plan, build_adjacency(demo.units))
    assert (pieces > 1).sum() == 9
    tam = demo.units["tam_usd"].groupby(demo.plan.assignment).sum()
    assert tam.max() / tam.mean() > 2.0 and tam.min() / tam.mean() < 0.5
    assert set(demo.plan.territory_reps.index) <= set(demo.reps.index)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.mark.skipif(
    importlib.util.find_spec("_plotly_geo") is None or importlib.util.find_spec("bokeh_sampledata") is None,
    reason="needs the data extra (plotly-geo, bokeh_sampledata)",
)
def test_generator_rebuilds_the_shipped_files(tmp_path):
    spec = importlib.util.spec_from_file_location("generate", ROOT / "data" / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    generate.write(generate.build(), tmp_path)
    for shipped in sorted(DEMO_DIR.glob("*.parquet")):
        rebuilt = tmp_path / shipped.name
        if _md5(rebuilt) != _md5(shipped):  # bytes differ across library versions: compare content
            pd.testing.assert_frame_equal(pd.read_parquet(rebuilt), pd.read_parquet(shipped))
