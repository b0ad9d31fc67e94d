"""Crediting across a mid-period realignment, multi-rep and split credit, roll-up, quotas; deal checks."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from planner.comp import check_deals, check_splits, credit_deals, rep_quotas
from planner.errors import InputError
from planner.plans.approved import ApprovedPlan
from planner.plans.plan import Plan

UNITS = pd.Series({"A1": "U1", "A2": "U2", "A3": "U3", "A9": "U9"})
REPS = pd.DataFrame(
    {"role": ["account_executive"] * 3 + ["manager"], "manager_id": ["M1", "M1", "M1", None]},
    index=pd.Index(["RA", "RB", "RC", "M1"], name="rep_id"),
)


def history() -> list[ApprovedPlan]:
    """v1 from Jan 1: U1, U2 -> T1 (RA); U3 -> T2 (RB, RC). v2 from Jan 16: U1 moves to T2."""
    v1 = Plan(
        pd.Series({"U1": "T1", "U2": "T1", "U3": "T2"}), pd.Series({"RA": "T1", "RB": "T2", "RC": "T2"})
    )
    v2 = v1.move("U1", "T2")
    quotas = pd.DataFrame(
        {
            "territory_id": ["T1", "T2", "T1"],
            "period": ["2026-01", "2026-01", "2026-Q1"],
            "quota_cents": [31_00, 62_01, 0],
        }
    )
    q2 = pd.DataFrame(
        {"territory_id": ["T1", "T2"], "period": ["2026-01", "2026-01"], "quota_cents": [62_00, 31_00]}
    )
    return [
        ApprovedPlan(2, "v2", date(2026, 1, 16), v2, q2),
        ApprovedPlan(1, "v1", date(2026, 1, 1), v1, quotas),
    ]


def deals_of(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["deal_id", "account_id", "close_date", "amount_cents"])
    return check_deals(frame.assign(status="won"))


def test_mid_period_realignment_credits_each_rep_for_their_part():
    deals = deals_of(
        [("D1", "A1", "2026-01-10", 1000), ("D2", "A1", "2026-01-20", 1001), ("D3", "A2", "2026-01-20", 7)]
    )
    credits, uncredited = credit_deals(deals, UNITS, history(), reps=REPS)
    own = credits.loc[credits["source"] != "team"].set_index(["deal_id", "rep_id"])["credit_cents"].to_dict()
    assert own == {("D1", "RA"): 1000, ("D2", "RB"): 501, ("D2", "RC"): 500, ("D3", "RA"): 7}
    team = credits.loc[credits["source"] == "team"]
    assert set(team["rep_id"]) == {"M1"} and team["credit_cents"].sum() == 2008
    assert sorted(team["via_rep_id"]) == ["RA", "RA", "RB", "RC"]
    assert uncredited.empty


def test_quotas_pro_rated_by_days_and_split_evenly():
    quotas = rep_quotas(history(), ["2026-01", "2026-02"], reps=REPS).set_index(["rep_id", "month"])[
        "quota_cents"
    ]
    # RA: v1 T1 3,100 x 15/31 = 1,500; v2 T1 6,200 x 16/31 = 3,200.
    assert quotas[("RA", "2026-01")] == 1500 + 3200
    # RB, RC: v1 T2 6,201 split 3,101 / 3,100, x 15/31 -> 1,500.48 -> 1,500 and 1,500;
    # v2 T2 3,100 split 1,550 / 1,550, x 16/31 = 800 each.
    assert quotas[("RB", "2026-01")] == 1500 + 800
    assert quotas[("RC", "2026-01")] == 1500 + 800
    assert quotas[("M1", "2026-01")] == 4700 + 2300 + 2300
    assert ("RA", "2026-02") not in quotas.index  # no quota given for February


def test_quarterly_quota_spread_over_three_months_exactly():
    plan = Plan(pd.Series({"U1": "T1"}), pd.Series({"RA": "T1"}))
    approved = ApprovedPlan(
        1,
        "q",
        date(2026, 1, 1),
        plan,
        pd.DataFrame({"territory_id": ["T1"], "period": ["2026-Q2"], "quota_cents": [1000]}),
    )
    quotas = rep_quotas([approved], ["2026-04", "2026-05", "2026-06"])
    assert quotas["quota_cents"].tolist() == [334, 333, 333]


def test_split_rows_override_the_territory_and_sum_to_the_amount():
    deals = deals_of([("D1", "A1", "2026-01-10", 100), ("D2", "A3", "2026-01-10", 10)])
    splits = check_splits(
        pd.DataFrame(
            {
                "deal_id": ["D1", "D1", "D1"],
                "rep_id": ["RA", "RB", "RC"],
                "share": ["0.333333", "0.333333", "0.333334"],
            }
        ),
        deals,
        known_reps=REPS.index,
    )
    credits, _ = credit_deals(deals, UNITS, history(), splits=splits)
    d1 = credits.loc[credits["deal_id"] == "D1"].set_index("rep_id")["credit_cents"]
    assert d1.sum() == 100 and d1.to_dict() == {"RA": 33, "RB": 33, "RC": 34}
    assert set(credits.loc[credits["deal_id"] == "D1", "source"]) == {"split"}
    d2 = credits.loc[credits["deal_id"] == "D2"].set_index("rep_id")["credit_cents"]
    assert d2.to_dict() == {"RB": 5, "RC": 5}


def test_vacant_territory_unknown_unit_and_early_deals_are_listed_uncredited():
    plan = Plan(pd.Series({"U1": "T1", "U2": "T9"}), pd.Series({"RA": "T1"}))
    approved = ApprovedPlan(
        1, "v", date(2026, 1, 1), plan, pd.DataFrame(columns=["territory_id", "period", "quota_cents"])
    )
    deals = deals_of(
        [("D1", "A2", "2026-01-10", 5), ("D2", "A9", "2026-01-10", 6), ("D3", "A1", "2025-12-31", 7)]
    )
    credits, uncredited = credit_deals(deals, UNITS, [approved])
    assert credits.empty
    reasons = uncredited.set_index("deal_id")["reason"].to_dict()
    assert reasons["D1"].startswith("territory has no rep")
    assert reasons["D2"] == "the account's unit is not in the approved plan"
    assert reasons["D3"] == "closed before the first approved plan"


def test_bad_deals_are_reported_with_row_and_column():
    frame = pd.DataFrame(
        {
            "deal_id": ["D1", "D1", "D3", "D4"],
            "account_id": ["A1", "A1", "A7", "A1"],
            "close_date": ["2026-01-10", "2026-01-11", "not a date", "2026-02-01"],
            "amount_usd": ["10.00", "-5", "3", "12.345"],
            "status": ["won", "won", "lost", "cancelled"],
            "cancel_date": ["", "", "", "2026-01-01"],
        }
    )
    with pytest.raises(InputError) as caught:
        check_deals(frame, known_accounts=pd.Index(["A1"]), file="deals.csv")
    text = [str(p) for p in caught.value.problems]
    assert (
        "ERROR deals.csv, row 3, column 'deal_id': deal id 'D1' appears more than once. "
        "Fix: give each deal one row" in text
    )
    assert any("row 3, column 'amount_usd'" in t and "'-5'" in t for t in text)
    assert any("row 4, column 'status'" in t and "won, cancelled" in t for t in text)
    assert any("row 4, column 'close_date'" in t for t in text)
    assert any("row 4, column 'account_id'" in t and "'A7'" in t for t in text)
    assert any("row 5, column 'cancel_date'" in t and "before close_date" in t for t in text)


def test_amount_usd_converts_exactly_half_up():
    frame = pd.DataFrame(
        {
            "deal_id": ["D1", "D2"],
            "account_id": "A1",
            "close_date": "2026-01-01",
            "amount_usd": ["0.105", "19.99"],
            "status": "won",
        }
    )
    assert check_deals(frame)["amount_cents"].tolist() == [11, 1999]


def test_split_shares_must_sum_to_one():
    deals = deals_of([("D1", "A1", "2026-01-10", 100)])
    with pytest.raises(InputError) as caught:
        check_splits(
            pd.DataFrame(
                {"deal_id": ["D1", "D1", "D5"], "rep_id": ["RA", "RB", "RA"], "share": ["0.5", "0.4", "1.5"]}
            ),
            deals,
        )
    text = str(caught.value)
    assert "shares of deal 'D1' sum to 0.9, not 1" in text
    assert "row 4, column 'share'" in text and "deal 'D5' is not in the deals table" in text


def test_roll_up_follows_the_manager_tree_and_cuts_cycles():
    reps = pd.DataFrame(
        {
            "role": ["account_executive", "manager", "director", "manager"],
            "manager_id": ["M1", "D1", "", "X2"],
        },
        index=pd.Index(["RA", "M1", "D1", "X2"], name="rep_id"),
    )
    reps.loc["X2", "manager_id"] = "X2"  # a cycle onto itself is ignored
    deals = deals_of([("D1", "A2", "2026-01-05", 500)])
    credits, _ = credit_deals(deals, UNITS, history(), reps=reps)
    rows = credits.astype({"rep_id": str, "via_rep_id": str, "source": str})
    assert sorted(zip(rows["rep_id"], rows["source"], rows["via_rep_id"], strict=True)) == [
        ("D1", "team", "RA"),
        ("M1", "team", "RA"),
        ("RA", "territory", ""),
    ]
    quotas = rep_quotas(history(), ["2026-01"], reps=reps).set_index("rep_id")["quota_cents"]
    assert quotas["D1"] == quotas["M1"] == quotas["RA"]
