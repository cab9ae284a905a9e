"""Experiment results: read-only, from the playbooks in force and the event log.

Every step with `holdout:` or `variants:` is one experiment. Its members are its
`experiment_assigned` events (recorded by the tick, held-out members too); its
enrolment runs from the first of them for the declared horizon; each member's outcome
is read from their own events (`experiments.outcomes`). The result is final once the
last enrolled member's outcome window has closed; before that, only members whose
window has closed count and the figures are labelled interim (no peeking).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, select

from shequn.clock import Clock, SystemClock, to_micros
from shequn.experiments.outcomes import (
    ENROLMENT_SCHEMA,
    EVENT_SCHEMA,
    SOURCE_TYPE,
    outcomes,
    tally,
)
from shequn.experiments.stats import Comparison, compare
from shequn.sop.experiments import HOLDOUT, TREATED, experiment_id
from shequn.sop.model import Playbook, Step
from shequn.sop.selection import in_force
from shequn.store.engine import read_transaction
from shequn.store.schema import events
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


def enrolments(conn: Connection, ids: list[str]) -> pl.DataFrame:
    """The `experiment_assigned` events of these experiments."""
    query = select(events.c.community, events.c.member, events.c.ts, events.c.text, events.c.meta)
    rows = conn.execute(query.where(events.c.type == "experiment_assigned")).all()
    schema = {"community": pl.String, "member": pl.String, "ts": pl.Int64}
    frame = pl.DataFrame(
        rows, schema={**schema, "arm": pl.String, "meta": pl.String}, orient="row"
    ).with_columns(pl.col("meta").str.json_path_match("$.experiment").alias("experiment"))
    return frame.filter(pl.col("experiment").is_in(ids)).select(list(ENROLMENT_SCHEMA))


def outcome_events(conn: Connection, kind: str, communities: list[str]) -> pl.DataFrame:
    """The events an outcome reads, in these communities."""
    query = select(events.c.community, events.c.member, events.c.ts).where(
        events.c.type == kind, events.c.community.in_(communities), events.c.member.is_not(None)
    )
    return pl.DataFrame(conn.execute(query).all(), schema=EVENT_SCHEMA, orient="row")


def with_outcomes(
    found: list[Declared], enrolled: pl.DataFrame, sources: dict[str, pl.DataFrame]
) -> pl.DataFrame:
    """The enrolments with `met`, each outcome kind computed once for all its experiments.

    Args:
        found: the declared experiments.
        enrolled: their enrolments (`enrolments`).
        sources: per event type, the events outcomes read (`outcome_events`).
    """
    parts = []
    for outcome in sorted({d.step.experiment.outcome for d in found if d.step.experiment}):
        ids = [d.id for d in found if d.step.experiment and d.step.experiment.outcome == outcome]
        mine = enrolled.filter(pl.col("experiment").is_in(ids))
        parts.append(mine.with_columns(outcomes(mine, outcome, sources[SOURCE_TYPE[outcome]])))
    return pl.concat(parts) if parts else enrolled.with_columns(pl.lit(False).alias("met"))


def evaluate(exp: Declared, enrolled: pl.DataFrame, now: int) -> Result:
    """An experiment's result from its enrolments (with `met`, see `with_outcomes`)."""
    spec = exp.step.experiment
    assert spec is not None
    if enrolled.is_empty():
        return Result(exp, None, None, None, False, {}, {}, [])
    start = int(enrolled["ts"].min())  # type: ignore[arg-type]
    enrol_end = start + spec.horizon_micros
    final_ts = enrol_end + spec.window_micros
    inside = enrolled.filter(pl.col("ts") < enrol_end)
    assigned = dict(inside.group_by("arm").len().iter_rows())
    # Only members whose outcome window has closed: interim figures never peek ahead.
    matured = inside.filter(pl.col("ts") + spec.window_micros <= now)
    counts = tally(matured, matured["met"])
    ref, *others = exp.arms
    x0, n0 = counts.get(ref, (0, 0))
    comparisons = [
        compare((arm, *counts.get(arm, (0, 0))), (ref, x0, n0), spec.alpha, spec.min_effect)
        for arm in others
    ]
    return Result(exp, start, enrol_end, final_ts, now >= final_ts, assigned, counts, comparisons)


def report(
    found: list[Declared], enrolled: pl.DataFrame, sources: dict[str, pl.DataFrame], now: int
) -> list[Result]:
    """Every experiment's result: outcomes in one pass per kind, then each experiment."""
    met = with_outcomes(found, enrolled, sources)
    by_id = {
        str(key[0]): part for key, part in met.partition_by("experiment", as_dict=True).items()
    }
    empty = met.clear()
    return [evaluate(d, by_id.get(d.id, empty), now) for d in found]


def results(ws: Workspace, clock: Clock | None = None) -> list[Result]:
    """Every declared experiment's result as of now."""
    now = to_micros((clock or SystemClock()).now())
    with read_transaction(ws.engine) as conn:
        running, _problems = in_force(conn, ws.root / "playbooks")
        found = declared(running)
        enrolled = enrolments(conn, [d.id for d in found])
        communities = enrolled["community"].unique().to_list()
        sources = {
            kind: outcome_events(conn, kind, communities)
            for kind in {SOURCE_TYPE[d.step.experiment.outcome] for d in found if d.step.experiment}
        }
    return report(found, enrolled, sources, now)
