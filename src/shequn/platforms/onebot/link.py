"""One WebSocket to a OneBot v11 implementation: events in, actions out, by `echo`.

Forward (shequn connects to the implementation's WebSocket server, sending
``Authorization: Bearer <access_token>``) or reverse (the implementation connects to
shequn's server; a connection without the right token, as ``Authorization: Bearer``
or ``Token`` or an ``access_token`` query parameter, is refused with 401). Either way
one "Universal" connection carries both: JSON objects with ``post_type`` are events,
those with our ``echo`` are the answers to our actions (communication/ws.md).
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import json
import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from shequn.platforms.base import PermanentError, TransientError, Unauthorized
from shequn.platforms.intents import MaybeSent

try:
    from websockets.asyncio.client import ClientConnection, connect
    from websockets.asyncio.server import Server, ServerConnection, serve
    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.http11 import Request, Response
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
    raise ModuleNotFoundError(
        "the QQ (OneBot v11) adapter needs websockets: pip install 'shequn[qq]'"
    ) from exc

log = logging.getLogger(__name__)

CLOSED = object()  # put on the event queue when the connection ends
# retcodes (api/README.md, communication/ws.md): 1 is "accepted, runs asynchronously".
_OK = frozenset({0, 1})
_REFUSED_CREDENTIALS = frozenset({104, 1401, 1403})
_TRY_LATER = frozenset({201})


class ActionFailed(PermanentError):
    """The implementation answered `status: failed` (or a retcode that is not 0/1)."""

    def __init__(self, action: str, answer: Mapping[str, Any]) -> None:
        why = answer.get("wording") or answer.get("message") or answer.get("msg") or ""
        super().__init__(f"qq {action}: failed, retcode {answer.get('retcode')} {why}".strip())
        self.retcode = answer.get("retcode")


def _token_of(request: Request) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() in ("bearer", "token"):
        return value.strip()
    return parse_qs(urlsplit(request.path).query).get("access_token", [""])[0]


class Link:
    """The connection, its pending actions and the events it brought.

    Args:
        access_token: the shared secret ('' if the implementation has none).
        url: forward mode: the implementation's WebSocket URL (ws://host:port/).
        listen: reverse mode: (host, port) shequn serves on.
        call_timeout: seconds an action waits for its answer.
    """

    def __init__(
        self,
        *,
        access_token: str,
        url: str = "",
        listen: tuple[str, int] | None = None,
        call_timeout: float = 10.0,
    ) -> None:
        if bool(url) == (listen is not None):
            raise ValueError("a OneBot link is forward (url) or reverse (listen), not both")
        self.access_token, self.url, self.listen_on = access_token, url, listen
        self.call_timeout = call_timeout
        self.events: asyncio.Queue[Any] = asyncio.Queue()
        self.pending: dict[str, asyncio.Future[Mapping[str, Any]]] = {}
        self.connection: ClientConnection | ServerConnection | None = None
        self.connected = asyncio.Event()
        self.server: Server | None = None
        self.port = 0  # the port served (reverse mode)
        self._reader: asyncio.Task[None] | None = None
        self._echo = itertools.count(1)

    async def open(self) -> None:
        """Connect (forward) or start serving (reverse); idempotent."""
        if self.listen_on is not None:
            if self.server is None:
                host, port = self.listen_on
                self.server = await serve(
                    self._accept, host, port, process_request=self._check_token
                )
                self.port = self.server.sockets[0].getsockname()[1] if self.server.sockets else 0
            return
        if self.connection is not None and self.connected.is_set():
            return
        headers = {"Authorization": f"Bearer {self.access_token}"} if self.access_token else {}
        try:
            connection = await connect(self.url, additional_headers=headers, max_size=None)
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                raise Unauthorized(
                    f"qq: the OneBot implementation at {self.url} refused the access token "
                    f"(HTTP {status}); set the variable to the implementation's access_token"
                ) from None
            raise TransientError(f"qq: {self.url} answered HTTP {status}") from None
        except OSError as exc:
            raise TransientError(f"qq: cannot connect to {self.url}: {exc}") from None
        self._attach(connection)
        self._reader = asyncio.create_task(self._read(connection))

    def _check_token(self, connection: ServerConnection, request: Request) -> Response | None:
        given = _token_of(request)
        if self.access_token and not hmac.compare_digest(
            given.encode(), self.access_token.encode()
        ):
            log.warning("qq: refused a OneBot connection with a wrong access token")
            return connection.respond(HTTPStatus.UNAUTHORIZED, "wrong access token\n")
        return None

    async def _accept(self, connection: ServerConnection) -> None:
        old = self.connection
        self._attach(connection)
        if old is not None:
            await old.close()
        who = connection.request.headers.get("X-Self-ID") if connection.request else None
        log.info("qq: OneBot implementation %s connected", who)
        await self._read(connection)

    def _attach(self, connection: ClientConnection | ServerConnection) -> None:
        self.connection = connection
        self.connected.set()

    async def _read(self, connection: ClientConnection | ServerConnection) -> None:
        try:
            async for raw in connection:
                self._receive(raw)
        except ConnectionClosed:
            pass
        finally:
            if self.connection is connection:
                self.connection = None
                self.connected.clear()
                for future in self.pending.values():
                    if not future.done():
                        future.set_exception(
                            MaybeSent("qq: the connection closed before an answer")
                        )
                self.pending.clear()
                self.events.put_nowait(CLOSED)

    def _receive(self, raw: str | bytes) -> None:
        try:
            data = json.loads(raw)
        except ValueError as exc:
            log.warning("qq: skipped a frame that is not JSON: %s", exc)
            return
        echo = data.get("echo") if isinstance(data, dict) and "post_type" not in data else None
        if echo is not None:
            future = self.pending.pop(str(echo), None)
            if future is not None and not future.done():
                future.set_result(data)
            return
        self.events.put_nowait(data)

    async def call(self, action: str, **params: Any) -> Any:
        """The `data` of one action.

        Raises:
            TransientError: not connected, or the implementation is busy (retcode 201).
            MaybeSent: no answer in time, or the connection closed before one.
            Unauthorized: the implementation's QQ login is gone (retcode 104).
            ActionFailed: any other failure (no permission, unknown group ...).
        """
        await self.open()
        try:
            await asyncio.wait_for(self.connected.wait(), self.call_timeout)
        except TimeoutError:
            raise TransientError("qq: no OneBot implementation is connected") from None
        assert self.connection is not None
        echo = f"shequn-{next(self._echo)}"
        future: asyncio.Future[Mapping[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[echo] = future
        try:
            await self.connection.send(
                json.dumps({"action": action, "params": params, "echo": echo})
            )
            answer = await asyncio.wait_for(future, self.call_timeout)
        except TimeoutError:
            raise MaybeSent(f"qq {action}: no answer within {self.call_timeout:g} s") from None
        except ConnectionClosed:
            raise TransientError(f"qq {action}: the connection closed") from None
        finally:
            self.pending.pop(echo, None)
        return _data(action, answer)

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()
        if self._reader is not None:
            await self._reader
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


def _data(action: str, answer: Mapping[str, Any]) -> Any:
    retcode = answer.get("retcode")
    if answer.get("status") in ("ok", "async") and retcode in _OK:
        return answer.get("data")
    failed = ActionFailed(action, answer)
    if retcode in _REFUSED_CREDENTIALS:
        raise Unauthorized(f"{failed}: log the implementation in to QQ again") from None
    if retcode in _TRY_LATER:
        raise TransientError(str(failed))
    raise failed
