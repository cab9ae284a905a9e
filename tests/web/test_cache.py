"""The console's answers computed in the background and kept (`Refreshing`), and when a
history counts as ended."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from shequn.periods import history_ended
from shequn.services.workspace import init_workspace
from shequn.web.background import Found, Kept, Refreshing

T0 = datetime(2026, 11, 3, 4, 0, tzinfo=UTC)


def _done(found: Found[str]) -> None:
    """Wait for the background job `found` tells of."""
    assert found.job is not None
    deadline = time.monotonic() + 30
    while not found.job.finished:
        assert time.monotonic() < deadline, "the job did not finish"
        time.sleep(0.01)


def test_answers_are_kept_per_key_one_computed_at_a_time(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws", name="cache-test")
    calls: list[str] = []
    hold = threading.Event()

    def compute(name: str) -> str:
        hold.wait(30)
        calls.append(name)
        return f"{name}#{len(calls)}"

    kept: Refreshing[str] = Refreshing("test", timedelta(minutes=15), size=2)

    def get(key: str, minutes: int) -> Found[str]:
        return kept.get(ws, "u", T0 + timedelta(minutes=minutes), 1, lambda _at: compute(key), key)

    try:
        first = get("a", 0)
        assert first.kept is None and first.running
        # While "a" is computed, "b" is told of that job and starts none of its own.
        waiting = get("b", 0)
        assert waiting.kept is None and waiting.job is first.job
        hold.set()
        _done(first)
        assert get("a", 14).kept == Kept("a#1", T0, 1)  # kept its time
        _done(get("b", 14))
        stale = get("a", 15)  # then served while computed again
        assert stale.kept is not None and stale.kept.value == "a#1" and stale.running
        _done(stale)
        assert get("a", 16).kept == Kept("a#3", T0 + timedelta(minutes=15), 1)
        # Past `size` keys, the one asked for longest ago goes first.
        _done(get("c", 16))
        assert get("a", 17).kept is not None
        evicted = get("b", 17)
        assert evicted.kept is None and evicted.running  # so computed anew
        _done(evicted)
        assert calls == ["a", "b", "a", "c", "b"]
    finally:
        hold.set()
        ws.close()


def test_another_workspaces_answers_take_none_of_ones_places(tmp_path: Path) -> None:
    one, other = (init_workspace(tmp_path / n, name=n) for n in ("one", "other"))
    kept: Refreshing[str] = Refreshing("test", size=1)
    try:
        for ws in (one, other):
            _done(kept.get(ws, "u", T0, 1, lambda _at, name=ws.root.name: name, "a"))
        assert [kept.get(ws, "u", T0, 1, lambda _at: "again", "a").kept for ws in (one, other)] == [
            Kept("one", T0, 1),
            Kept("other", T0, 1),
        ]
    finally:
        one.close()
        other.close()


def test_a_history_ends_more_than_30_days_before_the_day_asked_about() -> None:
    last = date(2025, 11, 29)
    assert history_ended(last, last + timedelta(days=30)).end is None
    ended = history_ended(last, last + timedelta(days=31))
    assert (ended.end, ended.after) == (last, date(2025, 11, 30))
    assert history_ended(None, last).after is None
