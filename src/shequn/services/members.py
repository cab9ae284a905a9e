"""Member keys merged into one person, and recording members' tier and state changes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import polars as pl

from shequn.clock import Clock, SystemClock
from shequn.errors import InputError
from shequn.services import audit
from shequn.store import members as store
from shequn.store.engine import write_transaction
from shequn.workspace import Workspace

if TYPE_CHECKING:
    from shequn.members.profiles import Picked

# The profile columns `refresh` reads of the members with a change to record.
READS = (
    "member",
    "communities",
    "tier",
    "recorded_tier",
    "tier_reason",
    "state",
    "recorded_state",
    "churn_risk",
    "recorded_band",
)
# From this many change events on, `refresh` stages them in bulk (`_write`).
BULK_ROWS = 20_000


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
    from shequn.members.profiles import Pick, picked

    clock = clock or SystemClock()
    when = clock.now()
    now = to_micros(when)
    bands = ws.settings.member_states.churn_risk_bands
    band, named = _band(bands)
    # Only the members with a change to record are read whole (shequn.members.profiles).
    moved = _TIER_MOVED | _STATE_MOVED | _band_moved(band)
    # The changes are recorded while the copy closes (`picked`).
    return picked(
        ws, when, Pick(moved, READS), partial(_record, ws, clock, now, band, named), cold=cold
    )


def _record(
    ws: Workspace, clock: Clock, now: int, band: pl.Expr, named: pl.Expr, found: Picked
) -> RefreshResult:
    """Record the changes of the members `found` (with the band each risk reached)."""
    frame = found.frame
    tiers = frame.filter(_TIER_MOVED)
    states = frame.filter(_STATE_MOVED)
    risen = frame.with_columns(named.alias("band")).filter(_band_moved(band))
    risen = risen.with_columns(pl.col("recorded_band").fill_null("0"))
    rows = pl.concat(
        [
            _changes(tiers, "tier_changed", "tier", now),
            _changes(states, "state_changed", "state", now),
            _changes(risen, "churn_risk_crossed", "band", now),
        ]
    )
    result = RefreshResult(found.total, tiers.height, states.height, risen.height)
    _write(ws, clock, rows, result)
    return result


# A decided tier that is not the recorded one; a state that is not the recorded one.
_TIER_MOVED = pl.col("tier").ne_missing(pl.col("recorded_tier")) & pl.col("tier").is_not_null()
_STATE_MOVED = pl.col("state").ne_missing(pl.col("recorded_state"))


def _write(ws: Workspace, clock: Clock, rows: pl.DataFrame, result: RefreshResult) -> None:
    """Append the change events with the audit record, in one transaction: staged in
    bulk when there are many (a workspace's first refresh records every member's),
    else inserted directly (the bulk sink's staging file and Arrow driver would cost
    more than they save)."""
    from shequn.sop import journal

    counts = {"tiers": result.tier_changes, "states": result.state_changes}
    counts["risk_rises"] = result.risk_rises
    if rows.height < BULK_ROWS:
        with write_transaction(ws.engine) as conn:
            journal.record(conn, rows.to_dicts())
            audit.record(conn, clock, "members.refresh", **counts)
        return
    from shequn.services.sink import open_sink

    with open_sink(ws, in_pass=False) as sink:
        journal.stage(sink, rows)
        with sink.commit() as conn:
            audit.record(conn, clock, "members.refresh", **counts)


def _band(bands: list[float]) -> tuple[pl.Expr, pl.Expr]:
    """The highest of `bands` each member's churn risk reached (0 for none), as a number
    and as the text recorded."""
    band, named = pl.lit(0.0), pl.lit("0")
    for value in bands:
        reached = pl.col("churn_risk").fill_null(0) >= value
        band = pl.when(reached).then(pl.lit(value)).otherwise(band)
        named = pl.when(reached).then(pl.lit(f"{value:g}")).otherwise(named)
    return band, named


def _band_moved(band: pl.Expr) -> pl.Expr:
    """Members whose churn risk rose into a higher band than recorded, or fell below
    every band after one was recorded (so the next rise fires the trigger again)."""
    held = pl.col("recorded_band").cast(pl.Float64).fill_null(0.0)
    return (band > held) | ((band == 0) & (held > 0))


def _changes(frame: pl.DataFrame, kind: str, column: str, now: int) -> pl.DataFrame:
    """One SOP event per row: the new value of `column`, `from` the recorded one."""
    from shequn.sop import journal

    meta = {"from": pl.col(f"recorded_{column}")}
    # Beside `from`: why the tier changed; the risk that reached the band.
    extra = {"tier": ("reason", "tier_reason"), "band": ("risk", "churn_risk")}.get(column)
    if extra:
        meta[extra[0]] = pl.col(extra[1])
    return journal.entries(
        frame,
        kind,
        now,
        pl.col("communities").str.split(",").list.first(),
        pl.col("member") + f"|{now}",
        member=pl.col("member"),
        text=pl.col(column),
        **meta,
    )
