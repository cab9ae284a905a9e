"""The member directory behind the Members page: one row per (community, member key).

Built from the analytics copy (first touch, first join and its channel, active days,
orders) once per version of the log, then filtered in memory (Polars), so a filtered
page of 50 does not scan the log. Tags come from the store (SOP state events). Tier,
lifecycle state and churn risk are each person's profile (`members.profiles`, as
`shequn members list` shows them), joined on the person behind the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from shequn.analytics.period import day_number, local_midnight_us
from shequn.workspace import Workspace

PAGE_SIZE = 50
ACTIVE_DAYS = 30  # "active" = spoke or reacted in the last 30 days of the log

# `{before}` and `{day}`: the instant (UTC microseconds) and the local day number the
# directory is as of, integers (everything until now: the largest values).
_DIRECTORY = """
WITH joins AS (
    SELECT community, member, MIN(ts) AS joined_ts, arg_min(channel, ts) AS channel
    FROM events WHERE type = 'join' AND member IS NOT NULL AND ts < {before}
    GROUP BY community, member
),
days AS (
    SELECT community, member, MAX(day) AS last_day, COUNT(*) AS active_days
    FROM member_days WHERE day < {day} GROUP BY community, member
),
bought AS (
    SELECT community, member, COUNT(*) AS orders, SUM(net) AS spent
    FROM order_totals WHERE net > 0 AND member IS NOT NULL AND first_ts < {before}
    GROUP BY community, member
)
SELECT f.community, f.member AS key, f.ts AS first_ts, j.joined_ts, j.channel,
       d.last_day, COALESCE(d.active_days, 0) AS active_days,
       COALESCE(b.orders, 0) AS orders, CAST(COALESCE(b.spent, 0) AS DOUBLE) AS spent
FROM first_touch AS f
LEFT JOIN joins AS j USING (community, member)
LEFT JOIN days AS d USING (community, member)
LEFT JOIN bought AS b USING (community, member)
WHERE f.ts < {before}
"""
# The directory's bounds when it is as of now: every event.
_ALL = {"before": 2**63 - 1, "day": 2**31 - 1}

COLUMNS = (
    "community",
    "key",
    "name",
    "channel",
    "joined",
    "last_active",
    "active_days",
    "orders",
    "spent",
    "tier",
    "state",
    "churn_risk",
)
DECIDED = ("tier", "state", "churn_risk")


@dataclass(frozen=True)
class Filters:
    """The Members page's filters, as they appear in the URL."""

    community: str = ""
    q: str = ""  # part of the key or the name
    tag: str = ""
    channel: str = ""
    joined_from: str = ""
    joined_to: str = ""
    activity: str = ""  # "" | active | silent
    bought: str = ""  # "" | yes | no
    tier: str = ""
    state: str = ""  # a lifecycle state (members.states.STATES)
    risk: str = ""  # the lowest churn risk shown, 0 to 1
    at: str = ""  # a local day: everything as of its start ("": now)
    page: int = 1

    @property
    def day(self) -> date | None:
        """The day of `at` (checked by the route), None for now."""
        return date.fromisoformat(self.at) if self.at else None

    def query(self, **changes: Any) -> str:
        """The URL query of these filters with some changed (for links)."""
        from urllib.parse import urlencode

        values = {**self.__dict__, **changes}
        return urlencode(
            {k: v for k, v in values.items() if v not in ("", None, 1) or (k == "page" and v != 1)}
        )


def directory(ws: Workspace, day: date | None = None) -> pl.DataFrame:
    """Every (community, member key) with its first join, channel, activity and orders:
    as of the start of the local `day`, when given (its keys first seen before then)."""
    from shequn.analytics.sync import open_copy
    from shequn.store.engine import read_transaction
    from shequn.store.schema import members

    bounds = _ALL
    if day is not None:
        bounds = {"before": local_midnight_us(day, ws.settings.zone), "day": day_number(day)}
    with open_copy(ws) as (con, _result):
        frame = pl.from_arrow(con.sql(_DIRECTORY.format(**bounds)).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    with read_transaction(ws.engine) as conn:
        names = conn.execute(
            members.select().with_only_columns(members.c.key, members.c.name, members.c.person)
        )
        named = pl.DataFrame(
            list(names),
            schema={"key": pl.String, "name": pl.String, "person": pl.String},
            orient="row",
        )
    return frame.join(named, on="key", how="left")


def decided(ws: Workspace, when: datetime) -> pl.DataFrame:
    """Each person's tier, lifecycle state and churn risk as of `when` (person + DECIDED)."""
    from shequn.members.profiles import profiles

    return profiles(ws, when).select(pl.col("member").alias("person"), *DECIDED)


def with_decided(frame: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    """The directory with each row's person's tier, state and churn risk, newest join
    first (the order of the page: filtering keeps it, so no request sorts)."""
    keyed = frame.with_columns(pl.col("person").fill_null(pl.col("key")))
    joined = keyed.join(people, on="person", how="left")
    return joined.sort(["joined_ts", "key"], descending=[True, False], nulls_last=True)


def select_members(
    frame: pl.DataFrame, filters: Filters, tagged: set[str] | None, today: date, zone: Any
) -> pl.DataFrame:
    """The rows matching the filters, in the frame's order (`with_decided`'s)."""
    cut = day_number(today) - ACTIVE_DAYS
    conditions = []
    if filters.community:
        conditions.append(pl.col("community") == filters.community)
    if filters.q:
        needle = filters.q.lower()
        conditions.append(
            pl.col("key").str.to_lowercase().str.contains(needle, literal=True)
            | pl.col("name").fill_null("").str.to_lowercase().str.contains(needle, literal=True)
        )
    if filters.channel:
        conditions.append(pl.col("channel") == filters.channel)
    if filters.joined_from:
        start = local_midnight_us(date.fromisoformat(filters.joined_from), zone)
        conditions.append(pl.col("joined_ts") >= start)
    if filters.joined_to:
        end = local_midnight_us(date.fromisoformat(filters.joined_to), zone)
        conditions.append(pl.col("joined_ts") < end)
    if filters.activity == "active":
        conditions.append(pl.col("last_day") > cut)
    elif filters.activity == "silent":
        conditions.append(pl.col("last_day").is_null() | (pl.col("last_day") <= cut))
    if filters.bought == "yes":
        conditions.append(pl.col("orders") > 0)
    elif filters.bought == "no":
        conditions.append(pl.col("orders") == 0)
    if tagged is not None:
        conditions.append(pl.col("key").is_in(list(tagged)))
    if filters.tier:
        conditions.append(pl.col("tier") == filters.tier)
    if filters.state:
        conditions.append(pl.col("state") == filters.state)
    if filters.risk:
        conditions.append(pl.col("churn_risk") >= float(filters.risk))
    return frame.filter(*conditions) if conditions else frame


def shown(rows: pl.DataFrame, zone: Any) -> list[dict[str, Any]]:
    """Rows as the page and the downloads show them: local dates, no internals."""
    out = []
    for r in rows.iter_rows(named=True):
        out.append(
            {
                "community": r["community"],
                "key": r["key"],
                "name": r["name"] or "",
                "channel": r["channel"] or "",
                "joined": _local_day(r["joined_ts"], zone),
                "last_active": (date(1970, 1, 1) + timedelta(days=r["last_day"])).isoformat()
                if r["last_day"] is not None
                else "",
                "active_days": r["active_days"],
                "orders": r["orders"],
                "spent": r["spent"],
                **{name: r.get(name) for name in DECIDED},
            }
        )
    return out


def _local_day(us: int | None, zone: Any) -> str:
    if us is None:
        return ""
    return datetime.fromtimestamp(us / 1_000_000, zone).date().isoformat()


def holding_tag(ws: Workspace, tag: str) -> set[str]:
    """Member keys whose tags (replayed from the SOP state events) include `tag`."""
    from shequn.sop.state import tag_holders
    from shequn.store.engine import read_transaction

    with read_transaction(ws.engine) as conn:
        return tag_holders(conn, tag)
