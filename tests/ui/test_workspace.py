"""Territory workspace and Scenarios pages (AppTest), and the workspace logic they call.

AppTest has no browser: the territory map's arguments are checked as data, and a
selection made on the map is fed to the page as the map would send it (the map's own
selection tools are driven in the real browser by ``test_browser.py``). File uploads go
through AppTest's ``file_uploader`` support.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from planner.data.adjacency import build_adjacency
from planner.data.demo import load_demo
from planner.plans.metrics import contiguity_violations, detached_units, territory_totals
from planner.plans.plan import Plan
from tests.conftest import components, grid_units, write_grid_dataset
from ui import state
from ui.candidates import panel_options, reformed_territories
from ui.data import load_uploaded_files
from ui.maps import CATEGORICAL, SEQUENTIAL, colour_territories, territory_pairs
from ui.territory_map.component import selection_from_map
from ui.territory_map.layer import STATIC_DIR
from ui.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo():
    return load_demo()


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    # Pages keep their file-derived url paths, so switching before the first run works and
    # skips drawing the overview page first.
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def balance(at: AppTest) -> pd.DataFrame:
    """The balance table (shown worst first), in territory order."""
    [table] = [d.value for d in at.dataframe if "out_of_tolerance" in d.value.columns]
    return table.sort_index()


def map_args(at: AppTest, position: int = 0) -> dict:
    return json.loads(components(at)[position].proto.json_args)


def layer_ids(args: dict) -> list[str]:
    """Unit ids in the order of the map's polygon file (arguments refer to units by position)."""
    return json.loads((STATIC_DIR / args["geometry_url"].removeprefix("/app/static/")).read_text())["ids"]


def select_on_map(at: AppTest, unit_ids: list[str], seq: int = 1) -> None:
    """The session after the map sent a selection of ``unit_ids`` (AppTest cannot fire the map's callback)."""
    at.session_state[state.SELECTION], at.session_state[state.MAP_ECHO] = selection_from_map(
        {"selected": unit_ids, "nonce": "test", "seq": seq}, set(unit_ids)
    )
    at.run()


def move(at: AppTest, unit_ids: list[str], territory: str | None = None, new: str | None = None) -> None:
    select_on_map(at, unit_ids)
    if territory is not None:
        at.selectbox(key=state.MOVE_TARGET).set_value(territory).run()
    if new is not None:
        at.text_input(key=state.NEW_TERRITORY).input(new).run()
    at.button(key="ws_move").click().run()
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture
def workspace_page() -> AppTest:
    return open_page("app_pages/workspace.py")


# ---- the pages -------------------------------------------------------------------------------------


def test_workspace_shows_the_demo_balance_and_an_offline_map(workspace_page, demo):
    at = workspace_page
    table = balance(at)
    expected = territory_totals(demo.plan, demo.units, ["tam_usd", "accounts"])
    assert len(table) == 50
    pd.testing.assert_series_equal(table["tam_usd"], expected["tam_usd"], check_names=False)
    pd.testing.assert_series_equal(table["accounts"], expected["accounts"], check_names=False)
    assert (table["units"].sum(), table["reps"].sum()) == (3108, 50)
    # The inherited demo plan is unbalanced: with +/-5% every territory is out on some measure.
    assert {m.label: m.value for m in at.metric}["Out of tolerance"] == "50"

    args = map_args(at)
    # The polygons are a static file written once; each rerun sends per-unit state only.
    assert args["geometry_url"].startswith("/app/static/maps/units-")
    layer = json.loads((STATIC_DIR / args["geometry_url"].removeprefix("/app/static/")).read_text())
    assert (
        len(layer["ids"]) == len(layer["shapes"]) == len(args["territory_of"]) == len(args["fills"]) == 3108
    )
    assert "Cook County, IL" in layer["names"] and len(layer["points"]) == 2 * 3108
    assert len(layer["borders"]) > 8000  # shared borders between neighbouring counties
    assert set(args["palette"]) <= set(CATEGORICAL) and min(args["fills"]) >= 0
    cook = layer["ids"].index(demo.units.index[demo.units["name"] == "Cook County, IL"][0])
    assert args["territories"][args["territory_of"][cook]] == demo.plan.assignment[layer["ids"][cook]]
    # Territory labels carry the rep: "T01 · S. Patel".
    assert len(args["labels"]) == 50 and all(" · " in label for label in args["labels"])
    assert len(args["homes"]) == 50 and args["selectable"]
    # Units cut off from their territory on shared borders (the demo's plan was drawn over corners).
    assert len(args["detached"]) == len(detached_units(demo.plan, build_adjacency(demo.units)))
    assert "http" not in json.dumps(args)


def test_moving_units_moves_their_tam_between_territories_then_undo_and_redo(workspace_page, demo):
    at = workspace_page
    before = balance(at)
    moved = demo.plan.units_of("T02")[:2].tolist()
    tam = demo.units.loc[moved, "tam_usd"].sum()
    accounts = demo.units.loc[moved, "accounts"].sum()

    move(at, moved, territory="T05")
    after = balance(at)
    assert after.loc["T02", "tam_usd"] == pytest.approx(before.loc["T02", "tam_usd"] - tam)
    assert after.loc["T05", "tam_usd"] == pytest.approx(before.loc["T05", "tam_usd"] + tam)
    assert after.loc["T05", "accounts"] == pytest.approx(before.loc["T05", "accounts"] + accounts)
    assert after.loc["T02", "units"] == before.loc["T02", "units"] - 2
    others = before.index.difference(["T02", "T05"])
    pd.testing.assert_frame_equal(
        after.loc[others, ["tam_usd", "units"]], before.loc[others, ["tam_usd", "units"]]
    )
    expected = territory_totals(demo.plan.move(moved, "T05"), demo.units, ["tam_usd"])["tam_usd"]
    pd.testing.assert_series_equal(after["tam_usd"], expected, check_names=False)
    assert any("Moved 2 unit(s) to T05" in s.value for s in at.success)

    at.button(key="ws_undo").click().run()
    pd.testing.assert_frame_equal(balance(at), before)
    assert at.session_state[state.WORKSPACE].plan.equals(demo.plan)

    at.button(key="ws_redo").click().run()
    pd.testing.assert_frame_equal(balance(at), after)
    assert at.session_state[state.WORKSPACE].plan.assignment[moved].tolist() == ["T05", "T05"]
    assert at.button(key="ws_redo").disabled and not at.button(key="ws_undo").disabled


def test_moving_units_to_a_new_territory_creates_it_and_locks_are_kept(workspace_page, demo):
    at = workspace_page
    moved = demo.plan.units_of("T07")[:3].tolist()
    move(at, moved, new="T51")
    table = balance(at)
    assert len(table) == 51
    assert table.loc["T51", "tam_usd"] == pytest.approx(demo.units.loc[moved, "tam_usd"].sum())
    assert table.loc["T51", "reps"] == 0  # a new territory has no rep yet (its target is one rep's share)

    at.button(key="ws_lock").click().run()
    assert {m.label: m.value for m in at.metric}["Locked units"] == "3"
    assert at.session_state[state.WORKSPACE].locked_units() == dict.fromkeys(moved, "T51")
    args = map_args(at)
    assert sorted(layer_ids(args)[i] for i in args["locked"]) == sorted(moved)  # drawn dashed
    assert "T51" in args["territories"]


def test_moving_every_unit_of_a_territory_away_announces_that_it_leaves_the_plan(workspace_page, demo):
    at = workspace_page
    move(at, demo.plan.units_of("T09").tolist(), territory="T11")
    assert len(balance(at)) == 49
    assert any("T09 now has no units and leaves the plan" in w.value for w in at.warning)
    at.button(key="ws_undo").click().run()
    assert len(balance(at)) == 50


def test_a_unit_moved_away_from_its_territory_is_reported_and_drawn_red(workspace_page, demo):
    from planner.data.adjacency import build_adjacency

    at = workspace_page
    adjacency = build_adjacency(demo.units)
    assignment = demo.plan.assignment
    far = next(
        u for u in demo.plan.units_of("T20") if all(assignment[n] != "T01" for n in adjacency.neighbors(u))
    )
    move(at, [far], territory="T01")
    table = balance(at)
    assert table.loc["T01", "pieces"] == 2
    assert {m.label: m.value for m in at.metric}["Not contiguous"] != "0"
    assert any("T01" in w.value and "2 pieces" in w.value for w in at.warning)
    args = map_args(at)
    assert far in [layer_ids(args)[i] for i in args["detached"]]  # drawn red


def test_colouring_by_a_measure_switches_the_map_to_a_choropleth(workspace_page):
    at = workspace_page
    territory_fills = map_args(at)["fills"]
    at.selectbox(key=state.COLOUR_BY).set_value("tam_usd").run()
    assert not at.exception
    args = map_args(at)
    assert args["fills"] != territory_fills and set(args["palette"]) <= set(SEQUENTIAL)
    assert any("TAM (USD/yr)" in m.value and "$" in m.value for m in at.markdown)  # legend in dollars


def test_a_selection_made_on_the_map_is_summarised_and_echoed_back(workspace_page, demo):
    at = workspace_page
    picked = demo.plan.units_of("T03")[:4].tolist()
    select_on_map(at, picked, seq=7)
    assert any(c.value.startswith("4 unit(s) selected") for c in at.caption)
    args = map_args(at)
    assert sorted(layer_ids(args)[i] for i in args["selected"]) == sorted(picked)
    assert (args["selection_nonce"], args["selection_seq"]) == ("test", 7)  # the map knows Python caught up
    at.button(key="ws_clear").click().run()
    assert map_args(at)["selected"] == []


def test_find_a_territory_outlines_it_and_asks_the_map_to_zoom(workspace_page):
    at = workspace_page
    token = map_args(at)["focus_token"]
    at.selectbox(key=state.FIND_TERRITORY).set_value("T12").run()
    args = map_args(at)
    assert args["territories"][args["focus"]] == "T12" and args["focus_token"] == token + 1


def test_the_balance_table_is_worst_first_with_signed_deviations_and_readable_headers(workspace_page):
    at = workspace_page
    [shown] = [d for d in at.dataframe if "out_of_tolerance" in d.value.columns]
    table = shown.value
    worst = table[[c for c in table.columns if c.endswith("_dev_pct")]].abs().div([5, 5, 5, 5]).max(axis=1)
    assert worst.is_monotonic_decreasing
    assert (table["tam_usd_dev_pct"] < 0).any() and (table["tam_usd_dev_pct"] > 0).any()
    assert table["rep"].str.len().gt(0).all()
    config = json.loads(shown.proto.columns)
    assert (
        config["tam_usd"]["label"] == "TAM (USD/yr)"
        and config["tam_usd_dev_pct"]["label"] == "TAM vs mean (%)"
    )
    assert config["tam_usd"]["type_config"] == {
        "type": "number",
        "format": "dollar",
        "step": 1,
    }  # whole dollars


def test_saving_two_scenarios_and_comparing_them_reports_what_moved(workspace_page, demo):
    at = workspace_page
    at.text_input(key=state.SCENARIO_NAME).input("Inherited")
    at.button(key="ws_save").click().run()
    moved = demo.plan.units_of("T10")[:3].tolist()
    move(at, moved, territory="T11")
    at.text_input(key=state.SCENARIO_NAME).input("West tweak")
    at.button(key="ws_save").click().run()
    assert list(at.session_state[state.SCENARIOS]) == ["Inherited", "West tweak"]

    at.switch_page("app_pages/scenarios.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert (at.selectbox(key=state.SCENARIO_LEFT).value, at.selectbox(key=state.SCENARIO_RIGHT).value) == (
        "Inherited",
        "West tweak",
    )
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Units moved"] == "3"
    assert metrics["TAM (USD/yr) moved"] == f"{demo.units.loc[moved, 'tam_usd'].sum():,.0f}"
    assert metrics["Accounts moved"] == f"{demo.units.loc[moved, 'accounts'].sum():,.0f}"
    assert len(components(at)) == 2  # two maps side by side
    changes = next(d.value for d in at.dataframe if "units_out" in d.value.columns)
    assert changes.loc["T10", "units_out"] == 3 and changes.loc["T11", "units_in"] == 3
    compared = next(d.value for d in at.dataframe if "B - A" in d.value.columns)
    pieces = contiguity_violations(demo.plan, build_adjacency(demo.units))  # drawn over corners
    assert compared.loc["contiguity violations (extra pieces)", "A"] == pieces
    assert compared.loc["territories", "B"] == 50


def test_scenarios_page_runs_without_saved_scenarios():
    at = open_page("app_pages/scenarios.py")
    assert any("No saved scenarios yet" in i.value for i in at.info)
    assert {m.label: m.value for m in at.metric}["Units moved"] == "0"
    assert any("assign every unit to the same territory" in s.value for s in at.success)


def test_uploading_broken_files_lists_every_problem_and_keeps_the_demo(workspace_page):
    at = workspace_page
    at.file_uploader(key=state.UPLOADER).set_value(
        [
            ("units.geojson", b'{"type": "FeatureCollection", "features": [', "application/geo+json"),
            ("alignment.csv", b"unit_id,territory_id\n", "text/csv"),
            ("stuff.csv", b"a,b\n1,2\n", "text/csv"),
        ]
    )
    at.button(key="ws_load_files").click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any(e.startswith("ERROR units.geojson") for e in errors), errors
    assert any(e.startswith("ERROR stuff.csv") and "which table" in e for e in errors), errors
    assert all("Fix:" in e for e in errors)
    assert "demo data" in at.caption[0].value and len(balance(at)) == 50


def test_uploading_a_valid_data_set_switches_to_it_and_the_optimizer_runs(workspace_page, tmp_path):
    at = workspace_page
    folder = write_grid_dataset(tmp_path / "grid", rows=3, cols=4)
    files = [(p.name, p.read_bytes(), "text/plain") for p in sorted(folder.iterdir())]
    at.file_uploader(key=state.UPLOADER).set_value(files)
    at.button(key="ws_load_files").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "12 units in 2 territories" in at.caption[0].value
    table = balance(at)
    assert table["tam_usd"].sum() == pytest.approx(100 * sum(range(1, 13)))
    assert not at.error

    at.slider(key=state.TIME_LIMIT).set_value(2)
    at.button(key="ws_optimize").click().run()
    assert not at.exception, [e.value for e in at.exception]
    [candidate] = at.session_state[state.CANDIDATES].items
    assert at.session_state[state.PREVIEW] == candidate.label  # previewed at once, not yet applied
    assert at.session_state[state.WORKSPACE].position == 0
    assert any("Previewing the proposed plan" in i.value for i in at.info)
    assert candidate.removed == () and candidate.added == ()
    assert candidate.worst_dev_frac <= 1.0 and 0 <= candidate.within_frac <= 1
    at.button(key="ws_accept").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state[state.WORKSPACE].position == 1  # the accepted plan is a step: Undo goes back
    assert at.session_state[state.WORKSPACE].plan.equals(candidate.plan)
    assert state.CANDIDATES not in at.session_state

    at.button(key="ws_use_demo").click().run()
    assert "demo data" in at.caption[0].value and len(balance(at)) == 50


# ---- the logic behind the pages ------------------------------------------------------------------


def grid_plan() -> tuple[pd.DataFrame, Plan]:
    units = grid_units(3, 3).set_index("unit_id")
    plan = Plan(pd.Series(["W" if u.endswith(("c0", "c1")) else "E" for u in units.index], index=units.index))
    return units, plan


def test_workspace_history_undo_redo_and_a_new_edit_drops_the_redo_branch():
    units, plan = grid_plan()
    ws = Workspace.start("grid", plan, units, ["tam_usd"])
    one = ws.move(["r0c0"], "E")
    two = one.move(["r1c0"], "E")
    # TAM is 100 x (index + 1): column c2 holds 300 + 600 + 900, r0c0 100 and r1c0 400.
    assert two.tally.totals["tam_usd"].to_dict() == {"E": 1800 + 100 + 400, "W": 4500 - 2300}
    assert two.undo().undo().plan is plan and not two.undo().undo().can_undo
    branch = two.undo().move(["r2c0"], "E")
    assert len(branch.steps) == 3 and not branch.can_redo
    assert branch.plan.assignment["r1c0"] == "W"
    assert one.move(["r0c0"], "E") is one  # already there: no new step


def test_a_selection_from_the_map_keeps_known_units_and_is_echoed_with_its_sequence():
    selected, echo = selection_from_map({"selected": ["a", "zz", "b"], "nonce": "n1", "seq": 3}, {"a", "b"})
    assert (selected, echo) == (["a", "b"], ("n1", 3))


def test_territory_colours_never_repeat_between_neighbours_on_the_demo_and_stay_stable(demo):
    from planner.data.adjacency import build_adjacency

    edges = build_adjacency(demo.units).edge_frame()
    pairs = territory_pairs(edges, demo.plan.assignment)
    colours = colour_territories(demo.plan.territories, pairs)
    assert not [(a, b) for a, b in pairs if colours[a] == colours[b]]
    assert set(colours.values()) <= set(CATEGORICAL)
    edited = demo.plan.move(demo.plan.units_of("T02")[:1], "T05")
    again = colour_territories(
        edited.territories, territory_pairs(edges, edited.assignment), previous=colours
    )
    assert sum(again[t] != colours[t] for t in edited.territories) <= 2


def test_load_uploaded_files_reports_problems_and_never_raises(tmp_path):
    dataset, problems = load_uploaded_files([("units.parquet", b"not a parquet file")])
    assert dataset is None
    text = [str(p) for p in problems]
    assert any("units.parquet" in t for t in text)
    assert any("no alignment file" in t for t in text)
    folder = write_grid_dataset(tmp_path / "grid")
    dataset, problems = load_uploaded_files([(p.name, p.read_bytes()) for p in folder.iterdir()])
    assert dataset is not None and len(dataset.units) == 9
    assert not [p for p in problems if p.severity == "error"]
    assert load_uploaded_files([])[0] is None


def test_detached_units_are_the_smaller_pieces_of_a_split_territory():
    from planner.data.adjacency import build_adjacency
    from planner.plans.metrics import contiguity_pieces, detached_units

    units, _ = grid_plan()
    split = Plan(
        pd.Series(["B"] * 9, index=units.index).mask(units.index.isin(["r0c0", "r0c1", "r2c2"]), "A")
    )
    adjacency = build_adjacency(units.set_geometry("geometry"))
    assert contiguity_pieces(split, adjacency).to_dict() == {"A": 2, "B": 1}
    assert detached_units(split, adjacency).to_dict() == {"r2c2": "A"}
    assert detached_units(grid_plan()[1], adjacency).empty


def test_the_downloaded_csvs_read_back_as_the_same_plan(tmp_path):
    from planner.plans.files import alignment_csv, read_plan, territory_reps_csv

    units, plan = grid_plan()
    plan = Plan(plan.assignment, pd.Series({"R1": "W", "R2": "E"})).move(["r0c2"], "W")
    (tmp_path / "alignment.csv").write_text(alignment_csv(plan))
    (tmp_path / "territory_reps.csv").write_text(territory_reps_csv(plan))
    assert alignment_csv(plan).splitlines()[0] == "unit_id,territory_id"
    assert read_plan(tmp_path, units.index).equals(plan)


def test_a_measure_that_is_zero_everywhere_is_not_offered_for_balance(workspace_page, tmp_path):
    import geopandas as gpd

    folder = write_grid_dataset(tmp_path / "grid")
    units = gpd.read_file(folder / "units.geojson").drop(columns="workload_hours")
    units.to_file(folder / "units.geojson", driver="GeoJSON")  # the loader fills workload_hours with 0
    at = workspace_page
    at.file_uploader(key=state.UPLOADER).set_value(
        [(p.name, p.read_bytes(), "text/plain") for p in folder.iterdir()]
    )
    at.button(key="ws_load_files").click().run()
    assert not at.exception, [e.value for e in at.exception]
    options = at.multiselect(key=state.BALANCE_MEASURES).options
    assert "TAM (USD/yr)" in options and "Workload (hours/yr)" not in options, options
    table = balance(at)
    assert "workload_hours" not in table.columns
    assert not table.isna().any().any()


def test_a_territory_keeping_less_than_half_its_potential_is_reported_as_reformed():
    units, plan = grid_plan()  # W: columns 0-1, E: column 2
    values = units["tam_usd"]
    # E is rebuilt over the west column: it keeps none of its old units.
    moved = plan.move(["r0c2", "r1c2", "r2c2"], "W").move(["r0c0", "r1c0", "r2c0"], "E")
    assert reformed_territories(plan, moved, values) == ("E",)
    assert reformed_territories(plan, plan.move(["r0c2"], "W"), values) == ()


def test_the_panel_defaults_make_the_primary_hard_and_the_budget_a_multiple_of_the_floor():
    options = panel_options(
        {"tam_usd": 0.05, "accounts": 0.05},
        hard=["tam_usd"],
        budget=1.5,
        floor=0.2,
        keep_homes=False,
        compactness=1.0,
        time_limit_s=5,
        locked={},
    )
    assert [(t.measure, t.hard) for t in options.targets] == [("tam_usd", True), ("accounts", False)]
    assert options.max_disruption == pytest.approx(0.3) and not options.use_rep_homes
    assert (
        panel_options(
            {"tam_usd": 0.05},
            hard=[],
            budget="none",
            floor=0.2,
            keep_homes=True,
            compactness=1.0,
            time_limit_s=5,
            locked={},
        ).max_disruption
        is None
    )
