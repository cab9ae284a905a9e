"""Experiment results: read-only, from the playbooks in force and the event log.

Every step with `holdout:` or `variants:` is one experiment. Its members are its
`experiment_assigned` events (recorded by the tick, held-out members too); its
enrolment runs from the first of them for the declared horizon; each member's outcome
is read from their own events in the analytics copy (`experiments.outcomes`, brought
up to date first: `analytics.sync.open_copy`). The result is final once the
last enrolled member's outcome window has closed; before that, only members whose
window has closed count and the figures are labelled interim (no peeking).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import duckdb
import polars as pl

from shequn.analytics.sync import open_copy
from shequn.clock import Clock, SystemClock, to_micros
from shequn.experiments.outcomes import ENROLMENT_SCHEMA, met
from shequn.experiments.stats import Comparison, Pair, compare_all
from shequn.sop.experiments import HOLDOUT, TREATED, experiment_id
from shequn.sop.model import Playbook, Step
from shequn.sop.selection import in_force
from shequn.store.engine import read_transaction
from shequn.workspace import Workspace


@dataclass(frozen=True)
class Declared:
    """An experiment as the playbook declares it."""

    id: str
    playbook: str
    step: Step

    @property
    def arms(self) -> list[str]:
        """The reference arm first."""
        if self.step.variants is not None:
            return [v.name for v in self.step.variants]
        return [HOLDOUT, TREATED]


@dataclass(frozen=True)
class Result:
    """An experiment's figures as of `now`."""

    declared: Declared
    start_ts: int | None  # the first member assigned
    enrol_end_ts: int | None
    final_ts: int | None  # when the result becomes final
    final: bool
    assigned: dict[str, int]  # members per arm, matured or not
    counts: dict[str, tuple[int, int]]  # matured members per arm: (met outcome, members)
    comparisons: list[Comparison]

    @property
    def status(self) -> str:
        if self.start_ts is None:
            return "no members yet"
        return "final" if self.final else "interim"


def declared(playbooks: list[Playbook]) -> list[Declared]:
    """Every experiment of the playbooks, by id."""
    found = [
        Declared(experiment_id(pb.name, s.id, s.experiment.salt), pb.name, s)
        for pb in playbooks
        for s in pb.steps
        if s.experiment is not None
    ]
    return sorted(found, key=lambda d: d.id)


def enrolments(con: duckdb.DuckDBPyConnection, ids: list[str]) -> pl.DataFrame:
    """The assignments (`experiment_assigned` events) of these experiments, from the
    analytics copy (`analytics.sync.open_copy`)."""
    query = """SELECT experiment, arm, community, member, ts FROM enrolments
               WHERE experiment IN (SELECT unnest($ids))"""
    found = pl.from_arrow(con.sql(query, params={"ids": ids}).to_arrow_table())
    assert isinstance(found, pl.DataFrame)
    return found.cast(ENROLMENT_SCHEMA)  # type: ignore[arg-type]


def _numbered(found: list[Declared], enrolled: pl.DataFrame, now: int) -> pl.DataFrame:
    """The enrolments of `found`, numbered (`_row`), each with its experiment's start
    (first member assigned), `inside` its horizon, and `matured` (its window closed)."""
    specs = pl.DataFrame(
        [
            (d.id, d.step.experiment.horizon_micros, d.step.experiment.window_micros)
            for d in found
            if d.step.experiment is not None
        ],
        schema={"experiment": pl.String, "_horizon": pl.Int64, "_window": pl.Int64},
        orient="row",
    )
    start = pl.col("ts").min().over("experiment")
    inside = pl.col("ts") < start + pl.col("_horizon")
    return (
        enrolled.join(specs, on="experiment")
        .with_row_index("_row")
        .with_columns(start.alias("start"), inside.alias("inside"))
        .with_columns(
            (pl.col("inside") & (pl.col("ts") + pl.col("_window") <= now)).alias("matured")
        )
    )


def tallies(
    con: duckdb.DuckDBPyConnection, found: list[Declared], enrolled: pl.DataFrame, now: int
) -> pl.DataFrame:
    """Per (experiment, arm): start, assigned (inside the horizon), n (matured) and x
    (matured members who met the outcome; `experiments.outcomes`, one join per kind).

    Args:
        con: a connection to the analytics copy (`analytics.sync.open_copy`).
        found: the declared experiments.
        enrolled: their enrolments (`enrolments`).
        now: only members whose outcome window closed by now count in n and x.
    """
    rows = _numbered(found, enrolled, now)
    kinds = {d.id: d.step.experiment.outcome for d in found if d.step.experiment is not None}
    matured = rows.filter(pl.col("matured"))
    parts = [
        met(con, matured.filter(pl.col("experiment").is_in(ids)), outcome)
        for outcome in sorted(set(kinds.values()))
        if (ids := [i for i, k in kinds.items() if k == outcome])
    ]
    hits = (
        pl.concat(parts) if parts else pl.DataFrame(schema={"_row": pl.UInt32, "met": pl.Boolean})
    )
    return (
        rows.join(hits, on="_row", how="left")
        .group_by("experiment", "arm")
        .agg(
            pl.col("start").min(),
            pl.col("inside").sum().alias("assigned"),
            pl.col("matured").sum().alias("n"),
            (pl.col("matured") & pl.col("met").fill_null(False)).sum().alias("x"),
        )
    )


def _result(exp: Declared, arms: list[dict[str, Any]], now: int) -> tuple[Result, list[Pair]]:
    """An experiment's figures from its tallies (one dict per arm), and the pairs of arms
    it compares (the comparisons are filled in by `report`)."""
    spec = exp.step.experiment
    assert spec is not None
    if not arms:
        return Result(exp, None, None, None, False, {}, {}, []), []
    start = min(int(a["start"]) for a in arms)
    enrol_end = start + spec.horizon_micros
    final_ts = enrol_end + spec.window_micros
    arms = sorted(arms, key=lambda a: str(a["arm"]))
    assigned = {a["arm"]: int(a["assigned"]) for a in arms if a["assigned"]}
    counts = {a["arm"]: (int(a["x"]), int(a["n"])) for a in arms if a["n"]}
    ref, *others = exp.arms
    x0, n0 = counts.get(ref, (0, 0))
    pairs = [
        Pair((arm, *counts.get(arm, (0, 0))), (ref, x0, n0), spec.alpha, spec.min_effect)
        for arm in others
    ]
    result = Result(exp, start, enrol_end, final_ts, now >= final_ts, assigned, counts, [])
    return result, pairs


def report(
    con: duckdb.DuckDBPyConnection, found: list[Declared], enrolled: pl.DataFrame, now: int
) -> list[Result]:
    """Every experiment's result: the outcomes in one join per kind (`tallies`), then the
    statistics of every comparison at once (`stats.compare_all`)."""
    by_id: dict[str, list[dict[str, Any]]] = {d.id: [] for d in found}
    for row in tallies(con, found, enrolled, now).iter_rows(named=True):
        by_id[row["experiment"]].append(row)
    made = [_result(d, by_id[d.id], now) for d in found]
    compared = iter(compare_all([p for _, pairs in made for p in pairs]))
    return [replace(r, comparisons=[next(compared) for _ in pairs]) for r, pairs in made]


def results(ws: Workspace, clock: Clock | None = None) -> list[Result]:
    """Every declared experiment's result as of now, from the analytics copy (brought
    up to date with the store first)."""
    now = to_micros((clock or SystemClock()).now())
    with read_transaction(ws.engine) as conn:
        running, _problems = in_force(conn, ws.root / "playbooks")
    found = declared(running)
    with open_copy(ws) as (con, _synced):
        return report(con, found, enrolments(con, [d.id for d in found]), now)
