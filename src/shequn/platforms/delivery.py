"""The dispatcher's `Platform` for a live adapter: an outbox row becomes an adapter call.

The dispatcher runs in a thread; the adapter lives on the asyncio loop of `shequn
run`. `send` hands the call to that loop and waits for its answer, so the
dispatcher's transient/permanent handling applies unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from shequn.config import Settings
from shequn.platforms.base import Adapter, Outgoing, PermanentError, TransientError

TIMEOUT = 60.0


def text_of(payload: dict[str, Any]) -> str:
    """What a member reads: the rendered text, then the link if there is one."""
    parts = [str(payload.get("text") or "").strip()]
    if payload.get("link"):
        parts.append(str(payload["link"]))
    return "\n\n".join(p for p in parts if p)


class AdapterPlatform:
    """Delivers `send_group` and `send_private` rows through `adapter`.

    Args:
        adapter: the live adapter.
        settings: the workspace settings (community -> bound group).
        loop: the event loop the adapter runs on.
    """

    def __init__(self, adapter: Adapter, settings: Settings, loop: asyncio.AbstractEventLoop):
        self.adapter, self.settings, self.loop = adapter, settings, loop
        self.name = adapter.platform

    def delivered(self, key: str) -> bool:
        """Never known here: a resend carries the same key, which the platform
        de-duplicates where it can (Matrix transaction ids)."""
        return False

    def _group(self, community: str) -> str:
        found = self.settings.community(community)
        if found is None or found.platform != self.name or not found.group:
            raise PermanentError(
                f"community {community!r} is not bound to a {self.name} group; run "
                f"`shequn communities bind {community} {self.name} GROUP_ID`"
            )
        return found.group

    def _run(self, call: Coroutine[Any, Any, Any]) -> Any:
        future = asyncio.run_coroutine_threadsafe(call, self.loop)
        try:
            return future.result(TIMEOUT)
        except TimeoutError:
            future.cancel()
            raise TransientError(f"{self.name}: no answer within {TIMEOUT:g} s") from None

    def send(self, message: Outgoing) -> None:
        group = self._group(message.community)
        text = text_of(message.payload)
        if message.action == "send_group":
            self._run(self.adapter.send(group, text, key=message.key))
        elif message.action == "send_private":
            platform, _, user = message.target.partition(":")
            if platform != self.name or not user:
                raise PermanentError(f"{message.target!r} is not a {self.name} member")
            self._run(self.adapter.send(group, text, key=message.key, private_to=user))
        else:
            raise PermanentError(f"{self.name} does not carry out {message.action!r}")
