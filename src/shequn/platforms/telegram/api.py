"""Calls to the Bot API through python-telegram-bot, with errors in shequn's terms.

Updates must stay raw JSON (one malformed update is logged and skipped, it must not
fail the whole `getUpdates` answer), so every call goes through
`Bot.do_api_request`, which returns the documented JSON. Method names are written in
lower case: the Bot API treats them case-insensitively (core.telegram.org/bots/api,
"Making requests"), and python-telegram-bot then does not suggest its typed methods.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shequn.platforms.base import PermanentError, TransientError, Unauthorized
from shequn.platforms.intents import MaybeSent

try:
    from telegram import Bot
    from telegram import error as tg
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
    raise ModuleNotFoundError(
        "the Telegram adapter needs python-telegram-bot: pip install 'shequn[telegram]'"
    ) from exc

DEFAULT_BASE_URL = "https://api.telegram.org/bot"


class TokenRejected(Unauthorized):
    """The Bot API refused the token (401/404): revoked, or mistyped."""


def _retry_seconds(exc: tg.RetryAfter) -> float:
    """Seconds to wait: python-telegram-bot 22 gives an int, later versions a timedelta."""
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class BotApi:
    """One bot's Bot API session.

    Args:
        token: the bot token (from the environment variable shequn.toml names).
        base_url: the API root up to ``/bot`` (tests point it at a local server).
        token_env: the variable's name, for error messages.
    """

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        token_env: str = "",
        request_timeout: float = 20.0,
    ) -> None:
        if not token:
            raise PermanentError(
                f"telegram: no bot token; set the environment variable {token_env or 'named'}"
                " in shequn.toml to the token @BotFather gave"
            )
        self.bot = Bot(token, base_url=base_url)
        self.token_env = token_env
        self.request_timeout = request_timeout

    async def call(self, method: str, *, read_timeout: float | None = None, **params: Any) -> Any:
        """The `result` of one Bot API method.

        Raises:
            TransientError: 429 (with `retry_after`), a network error or a 5xx.
            MaybeSent: no answer in time: the request may have taken effect.
            TokenRejected: the token is revoked or wrong.
            PermanentError: any other refusal (no rights, chat gone, bad request).
        """
        kwargs = {k: v for k, v in params.items() if v is not None}
        read_timeout = read_timeout or self.request_timeout
        try:
            return await self.bot.do_api_request(
                method.lower(),
                api_kwargs=kwargs,
                read_timeout=read_timeout,
                write_timeout=read_timeout,
            )
        except tg.RetryAfter as exc:
            wait = _retry_seconds(exc)
            raise TransientError(
                f"telegram {method}: rate limited, retry after {wait:g} s", retry_after=wait
            ) from None
        except tg.TimedOut as exc:
            raise MaybeSent(f"telegram {method}: no answer in time ({exc})") from None
        except tg.InvalidToken as exc:
            raise TokenRejected(
                f"telegram: the Bot API refused the bot token ({exc}); it was revoked or is "
                f"wrong — get the current one from @BotFather (/token) and set "
                f"{self.token_env or 'the token variable'}"
            ) from None
        except tg.ChatMigrated as exc:
            raise PermanentError(
                f"telegram {method}: the group became supergroup {exc.new_chat_id}; bind "
                f"the community to it (shequn communities bind COMMUNITY telegram "
                f"{exc.new_chat_id})"
            ) from None
        except tg.Conflict as exc:
            raise PermanentError(
                f"telegram {method}: {exc} — a webhook is set, or another process polls "
                "with this token; run one listener per bot"
            ) from None
        except (tg.Forbidden, tg.BadRequest) as exc:
            raise PermanentError(f"telegram {method}: {exc}") from None
        except tg.NetworkError as exc:
            raise TransientError(f"telegram {method}: {exc}") from None

    async def close(self) -> None:
        await self.bot.shutdown()
