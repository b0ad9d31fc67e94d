"""Comp plan files: the shipped YAML and TOML load; bad files are rejected with clear messages."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from planner.comp.plan_file import load_comp_plan, parse_comp_plan
from planner.errors import InputError

ROOT = Path(__file__).resolve().parents[2]

GOOD = """
schema_version: 1
name: AE
roles: [account_executive]
components:
  - id: commission
    kind: marginal
    basis: attainment
    base_rate_pct: 8
    tiers:
      - {start: 0, multiplier: 0.5}
      - {start: 100, multiplier: 1.5}
"""


def problems_of(tmp_path: Path, text: str, suffix: str = ".yaml") -> list[str]:
    path = tmp_path / f"plan{suffix}"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_comp_plan(path)
    return [str(p) for p in caught.value.problems]


def test_shipped_plans_load_with_exact_decimals():
    ae = load_comp_plan(ROOT / "data/comp/account_executive.yaml")
    manager = load_comp_plan(ROOT / "data/comp/manager.toml")
    assert ae.components[0].rates_pct() == [Decimal("0.25"), Decimal("0.5"), Decimal("0.75"), Decimal("0.5")]
    assert ae.draw.recoverable and ae.draw.active("2026-02") and not ae.draw.active("2026-04")
    assert manager.credit == "team" and manager.components[0].threshold == 60
    assert manager.components[0].rates_pct() == [Decimal("0.1"), Decimal("0.15")]


def test_yaml_and_toml_give_the_same_plan(tmp_path):
    toml = """
schema_version = 1
name = "AE"
roles = ["account_executive"]
[[components]]
id = "commission"
kind = "marginal"
basis = "attainment"
base_rate_pct = 8
tiers = [{start = 0, multiplier = 0.5}, {start = 100, multiplier = 1.5}]
"""
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "a.toml").write_text(toml)
    assert load_comp_plan(tmp_path / "a.yaml") == load_comp_plan(tmp_path / "a.toml")


def test_unsorted_tiers_and_negative_rate_name_the_field(tmp_path):
    text = GOOD.replace("{start: 100, multiplier: 1.5}", "{start: 100, rate_pct: -2}")
    [problem] = problems_of(tmp_path, text)
    assert "column 'components.0.tiers.1.rate_pct'" in problem
    assert "greater than or equal to 0" in problem and "-2" in problem
    text = GOOD.replace("{start: 0, multiplier: 0.5}", "{start: 150, multiplier: 0.5}")
    [problem] = problems_of(tmp_path, text)
    assert "strictly increasing" in problem and "components.0" in problem


def test_unknown_kind_field_and_missing_roles_are_all_reported(tmp_path):
    text = GOOD.replace("kind: marginal", "kind: tiered").replace("roles: [account_executive]\n", "")
    text = text.replace("basis: attainment", "basis: attainment\n    colour: red")
    problems = problems_of(tmp_path, text)
    assert any("column 'roles'" in p and "Field required" in p for p in problems)
    assert any("components.0.kind" in p and "'single', 'marginal' or 'interpolated'" in p for p in problems)
    assert any("components.0.colour" in p and "Extra inputs are not permitted" in p for p in problems)


def test_multiplier_without_base_rate_and_interpolated_without_payouts(tmp_path):
    [problem] = problems_of(tmp_path, GOOD.replace("    base_rate_pct: 8\n", ""))
    assert "multiplier need the component's base_rate_pct" in problem
    text = GOOD.replace("kind: marginal", "kind: interpolated")
    [problem] = problems_of(tmp_path, text)
    assert "payout_usd" in problem
    text = text.replace("{start: 0, multiplier: 0.5}", "{start: 0, payout_usd: 5}")
    text = text.replace("{start: 100, multiplier: 1.5}", "{start: 100, payout_usd: 9}")
    [problem] = problems_of(tmp_path, text)
    assert "pays nothing for no credit" in problem and "components.0" in problem


def test_too_many_decimals_and_two_values_in_a_tier(tmp_path):
    [problem] = problems_of(tmp_path, GOOD.replace("multiplier: 0.5}", "multiplier: 0.5, rate_pct: 3}"))
    assert "exactly one of rate_pct, multiplier, payout_usd" in problem
    [problem] = problems_of(tmp_path, GOOD.replace("base_rate_pct: 8", "base_rate_pct: 8.123456"))
    assert "base_rate_pct" in problem and "decimal places" in problem


def test_syntax_errors_give_the_line(tmp_path):
    [problem] = problems_of(tmp_path, GOOD.replace("roles: [account_executive]", "roles: [account_executive"))
    assert "YAML syntax error" in problem and ", row " in problem
    [problem] = problems_of(tmp_path, 'schema_version = 1\nname = "x\n', ".toml")
    assert "TOML syntax error" in problem and "line 2" in problem


def test_wrong_schema_version_and_file_type(tmp_path):
    [problem] = problems_of(tmp_path, GOOD.replace("schema_version: 1", "schema_version: 2"))
    assert "schema_version is 2" in problem and "set schema_version: 1" in problem
    [problem] = problems_of(tmp_path, GOOD, ".json")
    assert "unknown plan file type '.json'" in problem
    with pytest.raises(InputError, match="cannot read the file"):
        load_comp_plan(tmp_path / "missing.yaml")


def test_duplicate_ids_and_bad_draw_month():
    data = {
        "schema_version": 1,
        "name": "x",
        "roles": ["a"],
        "components": [{"id": "c", "kind": "single", "tiers": [{"start": 0, "rate_pct": 1}]}],
        "spiffs": [{"id": "c", "bonus_usd": 5}],
        "draw": {"amount_usd": 100, "start": "2026-13"},
    }
    with pytest.raises(InputError) as caught:
        parse_comp_plan(data)
    text = str(caught.value)
    assert "draw.start" in text and "2026-13" in text
    data["draw"] = {"amount_usd": 100}
    with pytest.raises(InputError, match=r"must be unique, repeated: \['c'\]"):
        parse_comp_plan(data)
