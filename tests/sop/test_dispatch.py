"""The dispatcher on SQLite and PostgreSQL: delivery, retries, dead letter, lease, tasks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from shequn.clock import FrozenClock, to_micros
from shequn.platforms.base import Outgoing, PermanentError, TransientError
from shequn.platforms.console import ConsolePlatform, deliveries
from shequn.sop.dispatch import SECOND, Dispatcher, LeaseLost, Outcome, Policy, TokenBucket
from shequn.store.schema import events
from shequn.store.sop_schema import outbox, tasks
from shequn.workspace import Workspace
from tests.sop.helpers import queue


def _states(ws: Workspace) -> list[tuple]:
    with ws.engine.connect() as conn:
        query = select(outbox.c.key, outbox.c.state, outbox.c.attempts, outbox.c.reason)
        return [tuple(r) for r in conn.execute(query.order_by(outbox.c.key))]


def _console(ws: Workspace, **kwargs: object) -> ConsolePlatform:
    return ConsolePlatform(ws.root / "data" / "console.jsonl", **kwargs)  # type: ignore[arg-type]


def test_delivers_each_row_once_and_logs_it(ws: Workspace, clock: FrozenClock) -> None:
    queue(ws, 3, to_micros(clock.now()))
    console = _console(ws)
    outcome = Dispatcher(ws.engine, {"console": console}, clock, "a").drain_once()
    assert [r.key for r in outcome.sent] == ["k000000", "k000001", "k000002"]
    assert Dispatcher(ws.engine, {"console": console}, clock, "a").drain_once().done == 0
    assert [d["key"] for d in deliveries(console.path)] == ["k000000", "k000001", "k000002"]
    assert [s for _, s, _, _ in _states(ws)] == ["sent"] * 3
    with ws.engine.connect() as conn:
        assert list(conn.scalars(select(events.c.type))) == ["message_sent"] * 3


def test_transient_failures_back_off_then_dead_letter(ws: Workspace, clock: FrozenClock) -> None:
    def fail(_message: Outgoing) -> None:
        raise TransientError("HTTP 502 from the platform")

    queue(ws, 1, to_micros(clock.now()))
    policy = Policy(max_attempts=3, backoff=10 * SECOND)
    dispatcher = Dispatcher(ws.engine, {"console": _console(ws, fail=fail)}, clock, "a", policy)
    dispatcher.drain_once()
    assert _states(ws) == [("k000000", "retry", 1, "HTTP 502 from the platform")]
    clock.at += timedelta(seconds=9)
    assert dispatcher.drain_once().retry == []  # the first retry waits 10 s
    clock.at += timedelta(seconds=1)
    dispatcher.drain_once()
    assert _states(ws)[0][1:3] == ("retry", 2)
    clock.at += timedelta(seconds=19)
    assert dispatcher.drain_once().dead == []  # then 20 s
    clock.at += timedelta(seconds=1)
    dispatcher.drain_once()
    assert _states(ws) == [("k000000", "dead", 3, "HTTP 502 from the platform")]


def test_a_platform_asking_to_wait_longer_than_the_backoff_is_obeyed(
    ws: Workspace, clock: FrozenClock
) -> None:
    def limited(_message: Outgoing) -> None:
        raise TransientError("M_LIMIT_EXCEEDED", retry_after=45.5)

    queue(ws, 1, to_micros(clock.now()))
    policy = Policy(backoff=10 * SECOND)
    dispatcher = Dispatcher(ws.engine, {"console": _console(ws, fail=limited)}, clock, "a", policy)
    dispatcher.drain_once()
    with ws.engine.connect() as conn:
        next_ts = conn.scalar(select(outbox.c.next_ts))
    assert next_ts == to_micros(clock.now()) + 45_500_000  # not the 10 s backoff


def test_permanent_failure_is_dead_at_once(ws: Workspace, clock: FrozenClock) -> None:
    def fail(_message: Outgoing) -> None:
        raise PermanentError("the member blocked the bot")

    queue(ws, 1, to_micros(clock.now()))
    Dispatcher(ws.engine, {"console": _console(ws, fail=fail)}, clock, "a").drain_once()
    assert _states(ws) == [("k000000", "dead", 1, "the member blocked the bot")]


def test_crash_after_delivery_before_record_is_not_sent_again(
    ws: Workspace, clock: FrozenClock
) -> None:
    queue(ws, 2, to_micros(clock.now()))
    console = _console(ws)
    console.send(Outgoing("k000000", "club", "m0", "send_private", {"text": "hi"}))
    outcome = Dispatcher(ws.engine, {"console": _console(ws)}, clock, "a").drain_once()
    assert ([r.key for r in outcome.recovered], [r.key for r in outcome.sent]) == (
        ["k000000"],
        ["k000001"],
    )
    assert [d["key"] for d in deliveries(console.path)] == ["k000000", "k000001"]


def test_a_torn_last_line_is_not_a_delivery(ws: Workspace, clock: FrozenClock) -> None:
    console = _console(ws)
    console.path.parent.mkdir(exist_ok=True)
    console.path.write_bytes(b'{"key": "k000000", "text": "h')  # the crash hit mid-write
    queue(ws, 1, to_micros(clock.now()))
    Dispatcher(ws.engine, {"console": _console(ws)}, clock, "a").drain_once()
    assert [d["key"] for d in deliveries(console.path)] == ["k000000"]


def test_a_second_engine_waits_for_the_lease(ws: Workspace, clock: FrozenClock) -> None:
    queue(ws, 2, to_micros(clock.now()))
    policy = Policy(batch=1, lease_ttl=30 * SECOND)
    first = Dispatcher(ws.engine, {"console": _console(ws)}, clock, "a", policy)
    second = Dispatcher(ws.engine, {"console": _console(ws)}, clock, "b", policy)
    assert first.drain_once().done == 1
    assert second.drain_once().leased is False
    clock.at += timedelta(seconds=31)  # engine a died: its lease runs out
    assert second.drain_once().done == 1
    with pytest.raises(LeaseLost):  # a comes back from a long pause: it may not record
        first._record(Outcome(), to_micros(clock.now()), 1)


def test_tasks_and_missed_rows(ws: Workspace, clock: FrozenClock) -> None:
    now = to_micros(clock.now())
    queue(ws, 1, now, platform="task")
    queue(ws, 1, now - 7 * 3600 * SECOND, prefix="old")
    Dispatcher(ws.engine, {"console": _console(ws)}, clock, "a").drain_once()
    assert [(k, s) for k, s, _, _ in _states(ws)] == [("k000000", "sent"), ("old000000", "missed")]
    with ws.engine.connect() as conn:
        row = conn.execute(select(tasks.c.key, tasks.c.owner, tasks.c.title)).one()
    assert tuple(row) == ("k000000", "alice", "call m")


def test_token_bucket_holds_telegram_to_twenty_a_minute_per_group() -> None:
    bucket = TokenBucket(20 / 60, burst=1)
    allowed = sum(bucket.take(i * SECOND // 10) for i in range(600))  # 60 s, every 0.1 s
    assert allowed == 20
