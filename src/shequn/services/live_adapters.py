"""Building the Telegram and QQ adapters from `[platforms.NAME]` (the registry's
`telegram` and `qq` entries).

The registry builds an adapter from its settings and the workspace's data folder
(`build(config, data)`); these adapters also need the send journal (in the
workspace's database), the groups bound to them (Telegram bots cannot list their
chats) and their secrets, read from the environment variables the settings name.
Each platform's library is imported only when its adapter is built.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shequn.config import PlatformConfig
from shequn.errors import WorkspaceError
from shequn.platforms.base import Adapter
from shequn.services.send_intents import SqlJournal
from shequn.workspace import Workspace


@dataclass(frozen=True)
class AdapterEnvironment:
    journal: SqlJournal
    groups: tuple[str, ...]
    environ: Mapping[str, str]

    def secret(self, platform: str, option: str, name: str, *, required: bool = True) -> str:
        """The value of the variable `name` that `[platforms.PLATFORM] option` names."""
        if not name:
            if required:
                raise WorkspaceError(
                    f"shequn.toml: [platforms.{platform}] has no {option}",
                    hint=f'add {option} = "VARIABLE" and export that variable',
                )
            return ""
        value = self.environ.get(name, "")
        if not value and required:
            raise WorkspaceError(
                f"the environment variable {name} ([platforms.{platform}] {option}) is not set",
                hint=f"export {name}=... before starting shequn",
            )
        return value


def environment(
    platform: str, data: Path, environ: Mapping[str, str] | None = None
) -> AdapterEnvironment:
    """The journal, bound groups and environment for the adapter of `platform`;
    `data` is the workspace's data folder."""
    ws = Workspace.open(data.parent)
    groups = tuple(c.group for c in ws.settings.communities if c.platform == platform and c.group)
    return AdapterEnvironment(
        journal=SqlJournal(ws.engine),
        groups=groups,
        environ=os.environ if environ is None else environ,
    )


def host_port(platform: str, listen: str, default_port: int) -> tuple[str, int]:
    """`listen` ("host:port", ":port" or "") as (host, port)."""
    host, _, port = listen.rpartition(":") if ":" in listen else ("", "", listen)
    try:
        return host or "127.0.0.1", int(port) if port else default_port
    except ValueError:
        raise WorkspaceError(
            f"shequn.toml: [platforms.{platform}] listen = {listen!r} is not host:port",
            hint='write listen = "127.0.0.1:8443"',
        ) from None


WEBHOOK_PORT = 8443
REVERSE_PORT = 8080


def telegram(
    config: PlatformConfig, data: Path, environ: Mapping[str, str] | None = None
) -> Adapter:
    """The Telegram adapter: long polling, or a webhook when ``mode = "webhook"``."""
    from shequn.platforms.telegram.adapter import TelegramAdapter
    from shequn.platforms.telegram.api import DEFAULT_BASE_URL
    from shequn.platforms.telegram.settings import Webhook

    env = environment("telegram", data, environ)
    token = env.secret("telegram", "token_env", config.token_env)
    webhook = None
    if config.mode == "webhook":
        host, port = host_port("telegram", config.listen, WEBHOOK_PORT)
        webhook = Webhook(
            secret=env.secret("telegram", "secret_env", config.secret_env),
            host=host,
            port=port,
            public_url=config.public_url,
        )
    return TelegramAdapter(
        token,
        groups=env.groups,
        journal=env.journal,
        base_url=config.url or DEFAULT_BASE_URL,
        token_env=config.token_env,
        webhook=webhook,
    )


def qq(config: PlatformConfig, data: Path, environ: Mapping[str, str] | None = None) -> Adapter:
    """The QQ adapter over OneBot v11: forward WebSocket to `url`, or reverse
    (``mode = "reverse"``) served on `listen`; the access token from `token_env`."""
    from shequn.platforms.onebot.adapter import OneBotAdapter
    from shequn.platforms.onebot.link import Link

    env = environment("qq", data, environ)
    token = env.secret("qq", "token_env", config.token_env)
    if config.mode == "reverse":
        link = Link(access_token=token, listen=host_port("qq", config.listen, REVERSE_PORT))
    elif config.url:
        link = Link(access_token=token, url=config.url)
    else:
        raise WorkspaceError(
            "shequn.toml: [platforms.qq] has no url (the OneBot WebSocket to connect to)",
            hint='add url = "ws://127.0.0.1:3001/", or mode = "reverse" with listen = "HOST:PORT"',
        )
    return OneBotAdapter(link, journal=env.journal)
