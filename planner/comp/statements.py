"""Statements: a rep's ledger with every figure traced to its deal, tier and rate; CSV and HTML.

A ledger lists, month by month, the deal lines of each component (credited amount,
window-to-date total before and after, the tier and rate, the cents earned and a
sentence explaining the sum), true-ups, SPIFFs and clawbacks, then the month's
earnings, draw top-up, recovery, balance owed and payout. The lines of a month add up
to its earnings, and earnings + draw - recovery = payout, so a rep can check every
number by hand. Money is shown in dollars with two decimals, computed from integer cents.

For all reps at once, :func:`write_statement_lines` writes one CSV of every line with
integer cents and rates (no sentences), fast enough for a million deals (pyarrow's CSV
writer).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from planner.comp.calculate import CompResult
from planner.comp.plan_file import Component, CompPlan
from planner.comp.rates import RateTable
from planner.money import cents_to_usd, format_usd

ON_HOLD = "on hold"  #: the ledger's last section: earned, held past the months calculated
LEDGER_COLUMNS = (
    "month",
    "item",
    "component",
    "deal_id",
    "close_date",
    "credit_usd",
    "window",
    "cum_before_usd",
    "cum_after_usd",
    "rate_pct",
    "amount_usd",
    "explanation",
)


def usd(cents: int) -> str:
    """Integer cents as dollars text, e.g. ``-123456`` -> ``-1234.56`` (exact)."""
    return str(cents_to_usd(cents))


def _money(cents: int) -> str:
    """Cents as statement money, the minus before the dollar sign: ``-123456`` -> ``'-$1,234.56'``."""
    return format_usd(cents, sign_before_symbol=True)


def _plan_usd(amount_usd: Decimal) -> str:
    """A comp plan file's dollars as written there: ``Decimal('500')`` -> ``'$500'``."""
    return format_usd(usd=amount_usd, decimals=None)


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def _component(plan: CompPlan, component_id: str) -> Component | None:
    return next((c for c in plan.components if c.id == component_id), None)


def _marginal_pieces(component: Component, bounds: list[int], before: int, after: int) -> tuple[str, str]:
    """Rate text and the tier-by-tier sum of a marginal deal line."""
    rates = component.rates_pct()
    parts = []
    for i, rate in enumerate(rates):
        upper = bounds[i + 1] if i + 1 < len(bounds) else None
        top = after if upper is None else min(after, upper)
        piece = max(0, top - max(before, bounds[i]))
        if piece > 0:
            parts.append(f"{_money(piece)} at {_pct(rate)}")
    reached = sum(1 for b in bounds if b <= after) - 1
    return _pct(rates[max(reached, 0)]), " + ".join(parts) or "no amount in a paid tier"


def _bounds(component: Component, quota: int, cache: dict) -> tuple[list[int], int]:
    key = (id(component), quota)
    if key not in cache:
        bounds, gate = RateTable.from_component(component).bounds_cents(np.array([quota], dtype=np.int64))
        cache[key] = (bounds[0].tolist(), int(gate[0]))
    return cache[key]


def _explain(row: dict, plan: CompPlan, cache: dict) -> tuple[str, str]:
    """(rate text, sentence) for one ledger line."""
    kind = row["line"]
    if kind == "spiff":
        spiff = next(s for s in plan.spiffs if s.id == row["component"])
        return "", (
            f"SPIFF '{spiff.id}': {_plan_usd(spiff.bonus_usd)} bonus on a deal of at least "
            f"{_plan_usd(spiff.min_amount_usd)}, shared by credit (yours {_money(row['credit_cents'])})"
        )
    if kind == "restatement":
        return "", (
            f"{row['window']} restated for credit notes issued this month: it now earns "
            f"{_money(row['cum_after_cents'])} and paid {_money(row['cum_before_cents'])}; "
            "the difference is paid here"
        )
    if kind == "restating-note":
        return "", (
            f"credit note on a deal closed {row['close_date']:%Y-%m-%d}: {_money(row['credit_cents'])} "
            f"credit restates {row['window']} (see the restatement line)"
        )
    if kind == "clawback":
        days = plan.clawback.window_days if plan.clawback else 0
        return "", f"deal cancelled within {days} days of closing: its earnings are returned"
    component = _component(plan, row["component"])
    if component is None:
        return "", ""
    window = f"window {row['window']}"
    if component.basis == "attainment" and component.window != "deal":
        window += f" (quota {_money(row['window_quota_cents'])})"
    if kind == "true-up":
        rate = _pct(component.rates_pct()[max(int(row["tier"]), 0)])
        return rate, (
            f"the {_money(row['cum_before_cents'])} credited earlier in the {window} repriced at {rate}, "
            "the rate at this month's end (a higher tier or the gate was reached)"
        )
    before, after = int(row["cum_before_cents"]), int(row["cum_after_cents"])
    quota = int(row["window_quota_cents"])
    notes = []
    if component.basis == "attainment" and component.window != "deal" and quota == 0:
        return "", f"{window}: no quota, so this attainment-based component earns nothing"
    bounds, gate = _bounds(component, quota, cache)
    if gate > 0:
        notes.append(f"gate {_money(gate)}")
    if component.cap_usd is not None:
        notes.append(f"cap {_plan_usd(component.cap_usd)}")
    suffix = f" ({', '.join(notes)})" if notes else ""
    prefix = f"team credit via {row['via_rep_id']}: " if row["source"] == "team" else ""
    if int(row["earned_cents"]) == 0 and gate > 0 and (after < gate or component.kind == "single"):
        return (
            "",
            f"{prefix}{window} total {_money(after)}: the gate {_money(gate)} is not reached yet{suffix}",
        )
    if component.kind == "marginal":
        rate, text = _marginal_pieces(component, bounds, before, after)
        return rate, f"{prefix}{window} total {_money(before)} -> {_money(after)}: {text}{suffix}"
    if component.kind == "single":
        rate = _pct(component.rates_pct()[max(int(row["tier"]), 0)])
        return (
            rate,
            f"{prefix}{_money(row['credit_cents'])} at {rate}, the rate of the tier reached at this "
            f"month's end in the {window}{suffix}",
        )
    table = RateTable.from_component(component)
    values = table.earned_cents(np.array([before, after]), np.array([bounds, bounds]), np.array([gate, gate]))
    return "", (
        f"{prefix}payout curve of the {window}: {_money(int(values[1]))} at {_money(after)} credited minus "
        f"{_money(int(values[0]))} at {_money(before)}{suffix}"
    )


def _adjustment(result: CompResult, row: dict, rate: str, text: str) -> tuple[str, str]:
    """(rate, sentence) of an adjustment line: who asked, who approved, why (and the pricing of a credit)."""
    table = result.adjustments
    number = int(str(row["deal_id"]).removeprefix("ADJ-"))
    if table is None or number not in set(table["adjustment_id"]):
        return rate, text
    entry = table.set_index("adjustment_id").loc[number]
    said = (
        f"adjustment #{number} asked by {entry['requested_by']}, approved by {entry['decided_by']}: "
        f"{entry['reason']}"
    )
    if entry["kind"] == "amount":
        return "", f"{said} ({_money(int(entry['amount_cents']))} paid as is)"
    return rate, f"{said} ({_money(int(entry['amount_cents']))} credit; {text})"


def rep_ledger(result: CompResult, rep_id: str) -> pd.DataFrame:
    """The rep's statement as a table (columns :data:`LEDGER_COLUMNS`), month by month."""
    if rep_id not in result.plan_of:
        raise KeyError(f"rep '{rep_id}' has no comp plan in this result")
    plan = result.plans[result.plan_of[rep_id]]
    lines = result.lines.loc[result.lines["rep_id"] == rep_id]
    order = {
        "deal": 0,
        "credit-note": 1,
        "true-up": 2,
        "spiff": 3,
        "clawback": 4,
        "restating-note": 5,
        "restatement": 6,
        "adjustment": 7,
    }
    lines = lines.assign(_order=lines["line"].map(order)).sort_values(
        ["month", "_order", "component", "close_date", "deal_id"], kind="stable"
    )
    summary = result.summary.loc[result.summary["rep_id"] == rep_id].set_index("month")
    by_month: dict[str, list[dict]] = {}
    for row in lines.to_dict("records"):
        by_month.setdefault(row["month"] if isinstance(row["month"], str) else ON_HOLD, []).append(row)
    records, cache = [], {}
    for month in [*result.months, ON_HOLD]:
        for row in by_month.get(month, []):
            rate, text = _explain(row, plan, cache)
            if row["line"] == "adjustment":
                rate, text = _adjustment(result, row, rate, text)
            component = _component(plan, row["component"])
            if row["line"] == "deal" and component is not None and component.credit_on == "payment":
                text = f"credited on payment: the share of the deal paid {row['close_date']:%Y-%m-%d}; {text}"
            if not pd.isna(row["held_until"]):
                text = f"held until {row['held_until']:%Y-%m-%d} (earned in {row['earned_month']}): {text}"
            records.append(
                {
                    "month": month,
                    "item": row["line"],
                    "component": row["component"],
                    "deal_id": row["deal_id"],
                    "close_date": "" if pd.isna(row["close_date"]) else f"{row['close_date']:%Y-%m-%d}",
                    "credit_usd": usd(row["credit_cents"]) if row["line"] != "true-up" else "",
                    "window": row["window"],
                    "cum_before_usd": usd(row["cum_before_cents"])
                    if row["line"] in ("deal", "true-up")
                    else "",
                    "cum_after_usd": usd(row["cum_after_cents"]) if row["line"] == "deal" else "",
                    "rate_pct": rate,
                    "amount_usd": usd(row["earned_cents"]),
                    "explanation": text,
                }
            )
        if month == ON_HOLD:
            break
        s = summary.loc[month]
        attainment = "no quota" if pd.isna(s["attainment_pct"]) else f"{s['attainment_pct']:.2f}% of quota"
        totals = [
            ("earnings", s["earnings_cents"], f"credited {_money(s['credited_cents'])}, {attainment}"),
            ("draw", s["draw_cents"], "paid above earnings (draw; negative earnings go to the balance)"),
            ("recovery", -s["recovery_cents"], "withheld to repay the draw balance"),
            (
                "payout",
                s["payout_cents"],
                f"balance still owed after this month {_money(s['balance_cents'])}",
            ),
        ]
        for item, cents, text in totals:
            blank = dict.fromkeys(LEDGER_COLUMNS, "")
            records.append(
                {**blank, "month": month, "item": item, "amount_usd": usd(cents), "explanation": text}
            )
    return pd.DataFrame(records, columns=list(LEDGER_COLUMNS))


def statement_csv(result: CompResult, rep_id: str, *, ledger: pd.DataFrame | None = None) -> str:
    """The rep's statement as CSV text (the ledger; pass ``ledger`` if already built)."""
    return (rep_ledger(result, rep_id) if ledger is None else ledger).to_csv(index=False)


def plan_description(plan: CompPlan) -> list[str]:
    """The plan's rules in sentences (components, SPIFFs, draw, clawback) for a statement."""
    sentences = []
    for component in plan.components:
        unit = "% of quota" if component.basis == "attainment" else "USD"
        if component.kind == "interpolated":
            points = ", ".join(
                f"{t.start.normalize():f} {unit} -> {_plan_usd(t.payout_usd)}" for t in component.tiers
            )
            table = f"payout curve through {points}"
        else:
            rates = component.rates_pct()
            steps = ", ".join(
                f"from {t.start.normalize():f} {unit}: {_pct(r)}"
                for t, r in zip(component.tiers, rates, strict=True)
            )
            how = (
                "each slice at its tier's rate" if component.kind == "marginal" else "all at the tier reached"
            )
            table = f"{steps} ({how})"
        extra = []
        if component.threshold > 0:
            extra.append(f"gate {component.threshold.normalize():f} {unit}")
        if component.cap_usd is not None:
            extra.append(f"cap {_plan_usd(component.cap_usd)} per window")
        suffix = f"; {', '.join(extra)}" if extra else ""
        name = component.label or component.id
        sentences.append(f"{name} [{component.id}], per {component.window}: {table}{suffix}.")
    for spiff in plan.spiffs:
        sentences.append(
            f"SPIFF {spiff.label or spiff.id} [{spiff.id}]: {_plan_usd(spiff.bonus_usd)} per deal of "
            f"at least {_plan_usd(spiff.min_amount_usd)}"
            + (f", closed {spiff.start} to {spiff.end}" if spiff.start or spiff.end else "")
            + "."
        )
    if plan.draw is not None:
        kind = "recoverable" if plan.draw.recoverable else "non-recoverable"
        period = f"{plan.draw.start or 'start'} to {plan.draw.end or 'end'}"
        sentences.append(f"Draw: {_plan_usd(plan.draw.amount_usd)} a month ({kind}), {period}.")
    if plan.clawback is not None:
        sentences.append(
            f"Clawback: deals cancelled within {plan.clawback.window_days} days give back their earnings."
        )
    if plan.credit == "team":
        sentences.append("Credit: the roll-up of every rep below you.")
    return sentences


def statement_html(
    result: CompResult, rep_id: str, *, rep_name: str = "", ledger: pd.DataFrame | None = None
) -> str:
    """A self-contained HTML statement (no external assets) for one rep."""
    ledger = rep_ledger(result, rep_id) if ledger is None else ledger
    plan = result.plans[result.plan_of[rep_id]]
    summary = result.summary.loc[result.summary["rep_id"] == rep_id]
    esc = html.escape
    title = f"Comp statement: {esc(rep_name or rep_id)} ({esc(rep_id)}), {esc(result.plan_of[rep_id])}"
    head = ["month", "credited", "quota", "attainment", "earnings", "draw", "recovery", "balance", "payout"]
    rows = []
    for s in summary.itertuples(index=False):
        attainment = "" if pd.isna(s.attainment_pct) else f"{s.attainment_pct:.2f}%"
        cells = [
            s.month,
            _money(s.credited_cents),
            _money(s.quota_cents),
            attainment,
            _money(s.earnings_cents),
        ]
        cells += [
            _money(s.draw_cents),
            _money(s.recovery_cents),
            _money(s.balance_cents),
            _money(s.payout_cents),
        ]
        rows.append("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in cells) + "</tr>")
    detail = []
    for month, part in ledger.groupby("month", sort=True):
        body = "".join(
            "<tr>" + "".join(f"<td>{esc(str(v))}</td>" for v in r) + "</tr>"
            for r in part.drop(columns="month").to_numpy()
        )
        columns = "".join(f"<th>{esc(c)}</th>" for c in LEDGER_COLUMNS if c != "month")
        detail.append(f"<h2>{esc(month)}</h2><table><tr>{columns}</tr>{body}</table>")
    style = (
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1em}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:left}"
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{title}</title><style>{style}</style></head>"
        f"<body><h1>{title}</h1><p>Money in US dollars, computed in whole cents; window-to-date earnings "
        f"are rounded half up to the cent and each line is the difference of two such values.</p>"
        f"<h2>Your plan</h2><ul>{''.join(f'<li>{esc(t)}</li>' for t in plan_description(plan))}</ul>"
        f"<table><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr>{''.join(rows)}</table>"
        f"{''.join(detail)}</body></html>"
    )


def _text(column: pd.Series) -> pa.Array:
    """A text or categorical column as an Arrow string array (categoricals decoded in Arrow, fast)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        raw = column.cat.codes.to_numpy(np.int32)
        codes = pa.array(raw, mask=raw < 0) if (raw < 0).any() else pa.array(raw)
        dictionary = pa.array(column.cat.categories.astype(str).to_numpy(dtype=object), pa.string())
        return pa.DictionaryArray.from_arrays(codes, dictionary).dictionary_decode()
    return pa.array(column.astype(str).to_numpy(dtype=object), pa.string())


def _rates(result: CompResult) -> pa.Array:
    """Rate of each line's tier as text ('' for interpolated components, SPIFFs and clawbacks)."""
    lines = result.lines
    texts = [""]
    index: dict[tuple[str, str, int], int] = {}
    for plan in result.plans.values():
        for component in plan.components:
            if component.kind != "interpolated":
                for tier, rate in enumerate(component.rates_pct()):
                    index[(plan.name, component.id, tier)] = len(texts)
                    texts.append(f"{rate.normalize():f}")
    plans = list(lines["plan"].cat.categories)
    components = list(lines["component"].cat.categories)
    tiers = max([k[2] for k in index] + [0]) + 1
    lookup = np.zeros((len(plans), len(components), tiers + 1), dtype=np.int32)
    for (plan, component, tier), position in index.items():
        lookup[plans.index(plan), components.index(component), tier] = position
    tier = lines["tier"].to_numpy(np.int64)
    codes = lookup[
        lines["plan"].cat.codes.to_numpy(np.int64),
        lines["component"].cat.codes.to_numpy(np.int64),
        np.where((tier >= 0) & (tier < tiers), tier, tiers),  # interpolated tiers have no rate
    ]
    kind = np.isin(lines["line"].cat.codes.to_numpy(), [0, 1])
    codes = np.where(kind, codes, 0).astype(np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(texts, pa.string())).dictionary_decode()


def statement_lines_table(result: CompResult) -> pa.Table:
    """Every line of every rep (money in integer cents, tier rates) as an Arrow table."""
    lines = result.lines
    columns = {
        "rep_id": _text(lines["rep_id"]),
        "month": _text(lines["month"]),
        "earned_month": _text(lines["earned_month"]),
        "held_until": pa.array(lines["held_until"].to_numpy(dtype="datetime64[ns]")).cast(pa.date32()),
        "component": _text(lines["component"]),
        "item": _text(lines["line"]),
        "deal_id": _text(lines["deal_id"]),
        "close_date": pa.array(lines["close_date"].to_numpy(dtype="datetime64[ns]")).cast(pa.date32()),
        "source": _text(lines["source"]),
        "via_rep_id": _text(lines["via_rep_id"]),
        "credit_cents": pa.array(lines["credit_cents"].to_numpy(np.int64)),
        "window": _text(lines["window"]),
        "window_quota_cents": pa.array(lines["window_quota_cents"].to_numpy(np.int64)),
        "cum_before_cents": pa.array(lines["cum_before_cents"].to_numpy(np.int64)),
        "cum_after_cents": pa.array(lines["cum_after_cents"].to_numpy(np.int64)),
        "tier": pa.array(lines["tier"].to_numpy(np.int64)),
        "rate_pct": _rates(result),
        "earned_cents": pa.array(lines["earned_cents"].to_numpy(np.int64)),
    }
    return pa.table(columns)


def write_statement_lines(result: CompResult, path: str | Path) -> Path:
    """Write every rep's lines to one CSV (see :func:`statement_lines_table`); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pa_csv.write_csv(statement_lines_table(result), path)
    return path


def summary_table(result: CompResult) -> pd.DataFrame:
    """The summary per rep and month with earnings per component and SPIFF (integer cents)."""
    by_component = result.earnings_by_component().add_suffix("_cents").reset_index(drop=True)
    return pd.concat([result.summary.reset_index(drop=True), by_component], axis=1)


def write_summary(result: CompResult | pd.DataFrame, path: str | Path) -> Path:
    """Write the summary (of a result, or a :func:`summary_table`) in dollars to CSV; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    summary = summary_table(result) if isinstance(result, CompResult) else result.copy()
    for column in [c for c in summary if c.endswith("_cents")]:
        summary[column.removesuffix("_cents") + "_usd"] = summary.pop(column).map(usd)
    summary.to_csv(path, index=False)
    return path


def write_statements(
    result: CompResult, reps: Sequence[str], folder: str | Path, names: dict[str, str] | None = None
) -> list[Path]:
    """Write ``<rep>.csv`` and ``<rep>.html`` statements for ``reps`` into ``folder``; return the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for rep_id in reps:
        ledger = rep_ledger(result, rep_id)
        (folder / f"{rep_id}.csv").write_text(statement_csv(result, rep_id, ledger=ledger), encoding="utf-8")
        html = statement_html(result, rep_id, rep_name=(names or {}).get(rep_id, ""), ledger=ledger)
        (folder / f"{rep_id}.html").write_text(html, encoding="utf-8")
        written += [folder / f"{rep_id}.csv", folder / f"{rep_id}.html"]
    return written
