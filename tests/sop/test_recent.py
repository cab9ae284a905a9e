"""The events the engine keeps between ticks equal what a tick reads afresh, whatever
arrives between ticks (late imports, orders, SOP state events), on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from shequn.clock import FrozenClock, to_micros
from shequn.services import sop as sop_service
from shequn.services.sop import tick
from shequn.sop import journal
from shequn.sop.evaluate import Window, due_steps
from shequn.sop.loader import check
from shequn.sop.model import Playbook
from shequn.sop.recent import RecentEvents, read_frames
from shequn.sop.triggers import Frames
from shequn.store.engine import write_transaction
from shequn.workspace import Workspace
from tests.sop.helpers import NEWCOMER, add_events, write_playbook

FIRST_BUY = """
name: first-buy
applies_to: {communities: ["*"]}
trigger: {type: first_purchase}
steps:
  - id: thanks
    at: "+10m"
    action: {type: send_private, text: "thanks"}
    owner: alice
    emergency: {do: "thank them by hand", alert: bob}
"""
INACTIVE = """
name: quiet
applies_to: {communities: ["*"]}
trigger: {type: member_inactive, days: 5}
steps:
  - id: nudge
    at: "+0m"
    action: {type: send_private, text: "hello again"}
    owner: alice
    emergency: {do: "call them", alert: bob}
"""
START = datetime(2026, 11, 1, tzinfo=UTC)
HOUR = 3_600_000_000


def _playbook(text: str) -> Playbook:
    found, problems = check(textwrap.dedent(text), "x.yaml")
    assert found is not None, problems
    return found


def _rows(frames: Frames) -> tuple[list[tuple], list[tuple]]:
    """Both frames as sorted rows: the events, and the first orders."""
    events = frames.events.select("ts", "community", "member", "type", "channel", "label", "mid")
    first = frames.first_orders.select("community", "member", "ts")
    return sorted(events.rows(), key=repr), sorted(first.rows(), key=repr)


def _due(playbooks: list[Playbook], frames: Frames, window: Window) -> list[str]:
    """The keys due over everything since START, as a replay of these frames would."""
    wide = Window(to_micros(START), window.end)
    scope = {pb.name: None for pb in playbooks}
    return sorted(due_steps(playbooks, frames, wide, "Asia/Shanghai", scope)["key"])


def _batch(rng: random.Random, hour: int, tag: str) -> list[tuple[str, str, str, str, str]]:
    """A few events around `hour` hours after START; some of them days late."""
    rows = []
    for _ in range(rng.randint(0, 6)):
        late = rng.random() < 0.3  # an import of older history
        at = START + timedelta(hours=hour - (rng.randint(24, 200) if late else rng.random()))
        kind = rng.choice(["join", "message", "message", "order", "leave"])
        member = f"wx:m{rng.randint(0, 7)}"
        channel = rng.choice(["", "poster"]) if kind == "join" else ""
        rows.append((at.isoformat(), rng.choice(["club", "shop"]), member, kind, channel))
    return rows


def _state_event(ws: Workspace, rng: random.Random, ts: int, n: int) -> None:
    row = journal.entry(
        "tag_added", ts, "club", f"test|{n}", member=f"wx:m{rng.randint(0, 7)}", text="VIP"
    )
    with write_transaction(ws.engine) as conn:
        journal.record(conn, [row])


@pytest.mark.parametrize("seed", [1, 2])
def test_kept_events_equal_a_fresh_read_after_every_append(ws: Workspace, seed: int) -> None:
    rng = random.Random(seed)
    playbooks = [_playbook(NEWCOMER), _playbook(FIRST_BUY)]
    recent = RecentEvents()
    for hour in range(1, 40, 3):
        add_events(ws, _batch(rng, hour, f"s{seed}h{hour}"), tag=f"s{seed}h{hour}")
        if rng.random() < 0.5:
            _state_event(ws, rng, to_micros(START) + hour * HOUR, hour)
        end = to_micros(START) + hour * HOUR
        window = Window(end - HOUR, end)
        if hour == 19:  # a playbook reaching further back: read afresh, same result
            playbooks.append(_playbook(INACTIVE))
        if hour in (25, 28):  # first orders unwanted for a while, then wanted again
            playbooks = [pb for pb in playbooks if pb.name != "first-buy"]
        if hour == 34:
            playbooks.append(_playbook(FIRST_BUY))
        quiet = Window(end, end + 2 * HOUR)  # a tick with nothing new: only the trim
        for at in (window, quiet):
            with ws.engine.connect() as conn:
                kept_frames = recent.frames(conn, playbooks, at)
                fresh_frames = read_frames(conn, playbooks, at)
            kept, fresh = _rows(kept_frames), _rows(fresh_frames)
            assert kept == fresh
            # And they decide alike (time slices need each type's events in time order).
            assert _due(playbooks, kept_frames, at) == _due(playbooks, fresh_frames, at)
        assert recent.last_id > 0
    # Read whole twice only: at first, and when the new playbook reached further back.
    assert recent.full_reads == 2
    assert recent.rows() == len(kept[0])  # nothing past the lookback is held
    # Every kind of change happened: events kept, first orders known, labels read.
    assert kept[0] and kept[1]
    assert any(row[5] == "VIP" for row in kept[0])


def test_events_later_than_the_window_wait_for_their_tick(ws: Workspace) -> None:
    playbooks = [_playbook(NEWCOMER)]
    add_events(
        ws,
        [
            ("2026-11-01T09:00:00+08:00", "club", "wx:a", "join", ""),
            ("2026-11-01T11:00:00+08:00", "club", "wx:b", "join", ""),  # after the window
        ],
    )
    recent = RecentEvents()
    ten = to_micros(datetime.fromisoformat("2026-11-01T10:00:00+08:00"))
    with ws.engine.connect() as conn:
        first = recent.frames(conn, playbooks, Window(ten - HOUR, ten))
        assert first.events["member"].to_list() == ["wx:a"]
        later = recent.frames(conn, playbooks, Window(ten, ten + 2 * HOUR))
        assert later.events["member"].to_list() == ["wx:a", "wx:b"]


def test_a_failed_tick_forgets_what_it_kept(
    ws: Workspace, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tick reads its own uncommitted events (stage moves): a rollback must not
    leave them behind in what the engine keeps."""
    write_playbook(ws, "newcomer", NEWCOMER)
    add_events(ws, [("2026-11-01T09:00:00+08:00", "club", "wx:a", "join", "")])
    recent = RecentEvents()
    for at in ("08:00", "08:30"):  # the first tick only records the time
        clock.at = datetime.fromisoformat(f"2026-11-01T{at}:00+08:00")
        tick(ws, clock, recent=recent)
    assert recent.parts is not None and recent.last_id > 0

    def broken(*_args: object, **_kwargs: object) -> list:
        raise RuntimeError("rendering failed")

    clock.at = datetime.fromisoformat("2026-11-01T09:30:00+08:00")
    with monkeypatch.context() as patch:
        patch.setattr(sop_service, "outbox_rows", broken)
        with pytest.raises(RuntimeError):
            tick(ws, clock, recent=recent)
    assert (recent.parts, recent.last_id) == (None, 0)
    result = tick(ws, clock, recent=recent)
    assert result.queued == 1  # the welcome of wx:a, queued once the tick succeeds
    with ws.engine.connect() as conn:
        window = result.window
        assert window is not None
        kept = recent.frames(conn, [_playbook(NEWCOMER)], window)
        fresh = read_frames(conn, [_playbook(NEWCOMER)], window)
    assert _rows(kept) == _rows(fresh)
    assert kept.events["type"].to_list().count("join") == 1
