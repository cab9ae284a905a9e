"""The communities the SOP engine knows: those of shequn.toml and those in the store."""

from __future__ import annotations

from sqlalchemy import Connection, select

from shequn.config import Settings
from shequn.store.schema import communities


def known_communities(conn: Connection, settings: Settings) -> dict[str, int | None]:
    """Every community key (settings and store) with when it began, if known: its
    `created` date in shequn.toml (local midnight) or its first event, the earlier."""
    # Imported here: the analytics package loads DuckDB, which the engine's start avoids.
    from shequn.analytics.period import local_midnight_us

    zone = settings.zone
    found: dict[str, int | None] = {
        c.key: local_midnight_us(c.created, zone) if c.created else None
        for c in settings.communities
    }
    for key, first in conn.execute(select(communities.c.key, communities.c.first_ts)):
        began = [ts for ts in (found.get(key), first) if ts is not None]
        found[key] = min(began) if began else None
    return found
