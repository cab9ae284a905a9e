"""The analytics copy built during an import equals the copy a cold sync builds, and
falls back to the normal sync whenever the merge's ids were not the predicted ones."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import duckdb
import pytest

from shequn.analytics import sync
from shequn.analytics.sync import copy_path
from shequn.importers.pipeline import frames
from shequn.services.imports import import_path
from shequn.services.simulate import simulate_into
from shequn.services.sink import open_sink
from shequn.services.workspace import init_workspace
from shequn.simulate import default_spec, simulate
from shequn.store.bulk import EventSink
from shequn.workspace import Workspace
from tests.helpers.paths import DATA

sync_module = importlib.import_module("shequn.analytics.sync")
inpass_module = importlib.import_module("shequn.analytics.inpass")
TABLES = (
    "events",
    "first_touch",
    "community_start",
    "member_days",
    "order_totals",
    "enrolments",
    "members",
    "sop_tasks",
    "sync_state",
)
CHUNK = 3_000  # a few ranges per import, so the range boundaries are compared too


@pytest.fixture
def lite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    for module in (sync_module, inpass_module):
        monkeypatch.setattr(module, "CHUNK_ROWS", CHUNK)
    return init_workspace(tmp_path / "w", name="w")


# `member_days` may hold a day's row once per append that saw it (analytics/copy.py):
# copies appended in other ranges are compared as readers see it, MAX(spoke) per day.
AS_READ = {"member_days": "SELECT community, member, day, MAX(spoke) FROM member_days GROUP BY ALL"}


def _dump(ws: Workspace, *, as_read: bool = False) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of the copy, sorted."""
    queries = {t: f"SELECT * FROM {t}" for t in TABLES} | (AS_READ if as_read else {})
    con = duckdb.connect(str(copy_path(ws)), read_only=True)
    try:
        return {t: sorted(con.execute(q).fetchall(), key=repr) for t, q in queries.items()}
    finally:
        con.close()


def _cold(ws: Workspace, *, as_read: bool = False) -> dict[str, list[tuple[object, ...]]]:
    """The copy as a cold sync builds it (the copy on disk is replaced)."""
    copy_path(ws).unlink()
    assert sync(ws).rebuilt
    return _dump(ws, as_read=as_read)


def _simulated(events: int, seed: int) -> list:  # type: ignore[type-arg]
    spec = default_spec(n_communities=2, days=40, seed=seed, target_events=events)
    return list(frames(simulate(spec), "simulate"))


def test_the_import_builds_the_copy_a_cold_sync_builds(lite: Workspace) -> None:
    result = simulate_into(lite, communities=2, days=40, events=10_000, seed=3)
    assert result.added > 2 * CHUNK  # several ranges
    built = _dump(lite)
    assert dict(built["sync_state"])["last_id"] == str(result.added)
    nothing_left = sync(lite)
    assert (nothing_left.events_read, nothing_left.rebuilt) == (0, False)
    assert built == _cold(lite)


def test_an_import_into_a_current_copy_appends_what_a_sync_would(
    lite: Workspace, tmp_path: Path
) -> None:
    simulate_into(lite, communities=2, days=40, events=5_000, seed=3)
    saved = tmp_path / "saved.duckdb"
    shutil.copy(copy_path(lite), saved)
    # Several ranges from the first import's last id on, links (replies) included.
    second = simulate_into(lite, communities=2, days=40, events=8_000, seed=5)
    third = import_path(lite, DATA / "canonical" / "events.csv")
    assert second.added > 2 * CHUNK and sync(lite).events_read == 0
    built = _dump(lite)
    shutil.copy(saved, copy_path(lite))  # the copy before the second import
    assert sync(lite).events_read == second.added + third.added
    assert built == _dump(lite)


def _stored_beside_the_copy(ws: Workspace, events: int) -> int:
    """Store events the copy does not take in (as `members refresh` records its
    changes after its sync); how many."""
    with EventSink(ws.engine, ws.root / "data") as sink:
        for frame in _simulated(events, seed=6):
            sink.add(frame, "beside")
        with sink.commit():
            pass
    return sink.added


def test_a_copy_a_few_ids_behind_is_caught_up_then_fed(lite: Workspace) -> None:
    simulate_into(lite, communities=2, days=40, events=3_000, seed=3)
    lag = _stored_beside_the_copy(lite, 400)
    assert sync_module.behind(lite) == lag > 0
    imported = import_path(lite, DATA / "canonical" / "events.csv")
    assert imported.added > 0
    assert sync_module.behind(lite) == 0  # caught up, then fed in the import's pass
    assert sync(lite).events_read == 0
    assert _dump(lite, as_read=True) == _cold(lite, as_read=True)


def test_a_copy_further_behind_is_left_to_the_sync(
    lite: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulate_into(lite, communities=2, days=40, events=3_000, seed=3)
    lag = _stored_beside_the_copy(lite, 400)
    monkeypatch.setattr(sync_module, "CATCH_UP_IDS", lag - 1)
    imported = import_path(lite, DATA / "canonical" / "events.csv")
    assert sync_module.behind(lite) == lag + imported.added
    assert sync(lite).events_read == lag + imported.added


def test_duplicates_leave_it_to_the_sync(lite: Workspace, tmp_path: Path) -> None:
    import_path(lite, DATA / "canonical" / "events.csv")
    before = _dump(lite)
    # The same events again and one new: the merge skips 9, the ids are not as predicted.
    rows = (DATA / "canonical" / "events.csv").read_text(encoding="utf-8").splitlines()
    extra = rows[-1].rsplit(",", 1)[0] + ",brand-new"
    path = tmp_path / "again.csv"
    path.write_text("\n".join([*rows, extra]) + "\n", encoding="utf-8")
    assert import_path(lite, path).added == 1
    assert _dump(lite) == before  # rolled back: still the copy of the first import
    caught_up = sync(lite)
    assert (caught_up.events_read, caught_up.rebuilt) == (1, False)
    assert _dump(lite) == _cold(lite)


def test_a_concurrent_writer_leaves_it_to_the_sync(lite: Workspace) -> None:
    mine, theirs = _simulated(4_000, seed=1), _simulated(2_000, seed=2)
    with open_sink(lite) as sink:
        for frame in mine:
            sink.add(frame, "mine")
        # Another import commits between this one's start and its merge (it finds the
        # copy held, so it builds nothing itself).
        with open_sink(lite) as other:
            for frame in theirs:
                other.add(frame, "theirs")
            with other.commit():
                pass
        with sink.commit():
            pass
    assert not copy_path(lite).exists()  # made for the import, deleted again
    assert sync(lite).events_read == sink.added + other.added
    assert _dump(lite) == _cold(lite)


def test_an_error_during_the_import_leaves_the_copy_as_it_was(lite: Workspace) -> None:
    simulate_into(lite, communities=2, days=40, events=5_000, seed=3)
    before = _dump(lite)
    with pytest.raises(RuntimeError, match="broken export"), open_sink(lite) as sink:
        for frame in _simulated(8_000, seed=4):
            sink.add(frame, "other")
        raise RuntimeError("broken export")
    assert _dump(lite) == before
    assert sync(lite).events_read == 0


def test_a_copy_that_lags_is_left_to_the_sync(lite: Workspace) -> None:
    simulate_into(lite, communities=2, days=40, events=3_000, seed=3)
    copy_path(lite).unlink()  # the store holds events the copy lacks
    import_path(lite, DATA / "canonical" / "events.csv")
    assert not copy_path(lite).exists()
    assert sync(lite).rebuilt


def test_an_import_too_large_for_one_transaction_is_left_to_the_sync(
    lite: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulate_into(lite, communities=2, days=40, events=3_000, seed=3)
    before = _dump(lite)
    monkeypatch.setattr(inpass_module, "TRANSACTION_ROWS", 2 * CHUNK)
    with open_sink(lite) as sink:
        for frame in _simulated(8_000, seed=4):
            sink.add(frame, "other")
        with sink.commit():
            pass
    assert sink.added > 2 * CHUNK and _dump(lite) == before  # rolled back
    assert sync(lite).events_read == sink.added
    # The sync appended in ranges from the first import's last id, a cold build not.
    assert _dump(lite, as_read=True) == _cold(lite, as_read=True)
