"""The webhook platform: an HTTP POST of a JSON body, with the outbox key as the
`Idempotency-Key` header so a receiver can drop a repeated delivery.

The URL comes from the environment variable the step names (`url_env`) — secrets never
sit in the playbook or the database — or from a plain `url`. 2xx is delivered; 5xx,
408, 429, timeouts and connection errors are transient (retried with backoff); any
other status is permanent (dead, with the status and the start of the answer).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import httpx

from shequn.platforms.base import Outgoing, PermanentError, TransientError

_RETRY_STATUS = frozenset({408, 429})


class WebhookPlatform:
    """Delivers `webhook` actions.

    Args:
        environ: where `url_env` names are looked up (default: os.environ).
        transport: an httpx transport, for tests that need one.
    """

    name = "webhook"

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.environ = os.environ if environ is None else environ
        self._client = httpx.Client(transport=transport, follow_redirects=False)

    def delivered(self, key: str) -> bool:
        """A remote endpoint cannot be asked; its Idempotency-Key check drops repeats."""
        return False

    def _url(self, payload: Mapping[str, object]) -> str:
        name = payload.get("url_env")
        if not name:
            return str(payload["url"])
        url = self.environ.get(str(name), "")
        if not url:
            raise PermanentError(f"environment variable {name} (the webhook's URL) is not set")
        return url

    def send(self, message: Outgoing) -> None:
        url = self._url(message.payload)
        timeout = float(message.payload.get("timeout") or 10.0)
        try:
            answer = self._client.post(
                url,
                json=message.payload.get("body"),
                headers={"Idempotency-Key": message.key},
                timeout=timeout,
            )
        except httpx.TimeoutException:
            raise TransientError(f"no answer within {timeout:g} s") from None
        except httpx.TransportError as exc:
            raise TransientError(f"connection failed: {type(exc).__name__}: {exc}") from None
        status = answer.status_code
        if 200 <= status < 300:
            return
        why = f"HTTP {status} {answer.reason_phrase}: {answer.text[:200].strip()}".rstrip(": ")
        if status >= 500 or status in _RETRY_STATUS:
            raise TransientError(why)
        raise PermanentError(why)

    def close(self) -> None:
        self._client.close()
