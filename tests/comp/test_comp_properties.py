"""Property tests: vectorised engine == per-deal reference, monotone payouts, caps, exact splits, reruns."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.comp import check_deals, check_splits, credit_deals, parse_comp_plan, run_comp
from planner.comp.rates import RateTable
from planner.comp.reference import reference_payouts
from planner.plans.approved import ApprovedPlan
from planner.plans.plan import Plan

MONTHS = tuple(f"2026-{m:02d}" for m in range(1, 13))
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
UNITS = pd.Series({"A1": "U1", "A2": "U2", "A3": "U3"})
REPS = pd.DataFrame(
    {"role": ["ae", "ae", "ae", "mgr"], "manager_id": ["M1", "M1", "M1", None]},
    index=pd.Index(["RA", "RB", "RC", "M1"], name="rep_id"),
)


@st.composite
def components(draw, kind: str | None = None) -> dict:
    kind = kind or draw(st.sampled_from(["single", "marginal", "interpolated"]))
    basis = draw(st.sampled_from(["amount", "attainment"]))
    window = draw(st.sampled_from(["month", "quarter", "year"] + (["deal"] if basis == "amount" else [])))
    n = draw(st.integers(2 if kind == "interpolated" else 1, 4))
    step = st.integers(1, 60) if basis == "attainment" else st.integers(100, 20_000)
    starts = [0 if kind != "interpolated" else draw(st.integers(0, 50))]
    for _ in range(n - 1):
        starts.append(starts[-1] + draw(step))
    if kind == "interpolated":
        payouts = sorted(draw(st.lists(st.integers(0, 5000), min_size=n, max_size=n)))
        if starts[0] == 0:
            payouts[0] = 0  # a curve pays nothing for no credit
        tiers = [{"start": s, "payout_usd": p} for s, p in zip(starts, payouts, strict=True)]
    else:
        rates = draw(st.lists(st.integers(0, 2000), min_size=n, max_size=n))
        tiers = [{"start": s, "rate_pct": f"{r / 100:.2f}"} for s, r in zip(starts, rates, strict=True)]
    component = {"id": f"c-{kind}", "kind": kind, "basis": basis, "window": window, "tiers": tiers}
    if draw(st.booleans()):
        component["threshold"] = draw(st.integers(0, starts[-1] + 10))
    if draw(st.booleans()):
        component["cap_usd"] = draw(st.integers(0, 3000))
    return component


@st.composite
def worlds(draw):
    """Random plans, deals (some cancelled, some split), a mid-year realignment and quotas."""
    ae = {
        "schema_version": 1,
        "name": "ae",
        "roles": ["ae"],
        "components": [draw(components())],
        "clawback": {"window_days": draw(st.integers(0, 120))},
    }
    if draw(st.booleans()):
        ae["spiffs"] = [
            {"id": "s", "bonus_usd": draw(st.integers(1, 500)), "min_amount_usd": draw(st.integers(0, 5000))}
        ]
    if draw(st.booleans()):
        ae["draw"] = {
            "amount_usd": draw(st.integers(0, 400)),
            "recoverable": draw(st.booleans()),
            "end": "2026-06",
        }
    manager = {
        "schema_version": 1,
        "name": "mgr",
        "roles": ["mgr"],
        "credit": "team",
        "components": [draw(components())],
    }
    n = draw(st.integers(1, 30))
    days = draw(st.lists(st.integers(0, 364), min_size=n, max_size=n))
    amounts = draw(st.lists(st.integers(0, 1_500_000), min_size=n, max_size=n))
    accounts = draw(st.lists(st.sampled_from(["A1", "A2", "A3"]), min_size=n, max_size=n))
    cancel = draw(st.lists(st.one_of(st.none(), st.integers(0, 200)), min_size=n, max_size=n))
    start = pd.Timestamp("2026-01-01")
    deals = pd.DataFrame(
        {
            "deal_id": [f"D{i:02d}" for i in range(n)],
            "account_id": accounts,
            "close_date": [start + pd.Timedelta(days=d) for d in days],
            "amount_cents": amounts,
            "status": ["won" if c is None else "cancelled" for c in cancel],
            "cancel_date": [
                pd.NaT if c is None else start + pd.Timedelta(days=d + c)
                for d, c in zip(days, cancel, strict=True)
            ],
        }
    )
    deals = check_deals(deals)
    splits = None
    if draw(st.booleans()):
        share = draw(st.integers(1, 999_999))
        splits = check_splits(
            pd.DataFrame(
                {
                    "deal_id": ["D00", "D00"],
                    "rep_id": ["RA", "RC"],
                    "share": [f"{share / 1e6:.6f}", f"{1 - share / 1e6:.6f}"],
                }
            ),
            deals,
        )
    v1 = Plan(
        pd.Series({"U1": "T1", "U2": "T1", "U3": "T2"}), pd.Series({"RA": "T1", "RB": "T2", "RC": "T2"})
    )
    v2 = v1.move("U2", "T2")
    quota = draw(st.integers(0, 2_000_000))
    quotas = pd.DataFrame(
        {
            "territory_id": ["T1", "T2"] * 12,
            "period": [m for m in MONTHS for _ in range(2)],
            "quota_cents": quota,
        }
    )
    realign = date(2026, draw(st.integers(2, 12)), draw(st.integers(1, 28)))
    approved = [
        ApprovedPlan(1, "v1", date(2026, 1, 1), v1, quotas),
        ApprovedPlan(2, "v2", realign, v2, quotas),
    ]
    return [parse_comp_plan(ae), parse_comp_plan(manager)], deals, splits, approved


@SETTINGS
@given(worlds())
def test_vectorised_engine_matches_the_per_deal_reference(world):
    plans, deals, splits, approved = world
    result = run_comp(deals, UNITS, approved, REPS, plans, MONTHS, splits=splits)
    reference = reference_payouts(deals, UNITS, approved, REPS, plans, MONTHS, splits=splits)
    assert result.payouts().to_dict() == reference


@SETTINGS
@given(worlds())
def test_caps_are_never_exceeded_and_reruns_are_identical(world):
    plans, deals, splits, approved = world
    result = run_comp(deals, UNITS, approved, REPS, plans, MONTHS, splits=splits)
    again = run_comp(deals, UNITS, approved, REPS, plans, MONTHS, splits=splits)
    pd.testing.assert_frame_equal(result.summary, again.summary)
    pd.testing.assert_frame_equal(result.lines, again.lines)
    earned = result.lines.loc[result.lines["line"].isin(["deal", "true-up"])].astype(
        {"deal_id": str, "window": str}
    )
    earned["measured"] = earned["window"].where(earned["window"] != "deal", earned["deal_id"])
    per_window = earned.groupby(["rep_id", "plan", "component", "measured"], observed=True)[
        "earned_cents"
    ].sum()
    for (_, plan_name, component_id, _), cents in per_window.items():
        component = next(
            c for p in plans if p.name == plan_name for c in p.components if c.id == component_id
        )
        assert cents >= 0
        if component.cap_usd is not None:
            assert cents <= int(component.cap_usd * 100)


@SETTINGS
@given(worlds())
def test_split_credits_sum_to_the_deal_amount(world):
    _, deals, splits, approved = world
    credits, uncredited = credit_deals(deals, UNITS, approved, splits=splits, reps=REPS)
    own = credits.loc[credits["source"] != "team"].groupby("deal_id")["credit_cents"].sum()
    amounts = deals.set_index("deal_id")["amount_cents"]
    assert (own == amounts.reindex(own.index)).all()
    assert set(own.index) | set(uncredited["deal_id"]) == set(deals["deal_id"])


@SETTINGS
@given(st.data())
def test_payout_never_decreases_as_credit_grows_without_a_decelerator(data):
    component = data.draw(components(kind=data.draw(st.sampled_from(["single", "marginal", "interpolated"]))))
    if component["kind"] == "single":  # no decelerator: rates never fall from tier to tier
        rates = sorted(float(t["rate_pct"]) for t in component["tiers"])
        for tier, rate in zip(component["tiers"], rates, strict=True):
            tier["rate_pct"] = f"{rate:.2f}"
    table = RateTable.from_component(
        parse_comp_plan(
            {"schema_version": 1, "name": "p", "roles": ["r"], "components": [component]}
        ).components[0]
    )
    quota = np.full(200, data.draw(st.integers(1, 5_000_000)), dtype=np.int64)
    credited = np.sort(
        np.array(data.draw(st.lists(st.integers(0, 10_000_000), min_size=200, max_size=200)), dtype=np.int64)
    )
    bounds, gate = table.bounds_cents(quota)
    earned = table.earned_cents(credited, bounds, gate)
    assert (np.diff(earned) >= 0).all()


def test_a_single_rate_decelerator_can_lower_the_payout():
    """The one documented exception: a lower rate in a higher single-rate tier (decelerator)."""
    component = {
        "id": "c",
        "kind": "single",
        "tiers": [{"start": 0, "rate_pct": 10}, {"start": 1000, "rate_pct": 5}],
    }
    table = RateTable.from_component(
        parse_comp_plan(
            {"schema_version": 1, "name": "p", "roles": ["r"], "components": [component]}
        ).components[0]
    )
    bounds, gate = table.bounds_cents(np.zeros(2, dtype=np.int64))
    assert table.earned_cents(np.array([99_999, 100_000]), bounds, gate).tolist() == [10_000, 5_000]


def test_nothing_credited_earns_nothing_even_when_the_first_point_rounds_to_zero():
    """8% of a 1-cent quota rounds to 0 cents: no sales still pay nothing (engine and reference agree)."""
    component = {
        "id": "c",
        "kind": "interpolated",
        "basis": "attainment",
        "tiers": [{"start": 8, "payout_usd": 242}, {"start": 9, "payout_usd": 365}],
    }
    table = RateTable.from_component(
        parse_comp_plan(
            {"schema_version": 1, "name": "p", "roles": ["r"], "components": [component]}
        ).components[0]
    )
    bounds, gate = table.bounds_cents(np.ones(2, dtype=np.int64))
    assert table.earned_cents(np.array([0, 1]), bounds, gate).tolist() == [0, 36_500]
