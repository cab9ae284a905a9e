"""Appending many events at once: stage them, then merge in one short transaction.

SQLite: validated batches go through ADBC (Arrow to SQLite in C) into a scratch
database file beside the workspace's, without taking the workspace's write lock;
`commit()` attaches it and merges with one INSERT ... SELECT ... ON CONFLICT DO
NOTHING inside a BEGIN IMMEDIATE transaction. Binding 1M rows through the sqlite3
module costs ~2.7 s; through ADBC ~0.7 s (docs/adr/0002-bulk-append.md).

PostgreSQL: batches are COPY'd into a temporary table inside the transaction that
`commit()` then finishes with the same INSERT ... SELECT ... ON CONFLICT DO NOTHING.

Either way a failure before `commit()` leaves the store untouched, and events whose
(source, source_id) is already stored are skipped, so re-import is idempotent.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import polars as pl
import pyarrow as pa
from sqlalchemy import Connection, Engine, func, select

from shequn.store import dialect
from shequn.store.engine import write_transaction
from shequn.store.schema import EVENT_COLUMNS, communities, events, members
from shequn.store.staging import STAGING_PREFIX, bounded_memory, claim, remove_stale

if TYPE_CHECKING:
    import psycopg

_COLUMN_LIST = ", ".join(EVENT_COLUMNS)
_MERGE = (
    f"INSERT INTO events ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} FROM {{table}} "
    "WHERE true ORDER BY seq ON CONFLICT (source, source_id) DO NOTHING"
)


# Rows merged per statement (SQLite): bounds each statement's journal.
MERGE_RANGE = 250_000
_MERGE_RANGE = (
    f"INSERT INTO events ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} FROM stage.incoming "
    "WHERE seq >= ? AND seq < ? ORDER BY seq ON CONFLICT (source, source_id) DO NOTHING"
)


def _platform(key: str) -> str | None:
    prefix, sep, _ = key.partition(":")
    return prefix if sep else None


@dataclass
class Seen:
    """Communities and members met in the staged events (small: one entry each)."""

    communities: dict[str, int] = field(default_factory=dict)  # key -> first ts (µs)
    members: dict[str, tuple[str | None, int]] = field(
        default_factory=dict
    )  # key -> (name, first ts)

    def add(self, frame: pl.DataFrame) -> None:
        for key, first in frame.group_by("community").agg(pl.col("ts").min()).iter_rows():
            self.communities[key] = min(first, self.communities.get(key, first))
        people = pl.concat(
            [
                frame.select(
                    pl.col("member").alias("key"), pl.col("member_name").alias("name"), "ts"
                ),
                frame.select(
                    pl.col("inviter").alias("key"), pl.col("inviter_name").alias("name"), "ts"
                ),
            ]
        ).filter(pl.col("key").is_not_null())
        summary = people.group_by("key").agg(pl.col("name").drop_nulls().last(), pl.col("ts").min())
        for key, name, first in summary.iter_rows():
            old_name, old_first = self.members.get(key, (None, first))
            self.members[key] = (name or old_name, min(first, old_first))

    def record(self, conn: Connection) -> None:
        """Insert new communities and members; refresh display names."""
        dialect.insert_ignore(
            conn,
            communities,
            [
                {"key": k, "platform": None, "first_ts": ts}
                for k, ts in sorted(self.communities.items())
            ],
        )
        dialect.upsert(
            conn,
            members,
            [
                {"key": k, "person": k, "name": name, "platform": _platform(k), "first_ts": ts}
                for k, (name, ts) in sorted(self.members.items())
            ],
            update=["name"],
        )


def _stored_form(frame: pl.DataFrame, source: str, batch: int | None) -> pl.DataFrame:
    """A validated frame in the column order and types of the events table."""
    return frame.with_columns(
        pl.col("ts").dt.epoch("us").alias("ts"),
        pl.coalesce(pl.col("source"), pl.lit(source)).alias("source"),
        pl.lit(batch, dtype=pl.Int64).alias("batch"),
    )


class StageTap(Protocol):
    """Something that follows an import as it is staged (the analytics copy built in
    the same pass): it sees each staged batch and learns, inside the merge's
    transaction, whether the merge gave every staged event the id `base` + 1 + seq."""

    base: int

    def staged(self, rows: pa.Table) -> None:
        """A staged batch: `seq` (0, 1, … over the whole import) and EVENT_COLUMNS."""
        ...

    def complete(self) -> None:
        """No more batches: the merge begins."""
        ...

    def merged(self, as_predicted: bool) -> None:
        """The merge is done (its transaction not yet committed)."""
        ...


class EventSink:
    """Stage validated frames with `add`, then `commit` them with other writes."""

    def __init__(self, engine: Engine, scratch_dir: Path) -> None:
        self.engine = engine
        self.scratch_dir = scratch_dir
        self.seen = Seen()
        self.staged = 0
        self.added = 0
        self.tap: StageTap | None = None
        self._seq = 0
        self._impl: _SqliteStage | _PostgresStage | None = None

    @property
    def predicts_ids(self) -> bool:
        """Whether a tap can be told which ids the merge gave. SQLite only: its merge
        numbers rows max(id) + 1, … in seq order. PostgreSQL's ids come from a sequence
        that every rolled-back import advances too, so they would seldom be the ones
        predicted; there the copy is brought up to date by the normal sync."""
        return isinstance(self._impl, _SqliteStage)

    def __enter__(self) -> EventSink:
        if self.engine.dialect.name == "postgresql":
            self._impl = _PostgresStage(self.engine)
        else:
            self._impl = _SqliteStage(self.engine, self.scratch_dir)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._impl is not None
        self._impl.close()

    def add(
        self, frame: pl.DataFrame, source: str, batch: int | None = None, *, known: bool = False
    ) -> None:
        """Stage a validated frame. `known`: its communities and members are stored
        already (events shequn records about them), so they are not gathered into
        `seen` and `commit` writes none (the frame needs no name columns)."""
        if frame.height == 0:
            return
        assert self._impl is not None
        stored = _stored_form(frame, source, batch)
        if not known:
            self.seen.add(stored)
        stored = stored.select(
            pl.int_range(self._seq, self._seq + stored.height, dtype=pl.Int64).alias("seq"),
            *EVENT_COLUMNS,
        )
        self._seq += stored.height
        rows = stored.to_arrow()  # once: the staging and the tap read the same buffers
        self._impl.add(rows)
        self.staged += stored.height
        if self.tap is not None:
            self.tap.staged(rows)

    @contextmanager
    def commit(self) -> Iterator[Connection]:
        """One write transaction: merge the staged events, record members and
        communities, and let the caller add its own writes before it commits."""
        assert self._impl is not None
        if self.tap is not None:
            self.tap.complete()
        with self._impl.transaction() as (conn, merge):
            self.added = merge()
            if self.tap is not None:
                every = self.added == self.staged
                self.tap.merged(every and _ids_follow(conn, self.tap.base, self.added))
            self.seen.record(conn)
            yield conn


def _ids_follow(conn: Connection, base: int, added: int) -> bool:
    """Whether the events after id `base` are exactly those with ids base + 1 … base +
    `added` (not so when another writer appended since `base` was read)."""
    query = select(func.count(), func.min(events.c.id), func.max(events.c.id))
    count, low, high = conn.execute(query.where(events.c.id > base)).one()
    return count == added and (added == 0 or (low, high) == (base + 1, base + added))


class _SqliteStage:
    def __init__(self, engine: Engine, scratch_dir: Path) -> None:
        import adbc_driver_sqlite.dbapi as adbc

        self.engine = engine
        scratch_dir.mkdir(parents=True, exist_ok=True)
        remove_stale(scratch_dir)
        self.path = scratch_dir / f"{STAGING_PREFIX}{uuid.uuid4().hex}.db"
        self.owner = claim(self.path)
        self.created = False
        self.rows = 0
        self.merged = False  # committed: the WAL holds the merge until a checkpoint
        try:
            self.conn = adbc.connect(str(self.path), autocommit=True)
            self.cursor = self.conn.cursor()
            for statement in (
                "PRAGMA journal_mode=OFF",
                "PRAGMA synchronous=OFF",
                "BEGIN",
                # seq is the rowid: the merge reads it in seq order without sorting.
                f"CREATE TABLE incoming (seq INTEGER PRIMARY KEY, {_COLUMN_LIST})",
            ):
                _beside_main(self.cursor.execute, statement)
        except BaseException:  # Ctrl-C included: the file must not outlive us
            self.close()
            raise

    def add(self, rows: pa.Table) -> None:
        _beside_main(self.cursor.adbc_ingest, "incoming", rows, mode="append")
        self.created = True
        self.rows += rows.num_rows

    @contextmanager
    def transaction(self) -> Iterator[tuple[Connection, Callable[[], int]]]:
        _beside_main(self.cursor.execute, "COMMIT")
        self.cursor.close()
        self.conn.close()
        with self.engine.connect() as outer:
            raw = _sqlite_connection(outer)
            # ATTACH is refused inside a transaction: do it before SQLAlchemy begins.
            raw.execute("ATTACH DATABASE ? AS stage", (str(self.path),))
            try:
                conn = outer.execution_options(shequn_write=True)
                with bounded_memory(raw), conn.begin():
                    yield conn, lambda: self._merge(conn, self.rows)
                self.merged = True
            finally:
                # After an interrupt SQLAlchemy may have closed the connection already:
                # then there is nothing to detach, and the interrupt must surface.
                with suppress(sqlite3.Error):
                    raw.execute("DETACH DATABASE stage")

    @staticmethod
    def _merge(conn: Connection, rows: int) -> int:
        """INSERT ... SELECT one range of seq at a time, all in the caller's transaction:
        each statement's journal stays small whatever the size of the import."""
        raw = _sqlite_connection(conn)
        before = raw.total_changes
        for lo in range(0, rows, MERGE_RANGE):
            conn.exec_driver_sql(_MERGE_RANGE, (lo, lo + MERGE_RANGE))
        return raw.total_changes - before

    def close(self) -> None:
        with suppress(Exception):
            self.conn.close()  # AttributeError when connecting failed
        self.path.unlink(missing_ok=True)
        self.owner.close()
        if self.merged:
            # The merge left its pages in the WAL (no checkpoint at its commit, so
            # the staged copy, the WAL and the store never all exist at full size).
            with suppress(Exception), self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


def _beside_main(call: Callable[..., object], *args: object, **kwargs: object) -> None:
    """Run an ADBC call in another thread and wait for it.

    In the main thread ADBC swaps Python's SIGINT handler for its own, which only asks
    the driver to cancel: SQLite's ingest does not stop, so Ctrl-C was lost and the
    import went on. Elsewhere ADBC leaves the handler alone: Ctrl-C interrupts the wait
    here, and the batch under way finishes before the staging file is removed.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="shequn-stage") as pool:
        running = pool.submit(call, *args, **kwargs)
        try:
            running.result()
        except KeyboardInterrupt:
            wait([running])
            raise


def _sqlite_connection(conn: Connection) -> sqlite3.Connection:
    raw = conn.connection.driver_connection
    if not isinstance(raw, sqlite3.Connection):
        raise TypeError(f"expected sqlite3 under SQLAlchemy, found {type(raw).__name__}")
    return raw


def _psycopg_connection(conn: Connection) -> psycopg.Connection[Any]:
    import psycopg

    raw = conn.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError(f"expected psycopg under SQLAlchemy, found {type(raw).__name__}")
    return raw


class _PostgresStage:
    def __init__(self, engine: Engine) -> None:
        self._cm = write_transaction(engine)
        self.conn = self._cm.__enter__()
        self.raw = _psycopg_connection(self.conn)
        with self.raw.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE incoming ON COMMIT DROP AS "
                f"SELECT 0::bigint AS seq, {_COLUMN_LIST} FROM events WITH NO DATA"
            )
        self.created = False
        self.done = False

    def add(self, rows: pa.Table) -> None:
        columns = [column.to_pylist() for column in rows.columns]
        with (
            self.raw.cursor() as cur,
            cur.copy(f"COPY incoming (seq, {_COLUMN_LIST}) FROM STDIN") as copy,
        ):
            for row in zip(*columns, strict=True):
                copy.write_row(row)
        self.created = True

    @contextmanager
    def transaction(self) -> Iterator[tuple[Connection, Callable[[], int]]]:
        def merge() -> int:
            if not self.created:
                return 0
            dialect.lock_appends(self.conn)
            return self.conn.exec_driver_sql(_MERGE.format(table="incoming")).rowcount

        try:
            yield self.conn, merge
        except BaseException as exc:
            self.done = True
            self._cm.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self.done = True
        self._cm.__exit__(None, None, None)

    def close(self) -> None:
        if not self.done:
            self.done = True
            self._cm.__exit__(RuntimeError, RuntimeError("aborted"), None)
