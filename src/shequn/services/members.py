"""Member keys: listing them, merging one person's keys from different platforms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shequn.clock import Clock, SystemClock
from shequn.errors import InputError
from shequn.services import audit
from shequn.store import members as store
from shequn.store.engine import read_transaction, write_transaction
from shequn.workspace import Workspace


def list_members(ws: Workspace, community: str | None, limit: int) -> list[dict[str, Any]]:
    """Member keys, first seen first: all, or those with events in `community`."""
    with read_transaction(ws.engine) as conn:
        return store.listing(conn, community, limit)


@dataclass(frozen=True)
class MergeResult:
    person: str
    keys: tuple[str, ...]


def merge(ws: Workspace, target: str, others: list[str], clock: Clock | None = None) -> MergeResult:
    """Make `others` (and everyone already merged with them) the same person as `target`."""
    clock = clock or SystemClock()
    keys = [target, *others]
    with write_transaction(ws.engine) as conn:
        found = store.find(conn, keys)
        unknown = [k for k in keys if k not in found]
        if unknown:
            raise InputError(
                f"unknown member {unknown[0]!r}",
                hint="member keys look like telegram:user123 or whatsapp:Alice; "
                "list them with `shequn members list`",
            )
        person = found[target]["person"]
        store.set_person(conn, sorted({found[k]["person"] for k in others}), person)
        audit.record(conn, clock, "members.merge", person=person, keys=keys)
        merged = store.of_person(conn, person)
    return MergeResult(person=person, keys=tuple(m["key"] for m in merged))


def unmerge(ws: Workspace, key: str, clock: Clock | None = None) -> None:
    """Make a member key its own person again."""
    clock = clock or SystemClock()
    with write_transaction(ws.engine) as conn:
        if key not in store.find(conn, [key]):
            raise InputError(f"unknown member {key!r}", hint="list them with `shequn members list`")
        store.reset_person(conn, key)
        audit.record(conn, clock, "members.unmerge", key=key)
