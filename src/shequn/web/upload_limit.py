"""The upload limit of the Imports page, enforced while the body streams in.

FastAPI parses a multipart body (spooling the file to disk) before a route runs, so
the limit cannot wait for the route: this ASGI middleware refuses an upload to
`/imports` at once when its Content-Length says it is too large, and stops reading a
body without one (or one that lies) as soon as it passes the limit. Either way the
answer is 413 with the limit and how to import a larger file with the CLI.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from shequn.workspace import Workspace

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
MB = 1 << 20
GUARDED = ("/imports",)


class TooLarge(Exception):
    """The body passed the limit while it was read."""


def limit_bytes(ws: Workspace) -> int:
    return ws.settings.console.upload_limit_mb * MB


def refusal(limit_mb: int) -> tuple[str, str]:
    """The message and the fix of a refused upload."""
    return (
        f"the file is larger than the console's upload limit of {limit_mb} MB",
        "import it on the server with the CLI, which has no limit: "
        "`shequn import PATH` (or raise upload_limit_mb under [console] in shequn.toml)",
    )


class UploadLimit:
    """ASGI middleware: at most `limit_bytes(ws)` bytes of body for POST /imports."""

    def __init__(self, app: App, ws: Workspace) -> None:
        self.app = app
        self.ws = ws

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        guarded = scope["type"] == "http" and scope["method"] == "POST"
        if not guarded or scope["path"] not in GUARDED:
            await self.app(scope, receive, send)
            return
        limit = limit_bytes(self.ws)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(send)
            return
        state = {"seen": 0, "over": False, "answered": False}

        async def counted() -> Message:
            message = await receive()
            state["seen"] += len(message.get("body", b""))
            if state["seen"] > limit:
                state["over"] = True
                raise TooLarge
            return message

        async def watched(message: Message) -> None:
            # FastAPI turns an error while parsing the form into its own 400: once over
            # the limit, that answer is replaced by the refusal.
            if not state["over"]:
                state["answered"] = state["answered"] or message["type"] == "http.response.start"
                await send(message)
            elif not state["answered"]:
                state["answered"] = True
                await self._refuse(send)

        try:
            await self.app(scope, counted, watched)
        except TooLarge:
            if not state["answered"]:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        from shequn.web.i18n import translator
        from shequn.web.render import page

        lang = self.ws.settings.language
        message, hint = refusal(self.ws.settings.console.upload_limit_mb)
        response = page(
            None,
            "error.html",
            status=413,
            lang=lang,
            title=translator(lang)("Cannot do that"),
            message=message,
            hint=hint,
            user=None,
        )
        headers = [(k.encode(), v.encode()) for k, v in response.headers.items()]
        headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})
