"""The event sink of an import, with the analytics copy built in the same pass."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from shequn.analytics.inpass import copy_feed
from shequn.store.bulk import EventSink
from shequn.workspace import Workspace


@contextmanager
def open_sink(ws: Workspace, *, in_pass: bool = True) -> Iterator[EventSink]:
    """An `EventSink` for the workspace's store. With `in_pass`, where the store can
    predict the ids it gives (SQLite) and the analytics copy is current, the copy takes
    in the import while it is staged and is committed after the store, when the block
    ends (`analytics.inpass`): the first dashboard after a large import then does not
    wait for a cold build. Otherwise the next sync brings the copy up to date."""
    with ExitStack() as stack:
        sink = stack.enter_context(EventSink(ws.engine, ws.root / "data"))
        feed = stack.enter_context(copy_feed(ws)) if in_pass and sink.predicts_ids else None
        sink.tap = feed
        yield sink
        if feed is not None:
            feed.finish(sink.added)
