"""Telegram's webhook: updates POSTed to shequn, each answered after it is stored.

Telegram sends `X-Telegram-Bot-Api-Secret-Token` with the secret given to
`setWebhook`; a request without it (or with another) is refused with 401 and nothing
of it is stored. An update is answered 200 only once the listener's consumer has
taken the next batch — that is, once the live ingest committed this one — so an
update lost in a crash is sent again by Telegram (and stored once, by its id).
A body that is not an update is logged and answered 200: Telegram would otherwise
resend it forever.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from shequn.platforms.base import Batch
from shequn.platforms.telegram.settings import Webhook
from shequn.platforms.telegram.translate import batch_of, next_offset

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# How long an update waits for the ingest before Telegram is told to resend it.
STORE_TIMEOUT = 30.0


class WebhookQueue:
    """Batches from the webhook with the future that acknowledges each."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[Batch, asyncio.Future[None]]] = asyncio.Queue()
        self.port = 0


def webhook_app(secret: str, inbox: WebhookQueue, path: str = "/telegram") -> Starlette:
    """The ASGI app that receives Telegram's POSTs at `path`."""
    expected = secret.encode()

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            log.warning("telegram webhook: refused a request with a wrong secret token")
            return PlainTextResponse("wrong secret token", status_code=401)
        try:
            update = json.loads(await request.body())
        except ValueError as exc:
            log.warning("telegram webhook: skipped a body that is not JSON: %s", exc)
            return PlainTextResponse("ok")
        position = next_offset([update], None)
        if position is None:
            log.warning("telegram webhook: skipped a body without an update_id")
            return PlainTextResponse("ok")
        stored: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await inbox.queue.put((batch_of([update], position), stored))
        try:
            await asyncio.wait_for(stored, STORE_TIMEOUT)
        except TimeoutError:
            return PlainTextResponse("not stored yet", status_code=503)
        return PlainTextResponse("ok")

    return Starlette(routes=[Route(path, receive, methods=["POST"])])


@asynccontextmanager
async def serve(webhook: Webhook) -> AsyncIterator[WebhookQueue]:
    """Serve the webhook with uvicorn while the block runs; the queue it fills."""
    import uvicorn

    inbox = WebhookQueue()
    app = webhook_app(webhook.secret, inbox, webhook.path)
    config = uvicorn.Config(
        app, host=webhook.host, port=webhook.port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # raises what stopped it (port taken, ...)
                raise OSError(f"telegram webhook: could not listen on {webhook.port}")
            await asyncio.sleep(0.01)
        inbox.port = server.servers[0].sockets[0].getsockname()[1]
        yield inbox
    finally:
        server.should_exit = True
        await task
