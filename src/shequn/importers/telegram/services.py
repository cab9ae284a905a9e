"""Telegram service actions that change membership, as join and leave events.

Service messages name members by display name only (telegram.frame's docstring says
how a name becomes a member key). Every action not in ACTIONS (title, photo, pins,
topics, migration, calls...) is noise for shequn and is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import msgspec
import polars as pl

from shequn.importers.base import content_id
from shequn.importers.telegram.model import Message

META = msgspec.json.Encoder(order="sorted")


class Rows:
    """Columns of the rarer events (service actions and reactions), filled row by row."""

    SCHEMA: ClassVar[dict[str, pl.DataType]] = {
        "_j": pl.Int64(),
        **{
            name: pl.String()
            for name in (
                "_unix",
                "_local",
                "type",
                "member",
                "member_name",
                "channel",
                "inviter",
                "inviter_name",
                "reply_to",
                "source_id",
                "meta",
            )
        },
    }

    def __init__(self) -> None:
        self.columns: dict[str, list] = {name: [] for name in self.SCHEMA}

    def add(
        self, message: Message, index: int, when: str | None = None, **values: str | None
    ) -> None:
        """One event of message number `index`, at its time or at the local time `when`."""
        unix = None if when else message.date_unixtime
        values["_unix"] = None if unix is None else str(unix)
        values["_local"] = when or (message.date if unix is None else None)
        values["_j"] = index
        for name, column in self.columns.items():
            column.append(values.get(name))

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.columns, schema=self.SCHEMA)


def member_key(from_id: str | int | None, name: str | None) -> str | None:
    """``telegram:<from_id>``; ``telegram:name:<display>`` when the export gives no id."""
    if from_id is not None:
        return f"telegram:{from_id}" if from_id.__class__ is str else f"telegram:user{from_id}"
    return f"telegram:name:{name}" if name else None


def service_id(message: Message, prefix: str) -> str:
    """``<chat>:<message id>``, the id of a service message's own event."""
    if message.id is not None:
        return f"{prefix}:{message.id}"
    # Hand-made files without ids: the content, which an overlapping file repeats.
    who = message.actor_id or message.actor
    members = "\x1e".join(name or "" for name in message.members or ())
    when = message.date_unixtime or message.date
    return f"{prefix}:{content_id(when, who, message.action, members)}"


class Names:
    """Display name to member key, from the users seen with an id in this chat."""

    def __init__(
        self,
        names: list[str | None],
        fids: list[str | None],
        services: list[tuple[int, Message]],
        known: tuple[tuple[str, str], ...],
    ) -> None:
        pairs = set(zip(names, fids, strict=True))
        pairs.update((m.actor, member_key(m.actor_id, None)) for _, m in services)
        pairs.update(known)
        ids: dict[str, set[str]] = {}
        for name, fid in pairs:
            if name and fid:
                fid = fid.removeprefix("telegram:")
                if fid.startswith("user"):
                    ids.setdefault(name, set()).add(fid)
        self._ids = {name: found.pop() for name, found in ids.items() if len(found) == 1}

    def key(self, name: str) -> str:
        """``telegram:<from_id>`` when the name is one known user, else by name."""
        fid = self._ids.get(name)
        return f"telegram:{fid}" if fid else f"telegram:name:{name}"


def _create_group(m: Message, index: int, sid: str, names: Names, rows: Rows) -> None:
    actor = member_key(m.actor_id, m.actor)
    if actor:
        rows.add(m, index, type="join", member=actor, member_name=m.actor, source_id=sid)
    _invite(m, index, sid, names, rows)


def _invite(m: Message, index: int, sid: str, names: Names, rows: Rows) -> None:
    actor = member_key(m.actor_id, m.actor)
    for i, name in enumerate(m.members or ()):
        if not name:
            continue
        key = names.key(name)
        self_join = key == actor or name == m.actor
        if self_join and m.action == "create_group":
            continue  # the creator's own join is already recorded
        rows.add(
            m,
            index,
            type="join",
            member=actor if self_join else key,
            member_name=name,
            inviter=None if self_join else actor,
            inviter_name=None if self_join else m.actor,
            source_id=f"{sid}:{i}",
        )


def _remove(m: Message, index: int, sid: str, names: Names, rows: Rows) -> None:
    actor = member_key(m.actor_id, m.actor)
    for i, name in enumerate(m.members or ()):
        if not name:
            continue
        key = names.key(name)
        left = key == actor or name == m.actor
        rows.add(
            m,
            index,
            type="leave",
            member=actor if left else key,
            member_name=name,
            meta=None if left or not actor else META.encode({"removed_by": actor}).decode(),
            source_id=f"{sid}:{i}",
        )


def _join_by_link(m: Message, index: int, sid: str, names: Names, rows: Rows) -> None:
    actor = member_key(m.actor_id, m.actor)
    if actor:
        inviter = names.key(m.inviter) if m.inviter else None
        rows.add(
            m,
            index,
            type="join",
            member=actor,
            member_name=m.actor,
            channel="invite_link",
            inviter=inviter,
            inviter_name=m.inviter,
            source_id=sid,
        )


def _join_by_request(m: Message, index: int, sid: str, names: Names, rows: Rows) -> None:
    actor = member_key(m.actor_id, m.actor)
    if actor:
        rows.add(m, index, type="join", member=actor, member_name=m.actor, source_id=sid)


# Service actions that change membership; every other action (title, photo, pins,
# topics, migration, calls...) is noise for shequn and is skipped.
ACTIONS: dict[str, Callable[[Message, int, str, Names, Rows], None]] = {
    "create_group": _create_group,
    "invite_members": _invite,
    "remove_members": _remove,
    "join_group_by_link": _join_by_link,
    "join_group_by_request": _join_by_request,
}
