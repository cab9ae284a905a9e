"""Secrets in database URLs: hide them wherever a URL is shown, refuse them in files.

A URL can carry a credential as ``user:password@`` or as a query parameter
(``?password=``, ``?sslpassword=``, a token...). `redact` is the one function that
turns any URL into a form safe to print, log or store, even a URL that does not
parse (then all but its scheme is hidden, so an error never echoes a password);
`credentials` names what a URL carries, so `shequn.toml` can refuse it
(docs/workspace.md, "Secrets").
"""

from __future__ import annotations

from urllib.parse import unquote

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

MASK = "***"
# Query parameters that carry a secret (libpq's password and sslpassword, and the
# usual names of tokens), matched without regard to case.
SECRET_PARAMETERS = frozenset(
    {
        "password",
        "sslpassword",
        "passwd",
        "pwd",
        "pass",
        "secret",
        "token",
        "access_token",
        "api_key",
        "apikey",
    }
)


def parse(url: str) -> URL | None:
    """The parsed URL, or None when it is not a URL at all."""
    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        return None


def redact(url: str | URL) -> str:
    """The URL with its password and every secret parameter replaced by ``***``."""
    parsed = url if isinstance(url, URL) else parse(url)
    if parsed is None:
        scheme, sep, _ = str(url).partition("://")
        return f"{scheme}://{MASK}" if sep else MASK
    query = {k: (MASK if _is_secret(k) else v) for k, v in parsed.query.items()}
    # Unquoted for reading: the form is for people and logs, never to connect with.
    return unquote(parsed.set(query=query).render_as_string(hide_password=True))


def credentials(url: URL) -> list[str]:
    """How the URL carries secrets: "user:password@" and each secret parameter."""
    found = ["user:password@"] if url.password is not None else []
    return found + [f"?{name}=" for name in url.query if _is_secret(name)]


def _is_secret(name: str) -> bool:
    return name.strip().lower() in SECRET_PARAMETERS
