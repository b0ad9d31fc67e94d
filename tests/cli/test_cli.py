"""The planner CLI: validate reports every planted error; demo writes files that validate."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from planner.cli.main import app
from planner.data.dataset import load_dataset
from planner.data.demo import load_demo

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_help_lists_subcommands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "validate" in result.output and "demo" in result.output


def test_validate_reports_every_planted_error_in_the_broken_sample():
    result = runner.invoke(app, ["validate", str(ROOT / "data/samples/broken")], terminal_width=400)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("ERROR")]
    planted = pd.read_csv(ROOT / "data/samples/broken_planted_errors.csv", dtype=str, keep_default_na=False)
    for error in planted.itertuples():
        where = error.file + (f", row {error.row}" if error.row else "") + f", column '{error.column}'"
        assert any(line.startswith(f"ERROR {where}:") and error.message_contains in line for line in lines), (
            where
        )


def test_validate_accepts_a_valid_data_set(grid_dir):
    result = runner.invoke(app, ["validate", str(grid_dir)], terminal_width=400)
    assert result.exit_code == 0, result.output
    assert "OK no errors: 9 units, 9 accounts, 3 reps, 9 bookings, 2 territories" in result.output


def test_demo_with_zip_cells_in_the_metros_writes_files_the_optimizer_runs_on(tmp_path):
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "zips"), "--geography", "metro-zips"])
    assert result.exit_code == 0, result.output
    zipped = load_dataset(tmp_path / "zips")
    demo = load_demo()
    assert len(zipped.units) == 4_084 and zipped.units.index.str.startswith("Z").sum() == 4_084 - 3_101
    assert zipped.units["tam_usd"].sum() == pytest.approx(demo.units["tam_usd"].sum())
    assert zipped.units["accounts"].sum() == len(demo.accounts)
    out = tmp_path / "plan"
    run = runner.invoke(
        app,
        [
            "optimize",
            str(tmp_path / "zips"),
            "--out",
            str(out),
            "--balance",
            "tam_usd:0.1:hard",
            "--time-limit",
            "3",
        ],
    )
    assert run.exit_code in (0, 2), run.output
    assert len(pd.read_csv(out / "alignment.csv")) == 4_084
    assert runner.invoke(app, ["demo", "--out", str(tmp_path / "x"), "--geography", "states"]).exit_code != 0


def test_demo_writes_plain_files_that_load_to_the_same_data(tmp_path):
    result = runner.invoke(app, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in tmp_path.iterdir()} == {
        "units.geojson",
        "accounts.csv",
        "reps.csv",
        "bookings.csv",
        "alignment.csv",
        "territory_reps.csv",
    }
    exported, shipped = load_dataset(tmp_path), load_demo()
    pd.testing.assert_series_equal(
        exported.plan.assignment.sort_index(), shipped.plan.assignment.sort_index()
    )
    assert exported.units["tam_usd"].sum() == shipped.units["tam_usd"].sum()
    assert exported.units["bookings_usd"].sum() == shipped.units["bookings_usd"].sum()
    assert len(exported.accounts) == len(shipped.accounts)


def test_installed_console_script_runs():
    result = subprocess.run(
        [sys.executable, "-m", "planner.cli", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "validate" in result.stdout


def test_optimize_writes_a_loadable_plan_and_report(grid_dir, tmp_path):
    out = tmp_path / "plan"
    result = runner.invoke(
        app,
        ["optimize", str(grid_dir), "--out", str(out), "--balance", "tam_usd:0.2", "--time-limit", "5"],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    assert "Plan: balanced" in result.output and "contiguity violations 0" in result.output
    from planner.plans.files import read_plan

    dataset = load_dataset(grid_dir)
    plan = read_plan(out, dataset.units.index)
    assert sorted(plan.units) == sorted(dataset.units.index)
    assert set(plan.territory_reps.index) == {"R1", "R2"}
    report = __import__("json").loads((out / "report.json").read_text())
    assert report["status"] == "balanced"
    assert report["summary"]["contiguity_violations"] == 0


def test_optimize_explains_infeasible_requests(grid_dir, tmp_path):
    result = runner.invoke(
        app, ["optimize", str(grid_dir), "--out", str(tmp_path), "--k", "20"], terminal_width=200
    )
    assert result.exit_code == 1
    assert "reduce k to at most 9" in result.output
    bad = runner.invoke(app, ["optimize", str(grid_dir), "--out", str(tmp_path), "--balance", "tam_usd"])
    assert bad.exit_code != 0 and "measure:tolerance" in bad.output


def test_optimize_frontier_prints_the_curve_and_writes_it(grid_dir, tmp_path):
    result = runner.invoke(
        app,
        ["optimize", str(grid_dir), "--out", str(tmp_path), "--frontier", "--time-limit", "1"],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    assert "Frontier: transport floor" in result.output
    frontier = pd.read_csv(tmp_path / "frontier.csv")
    assert len(frontier) == 5 and frontier["budget_frac"].isna().tolist() == [False] * 4 + [True]
    worst = frontier["tam_usd_max_abs_dev"].tolist()
    assert worst == sorted(worst, reverse=True)  # more budget never gives a worse plan
    assert (frontier["moved_tam_usd"] <= frontier["budget_frac"].fillna(1.0) + 1e-9).all()
    assert (tmp_path / "alignment.csv").is_file()


def test_optimize_frontier_with_relocation_states_the_territory_models_least_move(grid_dir, tmp_path):
    result = runner.invoke(
        app,
        [
            "optimize",
            str(grid_dir),
            "--out",
            str(tmp_path),
            "--frontier",
            "--relocate",
            "--balance",
            "tam_usd:0.02:hard",
            "--time-limit",
            "1",
        ],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    least = re.search(r"least move to balance by the\s+territory model ([0-9.]+)%", result.output)
    floor = re.search(r"transport floor ([0-9.]+)%", result.output)
    assert least and floor and float(least.group(1)) >= float(floor.group(1))
