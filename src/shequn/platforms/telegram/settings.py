"""How a Telegram bot receives its updates when it uses a webhook."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Webhook:
    """Serve Telegram's POSTs on host:port at path.

    Attributes:
        secret: the secret token (from the environment) Telegram must send back.
        public_url: the https URL Telegram posts to (a reverse proxy in front of
            host:port); when given, `setWebhook` is called with it on start.
    """

    secret: str
    host: str = "127.0.0.1"
    port: int = 8443
    path: str = "/telegram"
    public_url: str = ""
