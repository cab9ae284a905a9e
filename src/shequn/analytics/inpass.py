"""Building the analytics copy during an import, in the same pass (issue 13).

A cold build after a large import reads every event back out of the store and
prepares it again (~4 CPU-s per million events, docs/performance.md). While an SQLite
import stages its batches (on the main thread), a `CopyFeed` takes each one in a
thread of its own, with the ids the store's merge will give it — (the store's last id
when the import began) + 1 + seq — and appends it to the copy inside one DuckDB
transaction, range by range exactly as a sync would (`sync.CHUNK_ROWS` ids each, so
the copy is the same one a sync would make: tests/analytics/test_inpass.py).

That only holds if the copy is current when the import begins (`sync.held_if_current`
catches up a copy a few ids behind first; the copy is held, so no sync runs meanwhile)
and the merge gives exactly those ids: the store's sink checks it inside its
transaction (no event skipped as a duplicate, no other writer in between). Then
`finish` adds the members, tasks and sync state and commits the copy after the store
has committed; otherwise, or on any error or Ctrl-C, the copy's transaction is rolled
back (a copy made for the import is deleted) and the next sync catches up as usual.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import duckdb
import pyarrow as pa

from shequn.analytics.copy import create_schema, insert, prepare, store_select
from shequn.analytics.readers import SCHEMA
from shequn.analytics.sync import (
    CHUNK_ROWS,
    Held,
    copy_path,
    finish_catch_up,
    held_if_current,
    remove_copy,
)
from shequn.workspace import Workspace

# Staged events waiting for the copy (~200 MB per million): the import pauses while
# the copy is this far behind, so memory stays bounded whatever the import's size.
QUEUE_ROWS = 2_000_000
# An existing copy takes the import in one DuckDB transaction, which keeps its rows in
# memory (~0.5 GB per million events): past this many the feed gives up and leaves
# the import to the next sync.
TRANSACTION_ROWS = 3_000_000
_END = None
log = logging.getLogger("shequn.analytics")


class _TooLarge(Exception):
    """The import outgrew one transaction on an existing copy (TRANSACTION_ROWS)."""


class CopyFeed:
    """The copy's side of one import: a `store.bulk.StageTap`."""

    def __init__(self, held: Held, ws: Workspace) -> None:
        self.base = held.last_id  # the copy's and the store's, under the copy's lock
        self.as_predicted = self.committed = False
        self._con, self._ws, self._reader, self._new = held.con, ws, held.reader, held.new
        self._queue: queue.Queue[pa.Table | None] = queue.Queue()
        self._room = threading.Condition()
        self._queued = 0  # rows in the queue
        self._failure: BaseException | None = None
        self._appended = 0  # staged rows taken into the copy
        self._stop = threading.Event()
        self._ended = False
        self._thread = threading.Thread(target=self._work, name="shequn-copy", daemon=True)
        create_schema(self._con)  # a new copy's tables (an existing one has them)
        if not self._new:
            self._con.execute("BEGIN")  # one transaction: see `_append`
        self._thread.start()

    def staged(self, rows: pa.Table) -> None:
        with self._room:
            self._room.wait_for(lambda: self._queued < QUEUE_ROWS)
            self._queued += rows.num_rows
        self._queue.put(rows)

    def complete(self) -> None:
        if not self._ended:
            self._ended = True
            self._queue.put(_END)

    def merged(self, as_predicted: bool) -> None:
        self.as_predicted = as_predicted

    def finish(self, added: int) -> bool:
        """After the store committed: wait for the last ranges, then complete and commit
        the copy if the merge gave the predicted ids (else roll it back). Returns
        whether the copy now holds the import."""
        self.complete()
        self._thread.join()
        if self._failure is not None:
            level = logging.INFO if isinstance(self._failure, _TooLarge) else logging.WARNING
            log.log(level, "no copy built with the import (%r): a sync will", self._failure)
        if self._failure is not None or not self.as_predicted:
            self.abandon()
            return False
        if self._new:
            self._con.execute("BEGIN")
        finish_catch_up(self._con, self._ws, self._reader, self.base + added)
        self._con.execute("COMMIT")
        self.committed = True
        return True

    def abandon(self) -> None:
        """Stop and roll back: the copy is left as it was."""
        self._stop.set()
        self._con.interrupt()  # a statement under way stops at once
        self.complete()
        self._thread.join()
        with suppress(duckdb.Error):
            self._con.execute("ROLLBACK")

    def _work(self) -> None:
        """Append each full range of CHUNK_ROWS ids as its batches arrive, and the rest
        once staging ends; after a failure or a stop, only drain the queue."""
        pending: list[pa.Table] = []
        rows = 0
        while (batch := self._queue.get()) is not _END:
            with self._room:
                self._queued -= batch.num_rows
                self._room.notify()
            if self._stop.is_set() or self._failure is not None:
                continue
            pending.append(batch)
            rows += batch.num_rows
            while rows >= CHUNK_ROWS and self._failure is None:
                whole = pa.concat_tables(pending)  # no copy: the chunks are kept
                pending, rows = [whole.slice(CHUNK_ROWS)], rows - CHUNK_ROWS
                self._append(whole.slice(0, CHUNK_ROWS))
        if rows and not self._stop.is_set() and self._failure is None:
            self._append(pa.concat_tables(pending))

    def _append(self, staged: pa.Table) -> None:
        """One range. A new copy commits each (an uncommitted DuckDB transaction keeps
        its rows in memory): it is deleted if the import fails, and has no sync state
        until `finish`, so a killed import leaves no copy that a sync would take as
        usable. An existing copy takes the whole import in one transaction, rolled back
        unless the merge gives the predicted ids."""
        self._appended += staged.num_rows
        try:
            if not self._new and self._appended > TRANSACTION_ROWS:
                raise _TooLarge(f"{self._appended:,} events")
            if self._new:
                self._con.execute("BEGIN")
            insert(self._con, prepare(self._store_rows(staged), self._ws.settings.zone))
            if self._new:
                self._con.execute("COMMIT")
        except BaseException as exc:  # told at finish; the import itself goes on
            self._failure = exc
            with suppress(duckdb.Error):  # let go of what the transaction holds now
                self._con.execute("ROLLBACK")

    def _store_rows(self, staged: pa.Table) -> pa.Table:
        """Staged rows, in seq order, as the sync reads them from the store
        (`copy.store_select`), with the ids the merge will give them."""
        # DuckDB keeps a scan's order (preserve_insertion_order): no sort needed.
        query = (
            f"SELECT {store_select()} FROM (SELECT seq + {self.base + 1} AS id, * FROM staged_rows)"
        )
        self._con.register("staged_rows", staged)
        try:
            return self._con.sql(query).to_arrow_table().cast(SCHEMA)
        finally:
            self._con.unregister("staged_rows")


@contextmanager
def copy_feed(ws: Workspace) -> Iterator[CopyFeed | None]:
    """A feed holding the copy for one import, or None when the copy lags or a sync
    holds it (then the next sync brings it up to date). Rolled back on any error; a
    copy made for the import is deleted unless the feed committed it."""
    with held_if_current(ws) as held:
        if held is None:
            yield None
            return
        feed: CopyFeed | None = None
        try:
            feed = CopyFeed(held, ws)
            yield feed
        except BaseException:
            if feed is not None:
                feed.abandon()
            raise
        finally:
            if held.new and not (feed is not None and feed.committed):
                held.con.close()
                remove_copy(copy_path(ws))
