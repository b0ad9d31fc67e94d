"""Out-of-core crediting: deals -> account -> unit -> territory -> reps, as one DuckDB query.

The rules are those of :func:`planner.comp.crediting.credit_deals` (the plan in effect on
the close date by an as-of join, even splits and split rows by largest remainder, the
manager roll-up), run over the deals view on disk. Only the rows a comp plan pays are
kept (a ``team`` plan pays roll-up rows, any other plan the rep's own), each tagged with
the partition of its rep, and written to Parquet, one folder per partition.

Partitions are runs of reps in ``rep_id`` order holding about ``rows_per_partition``
credit rows each, so concatenating their results in order gives the in-memory order. A
rep's pay depends on their own rows, with one exception: a SPIFF is shared by the reps
(of one plan) credited with the deal, by largest remainder. The other reps' rows of such a
deal are copied into the partition as *context* rows, used for the split and never paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from planner.comp.calculate import assign_plans
from planner.comp.crediting import manager_chains, sorted_versions, territory_owners
from planner.comp.plan_file import CompPlan
from planner.plans.approved import ApprovedPlan

UNCREDITED_REASONS = {
    "before": "closed before the first approved plan",
    "no_unit": "account has no unit",
    "no_territory": "the account's unit is not in the approved plan",
    "vacant": "territory has no rep (vacant) on the close date",
}


@dataclass(frozen=True)
class Partition:
    """One partition of reps: its folder, the reps it pays (``rep_id`` order), its context rows."""

    index: int
    path: Path
    reps: tuple[str, ...]
    context_rows: int
    side_paths: tuple[tuple[str, Path], ...] = ()  #: (name, folder) of each per-deal table's rows


@dataclass(frozen=True)
class Credited:
    """What :func:`credit_to_partitions` wrote: the partitions and the deals nobody was credited for."""

    partitions: tuple[Partition, ...]
    uncredited: pd.DataFrame  #: reason -> deals, amount_cents
    uncredited_path: Path  #: every uncredited deal with its reason (Parquet)


def _register_plans(
    con: duckdb.DuckDBPyConnection,
    approved: Sequence[ApprovedPlan],
    account_units: pd.Series,
    reps: pd.DataFrame,
    plans: Sequence[CompPlan],
    splits: pd.DataFrame | None,
) -> None:
    versions = sorted_versions(approved)
    con.register(
        "versions",
        pd.DataFrame(
            {
                "version": np.arange(len(versions), dtype=np.int64),
                "effective_from": pd.to_datetime([v.effective_from for v in versions]),
            }
        ),
    )
    con.register(
        "assignment",
        pd.concat(
            [
                pd.DataFrame(
                    {
                        "version": v,
                        "unit_id": a.plan.assignment.index.astype(str),
                        "territory_id": a.plan.assignment.astype(str).to_numpy(),
                    }
                )
                for v, a in enumerate(versions)
            ],
            ignore_index=True,
        ),
    )
    coverage = []
    for v, a in enumerate(versions):
        owners = territory_owners(a)
        coverage.append(
            pd.DataFrame(
                {
                    "version": v,
                    "territory_id": owners["territory_id"].astype(str).to_numpy(),
                    "rep_id": owners["rep_id"].astype(str).to_numpy(),
                    "n_reps": owners["n_reps"].to_numpy(np.int64),
                    "rank": owners["rank"].to_numpy(np.int64),
                }
            )
        )
    con.register("coverage", pd.concat(coverage, ignore_index=True))
    units = account_units.dropna()
    con.register(
        "accounts",
        pd.DataFrame({"account_id": units.index.astype(str), "unit_id": units.astype(str).to_numpy()}),
    )
    pairs = [(rep, manager) for rep, chain in manager_chains(reps).items() for manager in chain]
    con.register("managers", pd.DataFrame(pairs, columns=["rep_id", "manager_id"], dtype=str))
    plan_of, _ = assign_plans(plans, reps)
    index = {p.name: i for i, p in enumerate(plans)}
    con.register(
        "rep_plans",
        pd.DataFrame(
            {
                "rep_id": list(plan_of),
                "plan_index": [index[name] for name in plan_of.values()],
                "team": [plans[index[name]].credit == "team" for name in plan_of.values()],
                "spiffs": [bool(plans[index[name]].spiffs) for name in plan_of.values()],
            }
        ),
    )
    split_rows = (
        splits if splits is not None else pd.DataFrame({"deal_id": [], "rep_id": [], "share_micro": []})
    )
    con.register(
        "splits",
        pd.DataFrame(
            {
                "deal_id": split_rows["deal_id"].astype(str).to_numpy(),
                "rep_id": split_rows["rep_id"].astype(str).to_numpy(),
                "share_micro": split_rows["share_micro"].to_numpy(np.int64),
            }
        ),
    )


def _credit_sql(carried: str, first: pd.Timestamp, after: pd.Timestamp) -> list[str]:
    """The crediting statements; ``carried`` are the deal columns every credit row keeps."""
    return [
        f"""
        CREATE OR REPLACE TEMP TABLE located AS
        SELECT d.deal_id, d.account_id, d.close_date, d.amount_cents, {carried},
               v.version, a.unit_id, s.territory_id
        FROM deals d
        ASOF LEFT JOIN versions v ON d.close_date >= v.effective_from
        LEFT JOIN accounts a ON a.account_id = d.account_id
        LEFT JOIN assignment s ON s.version = v.version AND s.unit_id = a.unit_id
        """,
        """
        CREATE OR REPLACE TEMP TABLE uncredited AS
        SELECT l.deal_id, l.account_id, l.close_date, l.amount_cents,
               CASE WHEN l.version IS NULL THEN 'before' WHEN l.unit_id IS NULL THEN 'no_unit'
                    WHEN l.territory_id IS NULL THEN 'no_territory' ELSE 'vacant' END AS reason
        FROM located l
        WHERE l.deal_id NOT IN (SELECT deal_id FROM splits)
          AND NOT EXISTS (
              SELECT 1 FROM coverage c WHERE c.version = l.version AND c.territory_id = l.territory_id
          )
        """,
        f"""
        CREATE OR REPLACE TEMP TABLE own AS
        SELECT l.deal_id, c.rep_id, l.close_date, l.amount_cents AS deal_cents,
               l.amount_cents // c.n_reps
                   + CAST(c.rank < l.amount_cents % c.n_reps AS BIGINT) AS credit_cents,
               'territory' AS source, '' AS via_rep_id, {carried}
        FROM located l JOIN coverage c ON c.version = l.version AND c.territory_id = l.territory_id
        WHERE l.deal_id NOT IN (SELECT deal_id FROM splits)
        UNION ALL
        SELECT deal_id, rep_id, close_date, deal_cents,
               floor_cents
                   + CAST(place < deal_cents - sum(floor_cents) OVER (PARTITION BY deal_id) AS BIGINT),
               'split', '', {carried}
        FROM (
            SELECT l.*, s.rep_id, l.amount_cents AS deal_cents,
                   l.amount_cents * s.share_micro // 1000000 AS floor_cents,
                   row_number() OVER (
                       PARTITION BY l.deal_id ORDER BY l.amount_cents * s.share_micro % 1000000 DESC, s.rep_id
                   ) - 1 AS place
            FROM located l JOIN splits s ON s.deal_id = l.deal_id
        )
        """,
        "DROP TABLE located",
        f"""
        CREATE OR REPLACE TEMP TABLE paid AS
        SELECT k.*, p.plan_index, p.spiffs
        FROM (
            SELECT * FROM own
            UNION ALL
            SELECT o.deal_id, m.manager_id, o.close_date, o.deal_cents, o.credit_cents, 'team', o.rep_id,
                   {", ".join(f"o.{c.strip()}" for c in carried.split(","))}
            FROM own o JOIN managers m ON m.rep_id = o.rep_id
        ) k
        JOIN rep_plans p ON p.rep_id = k.rep_id
        WHERE p.team = (k.source = 'team')
          AND k.close_date >= TIMESTAMP '{first}' AND k.close_date < TIMESTAMP '{after}'
        """,
        "DROP TABLE own",
    ]


def credit_to_partitions(
    con: duckdb.DuckDBPyConnection,
    account_units: pd.Series,
    approved: Sequence[ApprovedPlan],
    reps: pd.DataFrame,
    plans: Sequence[CompPlan],
    months: Sequence[str],
    folder: Path,
    *,
    splits: pd.DataFrame | None = None,
    side_tables: dict[str, pd.DataFrame | None] | None = None,
    rows_per_partition: int = 500_000,
) -> Credited:
    """Credit the connection's ``deals`` view and write the paid rows to partitions under ``folder``.

    ``months`` must be consecutive (rows outside them are not paid, as in memory). Each of
    ``side_tables`` (rows keyed by ``deal_id``: invoices, credit notes) is written per
    partition too, each row with the partitions of its deal.
    """
    _register_plans(con, approved, account_units, reps, plans, splits)
    columns = {c[0] for c in con.execute("DESCRIBE deals").fetchall()}
    carried = ", ".join(["status", "cancel_date", *(c for c in ("line", "hold_until") if c in columns)])
    first = pd.Period(min(months), "M").start_time
    after = (pd.Period(max(months), "M") + 1).start_time
    for statement in _credit_sql(carried, first, after):
        con.execute(statement)
    counts = con.execute(
        "SELECT r.rep_id, count(p.rep_id) AS n FROM rep_plans r LEFT JOIN paid p USING (rep_id) "
        "GROUP BY r.rep_id ORDER BY r.rep_id"
    ).df()
    cut = np.maximum(np.cumsum(counts["n"].to_numpy()) - 1, 0) // max(rows_per_partition, 1)
    counts["part"] = np.unique(cut, return_inverse=True)[1] if len(cut) else cut
    con.register("rep_parts", counts[["rep_id", "part"]])
    con.execute(
        """
        CREATE OR REPLACE TEMP VIEW tagged AS SELECT p.*, r.part FROM paid p JOIN rep_parts r USING (rep_id);
        CREATE OR REPLACE TEMP TABLE shared AS
        SELECT DISTINCT t.deal_id, t.plan_index, t.part AS target
        FROM tagged t
        JOIN (SELECT deal_id, plan_index FROM tagged WHERE spiffs GROUP BY deal_id, plan_index
              HAVING min(part) <> max(part)) s USING (deal_id, plan_index);
        """
    )
    folder.mkdir(parents=True, exist_ok=True)
    target = str(folder / "credits").replace("'", "''")
    keep = f"deal_id, rep_id, close_date, deal_cents, credit_cents, source, via_rep_id, {carried}"
    con.execute(
        f"""
        COPY (
            SELECT {keep}, part AS target, false AS context FROM tagged
            UNION ALL
            SELECT {", ".join(f"t.{c.strip()}" for c in keep.split(","))}, s.target, true
            FROM tagged t JOIN shared s USING (deal_id, plan_index) WHERE t.part <> s.target
        ) TO '{target}' (FORMAT parquet, PARTITION_BY (target), OVERWRITE_OR_IGNORE true)
        """
    )
    sides = []
    for name, table in (side_tables or {}).items():
        if table is None or not len(table):
            continue
        con.register(f"side_{name}", table)
        path = folder / name
        con.execute(
            f"""
            COPY (
                SELECT x.*, t.target
                FROM side_{name} x
                JOIN (SELECT DISTINCT deal_id, part AS target FROM tagged
                      UNION SELECT deal_id, target FROM shared) t USING (deal_id)
            ) TO '{str(path).replace(chr(39), chr(39) * 2)}'
            (FORMAT parquet, PARTITION_BY (target), OVERWRITE_OR_IGNORE true)
            """
        )
        sides.append((name, path))
    context = dict(
        con.execute(
            "SELECT s.target, count(*) FROM tagged t JOIN shared s USING (deal_id, plan_index) "
            "WHERE t.part <> s.target GROUP BY s.target"
        ).fetchall()
    )
    partitions = tuple(
        Partition(
            int(part),
            folder / "credits" / f"target={int(part)}",
            tuple(group["rep_id"].astype(str)),
            int(context.get(int(part), 0)),
            tuple((name, path / f"target={int(part)}") for name, path in sides),
        )
        for part, group in counts.groupby("part", sort=True)
    )
    uncredited_path = folder / "uncredited.parquet"
    con.execute(f"COPY uncredited TO '{str(uncredited_path).replace(chr(39), chr(39) * 2)}' (FORMAT parquet)")
    summary = con.execute(
        "SELECT reason, count(*) AS deals, sum(amount_cents) AS amount_cents FROM uncredited GROUP BY reason"
    ).df()
    summary["reason"] = summary["reason"].map(UNCREDITED_REASONS)
    return Credited(partitions, summary, uncredited_path)
