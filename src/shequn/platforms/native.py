"""Helpers shared by the adapters that translate a platform's JSON (Telegram, OneBot).

`Parsed` is what one native update becomes; `Malformed` is raised by a translation
for a payload that does not have the documented shape (the adapter logs it with its
type and skips it, it never stops the listener). The accessors below raise it with
the JSON path of the field that is wrong, so the log line says where to look.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shequn.domain.events import Event
from shequn.platforms.base import Batch, JoinRequest

log = logging.getLogger(__name__)


class Malformed(ValueError):
    """A native payload without the documented shape."""


@dataclass(frozen=True)
class Parsed:
    """The canonical events and join requests one native update carries."""

    events: tuple[Event, ...] = ()
    requests: tuple[JoinRequest, ...] = ()


NOTHING = Parsed()


def obj(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    """`data[key]`, which must be a JSON object."""
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise Malformed(f"{where}.{key} is missing or not an object")
    return value


def integer(data: Mapping[str, Any], key: str, where: str) -> int:
    """`data[key]`, which must be an integer (a JSON number without fraction)."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Malformed(f"{where}.{key} is missing or not an integer")
    return value


def text(data: Mapping[str, Any], key: str, where: str) -> str:
    """`data[key]` as a string; absent is empty."""
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Malformed(f"{where}.{key} is not a string")
    return value


def unix_time(data: Mapping[str, Any], key: str, where: str) -> datetime:
    """`data[key]`, Unix seconds, as an aware UTC datetime."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Malformed(f"{where}.{key} is missing or not a Unix time")
    return datetime.fromtimestamp(value, UTC)


def batch_of(
    raws: Iterable[Any],
    translate: Callable[[Any], Parsed],
    *,
    platform: str,
    kind: Callable[[Any], str],
    position: str,
) -> Batch:
    """Translate native payloads into one batch; a malformed one is logged with its
    kind (`kind(raw)`, e.g. "message update") and skipped."""
    events: list[Event] = []
    requests: list[JoinRequest] = []
    for raw in raws:
        try:
            parsed = translate(raw)
        except Malformed as exc:
            log.warning("%s: skipped a malformed %s: %s", platform, kind(raw), exc)
            continue
        events.extend(parsed.events)
        requests.extend(parsed.requests)
    return Batch(events=tuple(events), position=position, requests=tuple(requests))
