"""The Matrix connection: log in once with a stable device, keep the session in the
workspace's data folder, and turn the homeserver's errors into shequn's.

The device id must stay the same across restarts: Synapse de-duplicates a resent
transaction id per device (for about a day), which is what makes a send after a
crash exactly once. So the first login picks the device id, and every later login
(after a revoked or expired token) asks for the same one.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from shequn.config import PlatformConfig
from shequn.platforms.base import PermanentError, TransientError, Unauthorized

try:
    import aiohttp
    from nio import (  # type: ignore[import-untyped]
        AsyncClient,
        AsyncClientConfig,
        ErrorResponse,
        LoginResponse,
        WhoamiResponse,
    )
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError("the Matrix adapter needs matrix-nio: pip install 'shequn[matrix]'") from exc

SESSION_FILE = "matrix-session.json"
_TRANSIENT_CODES = frozenset({"M_LIMIT_EXCEEDED", "M_UNKNOWN", None})
_AUTH_CODES = frozenset({"M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_USER_DEACTIVATED"})
NETWORK_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError)


@dataclass(frozen=True)
class Session:
    """What a login gives: kept in data/matrix-session.json (mode 0600)."""

    homeserver: str
    user_id: str
    device_id: str
    access_token: str


def session_path(data: Path) -> Path:
    return data / SESSION_FILE


def load_session(data: Path) -> Session | None:
    path = session_path(data)
    if not path.exists():
        return None
    return Session(**json.loads(path.read_text(encoding="utf-8")))


def save_session(data: Path, session: Session) -> None:
    data.mkdir(parents=True, exist_ok=True)
    path = session_path(data)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(asdict(session), handle)
    tmp.replace(path)


def check(answer: Any, doing: str) -> Any:
    """`answer` unless it is an error: then TransientError (rate limit, server trouble),
    Unauthorized (token revoked) or PermanentError (forbidden, not found, bad request)."""
    if not isinstance(answer, ErrorResponse):
        return answer
    code, why = answer.status_code, f"{doing}: {answer.status_code} {answer.message}"
    if code in _AUTH_CODES:
        raise Unauthorized(
            f"{why}; the bot's access token was refused: log in again "
            "(`shequn platforms test` after setting the password variable)"
        )
    if code in _TRANSIENT_CODES:
        retry = answer.retry_after_ms / 1000 if answer.retry_after_ms else None
        raise TransientError(why, retry_after=retry)
    raise PermanentError(why)


def new_client(config: PlatformConfig, session: Session | None = None) -> AsyncClient:
    """An AsyncClient that reports rate limits and timeouts instead of retrying them
    forever (the dispatcher and the listener decide when to try again)."""
    client = AsyncClient(
        config.url.rstrip("/"),
        config.user,
        device_id=session.device_id if session else None,
        config=AsyncClientConfig(max_limit_exceeded=0, max_timeouts=0, request_timeout=60),
    )
    if session is not None:
        client.restore_login(session.user_id, session.device_id, session.access_token)
    return client


def _secret(config: PlatformConfig, environ: Mapping[str, str]) -> tuple[str, str]:
    """("token" | "password", value) from the variable shequn.toml names."""
    for kind, name in (("token", config.token_env), ("password", config.password_env)):
        if name and environ.get(name):
            return kind, environ[name]
    names = " or ".join(n for n in (config.token_env, config.password_env) if n)
    raise Unauthorized(
        f"no Matrix credentials: {names or 'no variable'} is not set; export the bot's access "
        "token or password in the variable named by `shequn platforms add matrix --token-env`"
    )


async def connect(
    config: PlatformConfig, data: Path, environ: Mapping[str, str] | None = None
) -> AsyncClient:
    """A logged-in client: the stored session if it still works, else a new login with
    the same device id (saved for next time). A client it does not return is closed,
    whatever stopped it (its HTTP session would be left open otherwise).

    Raises:
        Unauthorized: no usable credentials.
        TransientError: the homeserver cannot be reached.
    """
    environ = os.environ if environ is None else environ
    stored = load_session(data)
    if stored is not None and stored.homeserver == config.url and stored.user_id == config.user:
        try:
            async with _closed_on_error(new_client(config, stored)) as client:
                check(await _call(client.whoami(), "whoami"), "whoami")
            return client
        except Unauthorized:
            pass  # the stored token no longer works: log in again
    else:
        stored = None
    kind, secret = _secret(config, environ)
    async with _closed_on_error(new_client(config, stored)) as client:
        if kind == "token":
            client.restore_login(config.user, stored.device_id if stored else "", secret)
            who = check(await _call(client.whoami(), "whoami"), "whoami")
            if not isinstance(who, WhoamiResponse) or who.user_id != config.user:
                raise Unauthorized(f"the token in ${config.token_env} belongs to {who.user_id}")
            session = Session(config.url, who.user_id, who.device_id or "", secret)
        else:
            device = stored.device_id if stored else f"SHEQUN{secrets.token_hex(4).upper()}"
            client.device_id = device
            answer = await _call(client.login(secret, device_name=config.device_name), "login")
            if isinstance(answer, ErrorResponse) and answer.status_code == "M_FORBIDDEN":
                raise Unauthorized(f"login as {config.user} refused: {answer.message}")
            login = check(answer, "login")
            assert isinstance(login, LoginResponse)
            session = Session(config.url, login.user_id, login.device_id, login.access_token)
        save_session(data, session)
        client.restore_login(session.user_id, session.device_id, session.access_token)
    return client


@asynccontextmanager
async def _closed_on_error(client: AsyncClient) -> AsyncIterator[AsyncClient]:
    """`client` for the block, closed if the block raises."""
    try:
        yield client
    except BaseException:
        await client.close()
        raise


async def _call(awaitable: Any, doing: str) -> Any:
    """Await a client call, turning network failures into TransientError."""
    try:
        return await awaitable
    except NETWORK_ERRORS as exc:
        raise TransientError(f"{doing}: {type(exc).__name__}: {exc}") from None


async def call(awaitable: Any, doing: str) -> Any:
    """Await a client call: its answer, or the shequn error for a network failure or
    an error answer."""
    return check(await _call(awaitable, doing), doing)


def path(*parts: str, **query: Any) -> str:
    """A client-server API path, each part percent-encoded (room ids hold '!' and ':')."""
    built = "/_matrix/client/v3/" + "/".join(quote(part, safe="") for part in parts)
    given = {k: v for k, v in query.items() if v is not None}
    return built + ("?" + urlencode(given) if given else "")


async def request(
    client: AsyncClient,
    method: str,
    where: str,
    body: Mapping[str, Any] | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """One authenticated request; its JSON answer, or the shequn error for it."""
    headers = {"Authorization": f"Bearer {client.access_token}"}
    data = json.dumps(body) if body is not None else None
    if data is not None:
        headers["Content-Type"] = "application/json"
    doing = f"{method} {where.split('?')[0]}"
    try:
        answer = await client.send(method, where, data, headers, timeout=timeout)
        status = answer.status
        try:
            found = await answer.json(content_type=None)
        except ValueError:
            found = None
    except NETWORK_ERRORS as exc:
        raise TransientError(f"{doing}: {type(exc).__name__}: {exc}") from None
    if status == 200 and isinstance(found, dict):
        return found
    if status >= 500 or not isinstance(found, dict):
        raise TransientError(f"{doing}: HTTP {status}")
    check(ErrorResponse.from_dict(found), doing)
    raise PermanentError(f"{doing}: HTTP {status} {found}")
