"""The importer contract: detect a format, read it into events."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

import polars as pl

from shequn.domain.events import Event
from shequn.importers.source import Source


@dataclass
class ImportContext:
    """What the user told `shequn import`, and where to report progress.

    Attributes:
        community: the community key to file events under (``--community``); when
            empty an importer derives one from the export (the chat's name or id).
        timezone: the zone of local times in formats that carry no offset.
        mapping: column mapping given with ``--map field=Column`` (orders CSV).
        progress: called with a count of bytes consumed, for the progress bar.
        aliases: member keys found to be the same person (see `alias`).
        me: the exporting user's display name (``--me``), for exports that call them
            "You" in system lines (WhatsApp).
    """

    community: str = ""
    timezone: tzinfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    mapping: Mapping[str, str] = field(default_factory=dict)
    progress: Callable[[int], None] = lambda _n: None
    aliases: dict[str, str] = field(default_factory=dict)
    me: str = ""

    def alias(self, key: str, same_as: str) -> None:
        """Say that two member keys are one person.

        For exports that name someone by display name in one place (a system line:
        ``qq:name:张同学``) and by id in another (``qq:30001``): the import records
        them as one person, as `shequn members merge` would.
        """
        if key != same_as:
            self.aliases[key] = same_as


def content_id(*parts: object) -> str:
    """A short stable id from an event's content, for formats without message ids.

    Use it with an occurrence counter for identical lines (two "ok" in the same minute
    from the same person are two events), so an overlapping later export of the same
    chat yields the same ids for the same messages.
    """
    data = "\x1f".join("" if p is None else str(p) for p in parts).encode()
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def community_key(ctx: ImportContext, platform: str, chat: str) -> str:
    """The community to file a chat under: --community, else the chat's name or id."""
    if ctx.community:
        return ctx.community
    chat = " ".join(chat.split())
    return chat or f"{platform}-chat"


# What an importer yields: Event objects one at a time, or whole Polars frames in
# the schema of shequn.importers.frame (for formats that parse column-wise).
Item = Event | pl.DataFrame


class Importer(Protocol):
    """One export format.

    ``name`` is what ``--format`` takes and the ``source`` stored with each event:
    together with each event's ``source_id`` it makes re-import idempotent, so a
    ``source_id`` must be stable across re-exports of the same chat and unique
    within the format (prefix it with the chat's id where the format has one).
    """

    name: str
    description: str

    def sniff(self, source: Source) -> bool:
        """True if this source looks like this format (read only the head)."""
        ...

    def read(self, source: Source, ctx: ImportContext) -> Iterator[Item]:
        """The events of the source. Raise InputError naming the place on bad input."""
        ...
