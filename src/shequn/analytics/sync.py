"""Keeping `<workspace>/data/analytics.duckdb` up to date with the store, by event id.

The store is the truth. The copy only ever appends events with `id > last synced id`
(ids become visible in order on both engines: docs/adr/0002-bulk-append.md) and
replaces the small table of merged member keys (key -> person) whole. SOP tasks (small) are read
again from the copy's first open task on: a task changes only when it is done. A copy
that is missing, unreadable, of another schema version or time zone, or made from
another store (its last synced event is no longer the same event) is deleted and
rebuilt from scratch.

One process at a time holds the copy: an exclusive lock file beside it serialises
syncs and the reads that follow them; a second process waits until the first is done.
"""

from __future__ import annotations

import fcntl
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
from sqlalchemy import Engine, select

from shequn.analytics.arrows import from_rows
from shequn.analytics.copy import (
    SCHEMA_VERSION,
    Prepared,
    connect,
    create_schema,
    insert,
    prepare,
    replace_members,
    replace_tasks,
    tasks_from,
)
from shequn.analytics.readers import StoreReader, reader_for
from shequn.redact import redact
from shequn.store.schema import members
from shequn.store.sop_schema import tasks
from shequn.workspace import Workspace

COPY_NAME = "analytics.duckdb"
# Events read from the store per round trip: ~90 MB of Arrow at 1M rows.
CHUNK_ROWS = 1_000_000
# Ranges read from the store at once while DuckDB takes in the oldest: each SQLite
# range is read by a child process, each PostgreSQL one by a COPY of its own.
READ_AHEAD = 2
# A copy this many event ids behind the store, or fewer, is caught up before an import
# feeds it in the same pass (`held_if_current`): such as the changes `shequn members
# refresh` records as it closes the copy, after its sync. Under a second at 100,000.
CATCH_UP_IDS = 100_000
# A catch-up of more event ids than this takes seconds: front ends show its progress.
LARGE_CATCH_UP = 200_000
# Told (event ids taken in so far, event ids to take in) before the first chunk and
# after each one.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SyncResult:
    """What one sync did.

    Attributes:
        events_read: events read from the store (only those newer than the copy).
        last_id: the last event id now in the copy (0 for an empty log).
        rebuilt: whether the copy was (re)built from scratch.
    """

    events_read: int
    last_id: int
    rebuilt: bool


def copy_path(ws: Workspace) -> Path:
    return ws.root / "data" / COPY_NAME


@contextmanager
def _exclusive(path: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold an exclusive lock on `path` (created if missing) until the block ends.

    Yields whether it is held: always when `wait`, else only if nobody else held it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def behind(ws: Workspace) -> int | None:
    """How many event ids the copy lacks (all of the log's when it must be rebuilt), or
    None while a sync holds it. Neither waits nor brings the copy up to date: a front
    end asks it to choose between syncing now and showing a progress page."""
    path = copy_path(ws)
    with _exclusive(path.with_name(COPY_NAME + ".lock"), wait=False) as held:
        if not held:
            return None
        reader = reader_for(ws.engine)
        top = reader.max_id()
        opened = _open(path)
        if opened is None:
            return top
        con, state = opened
        try:
            usable = _matches(state, _identity(ws), reader)
        finally:
            con.close()
        return top - int(state.get("last_id", "0")) if usable else top


@contextmanager
def open_copy(
    ws: Workspace, progress: Progress | None = None
) -> Iterator[tuple[duckdb.DuckDBPyConnection, SyncResult]]:
    """Bring the copy up to date and hold it (locked) for reading while the block runs."""
    path = copy_path(ws)
    with _exclusive(path.with_name(COPY_NAME + ".lock")):
        con, result = _synced(ws, path, progress)
        try:
            yield con, result
        finally:
            con.close()


def sync(ws: Workspace, progress: Progress | None = None) -> SyncResult:
    """Bring the copy up to date with the store; returns what was read."""
    with open_copy(ws, progress) as (_con, result):
        return result


@dataclass(frozen=True)
class Held:
    """A copy current with the store, held: its connection, the store's reader, the last
    event id in both (0 for an empty store), and whether the copy was just made."""

    con: duckdb.DuckDBPyConnection
    reader: StoreReader
    last_id: int
    new: bool


@contextmanager
def held_if_current(ws: Workspace) -> Iterator[Held | None]:
    """Hold the copy, without waiting, while the block runs, if it is current with the
    store: a copy at most `CATCH_UP_IDS` ids behind is caught up first. A missing or
    unusable copy counts as current (and is made anew) when the store is empty. Yields
    None, holding nothing, while a sync holds the copy or when it lags further."""
    path = copy_path(ws)
    with _exclusive(path.with_name(COPY_NAME + ".lock"), wait=False) as held:
        current = _current(ws, path) if held else None
        if current is None:
            yield None
            return
        try:
            yield current
        finally:
            current.con.close()


def _current(ws: Workspace, path: Path) -> Held | None:
    reader = reader_for(ws.engine)
    top = reader.max_id()
    opened = _open(path)
    if opened is not None:
        con, state = opened
        lag = top - int(state.get("last_id", "0"))
        if _matches(state, _identity(ws), reader) and 0 <= lag <= CATCH_UP_IDS:
            if lag:
                top = _catch_up(con, ws, reader, state, rebuilt=False, progress=None).last_id
            return Held(con, reader, top, new=False)
        con.close()
    if top != 0:  # a copy that lags, or none beside a stored log: the sync's to build
        return None
    remove_copy(path)
    try:
        return Held(connect(path), reader, 0, new=True)
    except BaseException:  # Ctrl-C included: no half-made copy is left behind
        remove_copy(path)
        raise


def _identity(ws: Workspace) -> dict[str, str]:
    """What the copy must match to be a copy of this store in this time zone."""
    return {
        "schema_version": str(SCHEMA_VERSION),
        "zone": ws.settings.timezone,
        "store": redact(ws.engine.url),
    }


def _synced(
    ws: Workspace, path: Path, progress: Progress | None
) -> tuple[duckdb.DuckDBPyConnection, SyncResult]:
    reader = reader_for(ws.engine)
    opened = _open(path)
    usable = opened is not None and _matches(opened[1], _identity(ws), reader)
    if opened is not None and usable:
        con, state = opened
    else:
        if opened is not None:
            opened[0].close()
        remove_copy(path)
        con, state = connect(path), {}
        create_schema(con)
    return con, _catch_up(con, ws, reader, state, rebuilt=not usable, progress=progress)


def _open(path: Path) -> tuple[duckdb.DuckDBPyConnection, dict[str, str]] | None:
    """The existing copy and its sync state, or None if it is missing or damaged."""
    if not path.exists():
        return None
    try:
        con = connect(path)
    except duckdb.Error:
        return None
    try:
        return con, _state(con)
    except duckdb.Error:
        con.close()
        return None


def _state(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    create_schema(con)
    return dict(con.execute("SELECT name, value FROM sync_state").fetchall())


def _matches(state: dict[str, str], identity: dict[str, str], reader: StoreReader) -> bool:
    if not state or any(state.get(k) != v for k, v in identity.items()):
        return False
    last = int(state.get("last_id", "0"))
    if last == 0:
        return True
    # The store may have been emptied or replaced under the same name.
    return reader.source_key(last) == (state.get("last_source"), state.get("last_source_id"))


def remove_copy(path: Path) -> None:
    """Delete the copy at `path` and its WAL."""
    for stale in (path, path.with_name(path.name + ".wal")):
        with suppress(FileNotFoundError):
            os.remove(stale)


def _catch_up(
    con: duckdb.DuckDBPyConnection,
    ws: Workspace,
    reader: StoreReader,
    state: dict[str, str],
    *,
    rebuilt: bool,
    progress: Progress | None,
) -> SyncResult:
    """Append every event after the last synced id, chunk by chunk, then the members
    and the SOP tasks."""
    last = int(state.get("last_id", "0"))
    top = reader.max_id()
    bounds = [(lo, min(lo + CHUNK_ROWS, top)) for lo in range(last, top, CHUNK_ROWS)]
    read = _append_ranges(con, ws, reader, bounds, progress or (lambda _done, _total: None))
    con.execute("BEGIN")
    finish_catch_up(con, ws, reader, top if bounds else last)
    con.execute("COMMIT")
    return SyncResult(events_read=read, last_id=top if bounds else last, rebuilt=rebuilt)


def finish_catch_up(
    con: duckdb.DuckDBPyConnection, ws: Workspace, reader: StoreReader, last_id: int
) -> None:
    """Once the events up to `last_id` are in: the members, the SOP tasks and the sync
    state (the caller holds the transaction)."""
    replace_members(con, _members(ws.engine))
    after = tasks_from(con)
    replace_tasks(con, after, _tasks(ws.engine, after))
    _save_state(con, ws, reader, last_id)


def _append_ranges(
    con: duckdb.DuckDBPyConnection,
    ws: Workspace,
    reader: StoreReader,
    bounds: list[tuple[int, int]],
    progress: Progress,
) -> int:
    """Append the events of each (lo, hi] range, in order, one transaction each; the
    next ranges are read from the store and prepared in other threads meanwhile.
    Returns the store rows read."""
    zone: ZoneInfo = ws.settings.zone
    first, total, read = bounds[0][0] if bounds else 0, sum(hi - lo for lo, hi in bounds), 0
    progress(0, total)

    def load(lo: int, hi: int) -> tuple[int, Prepared]:
        batch = reader.events(lo, hi)
        return batch.num_rows, prepare(batch, zone)

    with ThreadPoolExecutor(max_workers=READ_AHEAD) as pool:
        pending = deque(pool.submit(load, *b) for b in bounds[:READ_AHEAD])
        for index, (_lo, hi) in enumerate(bounds):
            rows_read, rows = pending.popleft().result()
            if index + READ_AHEAD < len(bounds):
                pending.append(pool.submit(load, *bounds[index + READ_AHEAD]))
            con.execute("BEGIN")
            insert(con, rows)
            read += rows_read
            _save_state(con, ws, reader, hi)
            con.execute("COMMIT")
            progress(hi - first, total)
    return read


def _save_state(
    con: duckdb.DuckDBPyConnection, ws: Workspace, reader: StoreReader, last_id: int
) -> None:
    source, source_id = reader.source_key(last_id) if last_id else (None, None)
    rows = {**_identity(ws), "last_id": str(last_id)}
    rows["last_source"], rows["last_source_id"] = source or "", source_id or ""
    con.execute("DELETE FROM sync_state")
    con.executemany("INSERT INTO sync_state VALUES (?, ?)", list(rows.items()))


# The merged member keys, key -> person: only keys whose person is another key matter
# to the engine (every other key is its own person). Read through their partial index
# (store.schema `ix_members_merged`): scanning every member cost 0.12-0.16 s of each
# sync at 1M members, and reading all keys as rows ~0.4 s at 138k.
MERGED_KEYS = select(members.c.key, members.c.person).where(members.c.person != members.c.key)


def _members(engine: Engine) -> pa.Table:
    """The merged member keys (`MERGED_KEYS`)."""
    with engine.connect() as conn:
        rows = conn.execute(MERGED_KEYS).all()
    return from_rows(rows, pa.schema([("key", pa.string()), ("person", pa.string())]))


def _tasks(engine: Engine, after: int) -> pa.Table:
    """The store's SOP tasks with id > `after` (id, community, due_ts, done_ts)."""
    query = (
        select(tasks.c.id, tasks.c.community, tasks.c.due_ts, tasks.c.done_ts)
        .where(tasks.c.id > after)
        .order_by(tasks.c.id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("community", pa.string()),
            ("due_ts", pa.int64()),
            ("done_ts", pa.int64()),
        ]
    )
    return from_rows(rows, schema)
