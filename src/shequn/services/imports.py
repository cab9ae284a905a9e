"""Importing exports into the event log: all or nothing, idempotent."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from shequn.clock import Clock, SystemClock, to_micros
from shequn.errors import InputError
from shequn.importers import detect
from shequn.importers.base import ImportContext, Importer
from shequn.importers.pipeline import choose, frames
from shequn.importers.source import Source
from shequn.interrupts import uninterrupted
from shequn.services import audit
from shequn.services.sink import open_sink
from shequn.sop import late
from shequn.store import members as members_store
from shequn.store.bulk import EventSink
from shequn.store.engine import read_transaction
from shequn.store.schema import imports
from shequn.workspace import Workspace


@dataclass(frozen=True)
class ImportResult:
    path: str
    formats: tuple[str, ...]
    read: int
    added: int
    communities: tuple[str, ...]
    # Events timed at or before the SOP engine's last tick, and that tick (µs): their
    # triggers are evaluated late by the next tick (sop.late), or recorded as missed.
    late: tuple[int, int | None] = (0, None)

    @property
    def skipped(self) -> int:
        """Events already stored (re-import or overlapping export)."""
        return self.read - self.added


@dataclass
class Progress:
    """Callbacks for a progress bar: the total bytes, then bytes as they are read."""

    start: Callable[[int], None] = lambda _total: None
    advance: Callable[[int], None] = lambda _n: None


def plan(source: Source, format_name: str) -> list[tuple[Source, Importer]]:
    """Which importer reads which part of the source.

    A file, or a folder/zip that one importer claims whole (a Slack export, a zipped
    WhatsApp chat), is one part. Any other folder or zip is imported file by file,
    and every file must be recognised, so nothing is silently left out.
    """
    if format_name != "auto" or not source.is_container or detect(source) is not None:
        return [(source, choose(source, format_name))]
    parts: list[tuple[Source, Importer]] = []
    for name in source.names():
        member = source.sub(name)
        importer = detect(member)
        if importer is None:
            raise InputError(
                "the format of this file is not recognised",
                path=source.where(name),
                hint="remove it from the folder, or import it alone with --format",
            )
        parts.append((member, importer))
    if not parts:
        raise InputError("the folder holds no files", path=str(source.path), hint="check the path")
    return parts


def import_path(
    ws: Workspace,
    path: Path,
    *,
    format_name: str = "auto",
    community: str = "",
    mapping: Mapping[str, str] | None = None,
    me: str = "",
    progress: Progress | None = None,
    clock: Clock | None = None,
) -> ImportResult:
    """Append every event of a file, folder or zip to the workspace's log.

    All or nothing: the events are staged while they are read and merged in one
    transaction at the end; on any error nothing is stored and the error names
    the place.
    """
    clock = clock or SystemClock()
    progress = progress or Progress()
    started = to_micros(clock.now())
    format_name = _format_for(format_name, mapping)
    source = Source.open(path)
    try:
        parts = plan(source, format_name)
        progress.start(sum(part.total_size() for part, _ in parts))
        ctx = ImportContext(
            community=community,
            timezone=ws.settings.zone,
            mapping=dict(mapping or {}),
            me=me,
            progress=progress.advance,
        )
        formats = tuple(sorted({imp.name for _, imp in parts}))
        with ExitStack() as after_commit, open_sink(ws) as sink:
            for part, importer in parts:
                for frame in frames(importer.read(part, ctx), str(part.path)):
                    sink.add(frame, importer.name)
            with read_transaction(ws.engine) as conn:
                newest = late.newest_id(conn)
            with sink.commit() as conn:
                _record_aliases(conn, ctx.aliases)
                behind = _behind_the_engine(conn, newest)
                _record_import(conn, clock, str(path), formats, started, sink)
                # From the commit on, the import is stored: Ctrl-C waits until we return.
                after_commit.enter_context(uninterrupted())
    finally:
        source.close()
    return ImportResult(
        path=str(path),
        formats=formats,
        read=sink.staged,
        added=sink.added,
        communities=tuple(sorted(sink.seen.communities)),
        late=behind,
    )


def _behind_the_engine(conn: Connection, newest: int) -> tuple[int, int | None]:
    """(events of this import timed at or before the engine's last tick, that tick)."""
    from shequn.services.sop import LAST_TICK
    from shequn.store import state as store_state

    last = store_state.get(conn, LAST_TICK)
    if last is None:
        return 0, None
    return late.late_events(conn, newest, int(last))[0], int(last)


def _record_import(
    conn: Connection,
    clock: Clock,
    path: str,
    formats: tuple[str, ...],
    started: int,
    sink: EventSink,
) -> None:
    """The import's row in `imports`, and its audit event, in the merge's transaction."""
    conn.execute(
        imports.insert().values(
            started_at=started,
            finished_at=to_micros(clock.now()),
            path=path,
            format="+".join(formats),
            events_read=sink.staged,
            events_added=sink.added,
        )
    )
    audit.record(conn, clock, "import", path=path, read=sink.staged, added=sink.added)


def _format_for(format_name: str, mapping: Mapping[str, str] | None) -> str:
    """The format to read: a column mapping (``--map``) is only for orders, so it names it."""
    if not mapping or format_name == "orders":
        return format_name
    if format_name == "auto":
        return "orders"
    raise InputError(
        f"--map is for orders files, not {format_name}",
        field="--map",
        hint="drop --map, or import the file with --format orders",
    )


def _record_aliases(conn: Connection, aliases: dict[str, str]) -> None:
    """Make each aliased key the same person as the key it was found to be."""
    for key, same_as in sorted(aliases.items()):
        found = members_store.find(conn, [key, same_as])
        if len(found) == 2:  # both were seen in events
            members_store.set_person(conn, [found[key]["person"]], found[same_as]["person"])
