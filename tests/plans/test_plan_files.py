"""Plans are saved atomically: a save that fails midway leaves the previous files intact."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from planner.plans.files import read_plan, write_plan
from planner.plans.plan import Plan


def make_plan(labels) -> Plan:
    return Plan(pd.Series(labels, index=["u0", "u1", "u2"]), pd.Series({"R1": labels[0]}))


def test_round_trip(tmp_path):
    plan = make_plan(["A", "A", "B"])
    write_plan(plan, tmp_path)
    again = read_plan(tmp_path, plan.units)
    assert again.equals(plan)


def test_failed_save_keeps_the_approved_plan(tmp_path, monkeypatch):
    approved = make_plan(["A", "A", "B"])
    write_plan(approved, tmp_path)
    before = (tmp_path / "alignment.csv").read_bytes()

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_plan(make_plan(["B", "B", "B"]), tmp_path)
    assert (tmp_path / "alignment.csv").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no debris left
    monkeypatch.undo()
    assert read_plan(tmp_path, approved.units).equals(approved)
