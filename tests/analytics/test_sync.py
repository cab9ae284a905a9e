"""The columnar copy follows the store by event id, on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from shequn.analytics import compute, open_copy, readers, sync
from shequn.analytics.readers import CoreReader, reader_for
from shequn.analytics.sync import behind, copy_path
from shequn.services.imports import import_path
from shequn.services.members import merge
from shequn.sop import journal
from shequn.workspace import Workspace

HEADER = "ts,community,member,type,channel,inviter,order_id,amount,source_id\n"
FIRST = [
    "2026-10-01T09:00:00+08:00,club,wa:li,join,公众号,,,,e1",
    "2026-10-01T09:05:00+08:00,club,tg:li,join,,,,,e2",
    "2026-10-02T10:00:00+08:00,club,wa:li,message,,,,,e3",
    "2026-10-02T11:00:00+08:00,club,tg:wang,join,,wa:li,,,e4",
    "2026-10-03T12:00:00+08:00,club,tg:wang,order,,,o1,99.90,e5",
]
SECOND = [
    "2026-10-03T12:00:00+08:00,club,tg:wang,order,,,o1,99.90,e5",  # already stored
    "2026-10-04T09:00:00+08:00,club,tg:zhao,join,,,,,e6",
    "2026-10-05T09:00:00+08:00,club,tg:zhao,leave,,,,,e7",
]
OCTOBER = (date(2026, 10, 1), date(2026, 11, 1))
# The module (the package's `sync` is the function).
sync_module = importlib.import_module("shequn.analytics.sync")


def _import(ws: Workspace, tmp_path: Path, name: str, rows: list[str]) -> None:
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    had_copy = copy_path(ws).exists()
    import_path(ws, path, format_name="canonical")
    if not had_copy:  # built by the import itself on SQLite (test_inpass.py): the sync
        sync_module.remove_copy(copy_path(ws))  # is what these tests are about


def test_sync_reads_only_new_events(ws: Workspace, tmp_path: Path) -> None:
    _import(ws, tmp_path, "first.csv", FIRST)
    first = sync(ws)
    assert (first.events_read, first.last_id, first.rebuilt) == (5, 5, True)
    again = sync(ws)
    assert (again.events_read, again.last_id, again.rebuilt) == (0, 5, False)
    _import(ws, tmp_path, "second.csv", SECOND)
    third = sync(ws)
    # PostgreSQL's sequence spends an id on the duplicate: the last id is the store's.
    top = reader_for(ws.engine).max_id()
    assert (third.events_read, third.last_id, third.rebuilt) == (2, top, False)
    figures = compute(ws, *OCTOBER)["club"]
    # wa:li, tg:li, tg:wang joined, tg:zhao joined and left: 3 at the end
    assert (figures["joins"], figures["leaves"], figures["members_at_end"]) == (4, 1, 3)
    assert figures["gmv"] == figures["aov"] == Decimal("99.90")  # one order of 99.90
    assert figures["k_factor"] is None  # no member at the start of October


def test_merged_members_count_once(ws: Workspace, tmp_path: Path) -> None:
    _import(ws, tmp_path, "first.csv", FIRST)
    assert compute(ws, *OCTOBER)["*"]["members_at_end"] == 3  # wa:li, tg:li, tg:wang
    merge(ws, "wa:li", ["tg:li"])
    result = sync(ws)
    assert (result.events_read, result.rebuilt) == (0, False)  # only the member table
    figures = compute(ws, *OCTOBER)["*"]
    assert figures["members_at_end"] == 2  # one person (wa:li = tg:li) and tg:wang
    assert figures["joins"] == 3  # events still count as they were recorded


def test_missing_or_damaged_copy_is_rebuilt(ws: Workspace, tmp_path: Path) -> None:
    _import(ws, tmp_path, "first.csv", FIRST)
    sync(ws)
    copy_path(ws).unlink()
    rebuilt = sync(ws)
    assert (rebuilt.events_read, rebuilt.rebuilt) == (5, True)
    copy_path(ws).write_bytes(b"not a database" * 1000)
    damaged = sync(ws)
    assert (damaged.events_read, damaged.rebuilt) == (5, True)
    assert compute(ws, *OCTOBER)["club"]["joins"] == 3


def test_concurrent_syncs_take_turns(ws: Workspace, tmp_path: Path) -> None:
    _import(ws, tmp_path, "first.csv", FIRST)
    results = []

    def run() -> None:
        other = Workspace.open(ws.root)
        try:
            results.append(sync(other))
        finally:
            other.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Exactly one of them read the log; the others found the copy up to date.
    assert sorted(r.events_read for r in results) == [0, 0, 5]
    assert compute(ws, *OCTOBER)["club"]["joins"] == 3


def test_fast_reader_matches_the_generic_one(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "SMALL_RANGE", 0)  # take the bulk path even for 5 rows
    _import(ws, tmp_path, "first.csv", FIRST + SECOND[1:])
    fast, generic = reader_for(ws.engine), CoreReader(ws.engine)
    top = generic.max_id()
    assert fast.max_id() == top
    got, expected = fast.events(2, top), generic.events(2, top)
    assert got.column_names == expected.column_names
    for name in got.column_names:
        values = [v if v != "" else None for v in got[name].to_pylist()]
        assert values == expected[name].to_pylist(), name
    assert expected["amount"].to_pylist() == [None, None, "99.90", None, None]


@pytest.mark.parametrize("small_range", [0, 100_000])  # the bulk reader, and the generic one
def test_experiment_assignments_are_copied_to_enrolments_only(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_range: int
) -> None:
    monkeypatch.setattr(readers, "SMALL_RANGE", small_range)
    _import(ws, tmp_path, "first.csv", FIRST)
    assigned = [
        journal.entry(
            "experiment_assigned", 1_000 + i, "club", f"k{i}", member=m, text=arm,
            experiment="hello.welcome", playbook="hello", step="welcome", due_ts=1_000 + i,
        )
        for i, (m, arm) in enumerate([("wa:li", "holdout"), ("tg:wang", "treated")])
    ]  # fmt: skip
    due = journal.entry("sop_action_due", 1_500, "club", "k1", member="tg:wang", text="x")
    with ws.engine.begin() as conn:
        journal.record(conn, [*assigned, due])
    with open_copy(ws) as (con, _result):
        rows = con.execute("SELECT * FROM enrolments ORDER BY ts").fetchall()
        types = {t for (t,) in con.execute("SELECT DISTINCT type FROM events").fetchall()}
    assert rows == [
        ("hello.welcome", "holdout", "club", "wa:li", 1_000),
        ("hello.welcome", "treated", "club", "tg:wang", 1_001),
    ]
    assert types == {"join", "message", "order"}  # no SOP event among the events


def test_behind_counts_what_the_copy_lacks_without_waiting(ws: Workspace, tmp_path: Path) -> None:
    _import(ws, tmp_path, "first.csv", FIRST)
    assert behind(ws) == 5  # no copy yet: the whole log
    sync(ws)
    assert behind(ws) == 0
    _import(ws, tmp_path, "second.csv", SECOND)
    top = reader_for(ws.engine).max_id()  # PostgreSQL spends an id on the duplicate
    assert behind(ws) == top - 5
    with open_copy(ws) as (_con, result):
        assert result.last_id == top
        assert behind(ws) is None  # a sync holds the copy: no waiting for it
    assert behind(ws) == 0


def test_progress_is_told_before_and_after_each_chunk(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_module, "CHUNK_ROWS", 2)
    _import(ws, tmp_path, "first.csv", FIRST)
    told: list[tuple[int, int]] = []
    assert sync(ws, lambda done, total: told.append((done, total))).events_read == 5
    assert told == [(0, 5), (2, 5), (4, 5), (5, 5)]
