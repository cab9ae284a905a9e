"""Member keys merged into one person, and recording members' tier and state changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from shequn.clock import Clock, SystemClock
from shequn.errors import InputError
from shequn.services import audit
from shequn.store import members as store
from shequn.store.engine import write_transaction
from shequn.workspace import Workspace


@dataclass(frozen=True)
class MergeResult:
    person: str
    keys: tuple[str, ...]


def merge(ws: Workspace, target: str, others: list[str], clock: Clock | None = None) -> MergeResult:
    """Make `others` (and everyone already merged with them) the same person as `target`."""
    clock = clock or SystemClock()
    keys = [target, *others]
    with write_transaction(ws.engine) as conn:
        found = store.find(conn, keys)
        unknown = [k for k in keys if k not in found]
        if unknown:
            raise InputError(
                f"unknown member {unknown[0]!r}",
                hint="member keys look like telegram:user123 or whatsapp:Alice; "
                "list them with `shequn members list`",
            )
        person = found[target]["person"]
        store.set_person(conn, sorted({found[k]["person"] for k in others}), person)
        audit.record(conn, clock, "members.merge", person=person, keys=keys)
        merged = store.of_person(conn, person)
    return MergeResult(person=person, keys=tuple(m["key"] for m in merged))


def unmerge(ws: Workspace, key: str, clock: Clock | None = None) -> None:
    """Make a member key its own person again."""
    clock = clock or SystemClock()
    with write_transaction(ws.engine) as conn:
        if key not in store.find(conn, [key]):
            raise InputError(f"unknown member {key!r}", hint="list them with `shequn members list`")
        store.reset_person(conn, key)
        audit.record(conn, clock, "members.unmerge", key=key)


@dataclass(frozen=True)
class RefreshResult:
    """What `refresh` recorded: tier and lifecycle-state changes."""

    members: int
    tier_changes: int
    state_changes: int
    risk_rises: int


def refresh(ws: Workspace, clock: Clock | None = None, *, cold: bool = False) -> RefreshResult:
    """Record each member's tier, lifecycle-state and churn-risk changes as of now.

    `cold` recomputes every member's figures and refits the churn model (otherwise only
    what changed since the kept figures is read: shequn.members.stored).

    One `tier_changed` (with the reason), `state_changed` or `churn_risk_crossed` SOP
    event per member whose decided tier, state or risk band differs from the last one
    recorded; running it twice at the same instant records nothing the second time
    (the event key holds the instant).
    """
    from shequn.clock import to_micros
    from shequn.members.profiles import profiles
    from shequn.sop import journal

    clock = clock or SystemClock()
    when = clock.now()
    now = to_micros(when)
    frame = profiles(ws, when, cold=cold)
    tiers = frame.filter(
        pl.col("tier").ne_missing(pl.col("recorded_tier")) & pl.col("tier").is_not_null()
    )
    states = frame.filter(pl.col("state").ne_missing(pl.col("recorded_state")))
    risen = _risen(frame, ws.settings.member_states.churn_risk_bands)
    rows = _changes(tiers, "tier_changed", "tier", now)
    rows += _changes(states, "state_changed", "state", now)
    rows += _changes(risen, "churn_risk_crossed", "band", now)
    with write_transaction(ws.engine) as conn:
        journal.record(conn, rows)
        audit.record(
            conn,
            clock,
            "members.refresh",
            tiers=tiers.height,
            states=states.height,
            risk_rises=risen.height,
        )
    return RefreshResult(frame.height, tiers.height, states.height, risen.height)


def _risen(frame: pl.DataFrame, bands: list[float]) -> pl.DataFrame:
    """Members whose churn risk rose into a higher band than recorded, or fell below
    every band after one was recorded (so the next rise fires the trigger again)."""
    band = pl.lit(0.0)
    for value in bands:
        band = (
            pl.when(pl.col("churn_risk").fill_null(0) >= value).then(pl.lit(value)).otherwise(band)
        )
    held = pl.col("recorded_band").cast(pl.Float64).fill_null(0.0)
    return (
        frame.with_columns(band.alias("_band"))
        .filter((pl.col("_band") > held) | ((pl.col("_band") == 0) & (held > 0)))
        .with_columns(
            pl.col("_band").map_elements(lambda b: f"{b:g}", return_dtype=pl.String).alias("band"),
            pl.col("recorded_band").fill_null("0"),
        )
    )


def _changes(frame: pl.DataFrame, kind: str, column: str, now: int) -> list[dict[str, Any]]:
    """One SOP event per row: the new value of `column`, `from` the recorded one."""
    from shequn.sop import journal

    # Meta beside `from`: why the tier changed; the risk that reached the band.
    extra = {"tier": ("reason", "tier_reason"), "band": ("risk", "churn_risk")}.get(column)
    return [
        journal.entry(
            kind,
            now,
            row["communities"].split(",")[0],
            f"{row['member']}|{now}",
            member=row["member"],
            text=row[column],
            **{"from": row[f"recorded_{column}"]},
            **({extra[0]: row[extra[1]]} if extra else {}),
        )
        for row in frame.iter_rows(named=True)
    ]
