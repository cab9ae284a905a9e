"""The previous experiment report, in Polars over frames read from the store: the
reference the DuckDB report over the analytics copy (shequn.experiments.results) must
equal. It reads the enrolments from the store too, so it also checks the copy's.

Each outcome kind is one forward as-of join by (community, member); each experiment is
then filtered to its horizon and matured members and tallied in Polars, and each arm
compared alone (`compare`). Kept in the tests only: the product has one way.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, select

from shequn.experiments.outcomes import ENROLMENT_SCHEMA
from shequn.experiments.results import Declared, Result
from shequn.experiments.stats import compare
from shequn.sop.experiments import OUTCOMES
from shequn.store.schema import events

DAY_US = 86_400_000_000
EVENT_SCHEMA = {"community": pl.String, "member": pl.String, "ts": pl.Int64}
SOURCE_TYPE = {"spoke_7d": "message", "first_order_30d": "order", "retained_30d": "leave"}


def enrolments(conn: Connection, ids: list[str]) -> pl.DataFrame:
    """The `experiment_assigned` events of these experiments, read from the store."""
    query = select(events.c.community, events.c.member, events.c.ts, events.c.text, events.c.meta)
    rows = conn.execute(query.where(events.c.type == "experiment_assigned")).all()
    schema = {"community": pl.String, "member": pl.String, "ts": pl.Int64}
    frame = pl.DataFrame(
        rows, schema={**schema, "arm": pl.String, "meta": pl.String}, orient="row"
    ).with_columns(pl.col("meta").str.json_path_match("$.experiment").alias("experiment"))
    return frame.filter(pl.col("experiment").is_in(ids)).select(list(ENROLMENT_SCHEMA))


def outcome_events(conn: Connection, kind: str) -> pl.DataFrame:
    query = select(events.c.community, events.c.member, events.c.ts).where(
        events.c.type == kind, events.c.member.is_not(None)
    )
    return pl.DataFrame(conn.execute(query).all(), schema=EVENT_SCHEMA, orient="row")


def _next_after(enrolled: pl.DataFrame, found: pl.DataFrame) -> pl.Series:
    left = enrolled.with_row_index("_row").with_columns((pl.col("ts") + 1).alias("_from"))
    right = found.select("community", "member", pl.col("ts").alias("_next"))
    joined = left.sort("_from").join_asof(
        right.sort("_next"),
        left_on="_from",
        right_on="_next",
        by=["community", "member"],
        strategy="forward",
        check_sortedness=False,  # sorted above; polars cannot check within groups
    )
    return joined.sort("_row")["_next"]


def met(enrolled: pl.DataFrame, outcome: str, found: pl.DataFrame) -> pl.Series:
    """Whether each enrolment met `outcome`, given the events of its type."""
    window = OUTCOMES[outcome] * DAY_US
    ts = enrolled["ts"]
    if outcome == "first_order_30d":
        first = found.group_by("community", "member").agg(pl.col("ts").min().alias("_first"))
        joined = enrolled.join(first, on=["community", "member"], how="left", maintain_order="left")
        return ((joined["_first"] > ts) & (joined["_first"] <= ts + window)).fill_null(False)
    nxt = _next_after(enrolled, found)
    hit = (nxt.is_not_null() & (nxt <= ts + window)).fill_null(False)
    return ~hit if outcome == "retained_30d" else hit


def evaluate(exp: Declared, enrolled: pl.DataFrame, now: int) -> Result:
    """One experiment's result from its enrolments with `met`."""
    spec = exp.step.experiment
    assert spec is not None
    if enrolled.is_empty():
        return Result(exp, None, None, None, False, {}, {}, [])
    start = int(enrolled["ts"].min())  # type: ignore[arg-type]
    enrol_end = start + spec.horizon_micros
    final_ts = enrol_end + spec.window_micros
    inside = enrolled.filter(pl.col("ts") < enrol_end)
    assigned = dict(inside.group_by("arm").len().iter_rows())
    matured = inside.filter(pl.col("ts") + spec.window_micros <= now)
    tallied = matured.group_by("arm").agg(pl.col("met").sum().alias("x"), pl.len().alias("n"))
    counts = {r["arm"]: (int(r["x"]), int(r["n"])) for r in tallied.iter_rows(named=True)}
    ref, *others = exp.arms
    x0, n0 = counts.get(ref, (0, 0))
    comparisons = [
        compare((arm, *counts.get(arm, (0, 0))), (ref, x0, n0), spec.alpha, spec.min_effect)
        for arm in others
    ]
    return Result(exp, start, enrol_end, final_ts, now >= final_ts, assigned, counts, comparisons)


def report(
    conn: Connection, found: list[Declared], enrolled: pl.DataFrame, now: int
) -> list[Result]:
    """Every experiment's result, the previous way."""
    out = []
    for exp in found:
        spec = exp.step.experiment
        assert spec is not None
        mine = enrolled.filter(pl.col("experiment") == exp.id)
        kind = outcome_events(conn, SOURCE_TYPE[spec.outcome])
        out.append(
            evaluate(exp, mine.with_columns(met(mine, spec.outcome, kind).alias("met")), now)
        )
    return out
