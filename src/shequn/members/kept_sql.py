"""The SQL of kept figures (shequn.members.stored): what new events add, merged in.

Figures of a person are of two kinds:

- **sums over their events before `now`** (first and last activity, counts, the
  communities, replies, reactions and mentions received and given): events only ever
  enter that set (new ids, or older ids whose time passes under `now`), so the figures
  are the stored ones merged with those of the entering events (`ENTERING`), never a
  re-read of a person's history;
- **figures read from the copy's compact tables** (joins and leaves, messages in the
  window, orders from `order_totals`, active days from `member_days`): recomputed for
  the people in scope (`SCOPE`: whoever entering events touch, and whoever has an
  active day or an order crossing a window's edge), which costs a few rows per person.

A cold computation is the same statements with every event entering and everyone in
scope. Parameters are integers rendered with `str.format` (`{now}`, `{today}`,
`{window}`, `{window_start}`, `{gap}`, the stored mark `{hwm}` and `{then}`), never user
strings; `{table}` is the stored table's name.
"""

from __future__ import annotations

from shequn.analytics.derived import ACTIVE_TYPES
from shequn.analytics.sql import PERSONS

_ACTIVE = ", ".join(f"'{t}'" for t in ACTIVE_TYPES)

# The stored table: one row per person, in the column order of `figures`.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("member", "VARCHAR"),
    ("communities", "VARCHAR"),
    ("first_seen", "BIGINT"),
    ("first_active", "BIGINT"),
    ("last_active", "BIGINT"),
    ("join_channel", "VARCHAR"),
    ("inviter", "VARCHAR"),
    ("messages", "BIGINT"),
    ("replies_given", "BIGINT"),
    ("reactions", "BIGINT"),
    ("checkins", "BIGINT"),
    ("content_clicks", "BIGINT"),
    ("activity_signups", "BIGINT"),
    ("messages_window", "BIGINT"),
    ("has_left", "BOOLEAN"),
    ("replies_received", "BIGINT"),
    ("reactions_received", "BIGINT"),
    ("mentions_received", "BIGINT"),
    ("mentions_given", "BIGINT"),
    ("orders", "BIGINT"),
    ("gmv", "DOUBLE"),
    ("first_order", "BIGINT"),
    ("last_order", "BIGINT"),
    ("orders_window", "BIGINT"),
    ("gmv_window", "DOUBLE"),
    ("days_active", "BIGINT"),
    ("days_active_window", "BIGINT"),
    ("returned_day", "INTEGER"),
    ("days_last_14", "BIGINT"),
    ("days_prev_14", "BIGINT"),
    ("days_last_90", "BIGINT"),
)
_DECLARED = ", ".join(f"{name} {kind}" for name, kind in COLUMNS)
TABLE_DDL = "CREATE OR REPLACE {kind} TABLE {table} (" + _DECLARED + ")"

# Whether an event enters the figures: new since the stored mark, or newly before `now`.
_ENTERS = "(e.id > {hwm} OR e.ts >= {then})"

# The entering events, with the member resolved to a person. Two ranges rather than
# one OR, so each skips most of the log by its zone maps (ids grow batch by batch; each
# batch is sorted by type and time); old ids enter by time only once `now` passed the
# earliest seen at or after the last instant (`{ahead}`: `stored.AHEAD`), else that
# scan of every event's time (0.1 s at 10M events in a fresh process) is skipped.
ENTERING = f"""
CREATE OR REPLACE TEMP TABLE fig_new AS WITH {PERSONS},
entering AS (
    SELECT * FROM events WHERE id > {{hwm}} AND ts < {{now}}
    UNION ALL
    SELECT * FROM events
    WHERE {{ahead}} < {{now}} AND id <= {{hwm}} AND ts >= {{then}} AND ts < {{now}}
)
SELECT e.id, e.ts, e.community, e.type, e.message_id, e.reply_to, e.mentions,
       COALESCE(p.person, e.member) AS person
FROM entering AS e LEFT JOIN persons AS p ON p.key = e.member
WHERE e.member IS NOT NULL
"""

# Messages written by entering events (their ids).
_WRITTEN = """written AS (
    SELECT DISTINCT community, message_id FROM fig_new
    WHERE type = 'message' AND message_id IS NOT NULL
)"""

# The authors (first writers) of message ids: of all messages before `now` when cold,
# else of the ids entering events answered or wrote (`{authors_of}`, `{asked_ids}`);
# with how many writers of each id were there before the mark (`earlier_writers`).
AUTHORS = f"""
CREATE OR REPLACE TEMP TABLE fig_authors AS WITH {PERSONS}, {_WRITTEN},
asked AS (
    SELECT DISTINCT community, reply_to AS message_id FROM fig_new
    WHERE type IN ('message', 'reaction') AND reply_to IS NOT NULL
    UNION SELECT community, message_id FROM written
),
msgs AS (
    SELECT e.id, e.community, e.message_id, COALESCE(p.person, e.member) AS person,
           NOT {_ENTERS} AS before_mark
    FROM events AS e LEFT JOIN persons AS p ON p.key = e.member
    WHERE e.type = 'message' AND e.message_id IS NOT NULL AND e.ts < {{now}}
      AND e.member IS NOT NULL {{asked_ids}}
)
SELECT m.community, m.message_id, ARG_MIN(m.person, m.id) AS author,
       COUNT(*) FILTER (WHERE m.before_mark) AS earlier_writers
FROM msgs AS m {{authors_of}}
GROUP BY m.community, m.message_id
"""

# Ids written before the mark that an entering message writes again: the first writer
# (the author) might change, so the figures are computed cold instead.
REWRITTEN = f"""
WITH {_WRITTEN}
SELECT COUNT(*) FROM fig_authors AS a
SEMI JOIN written AS k ON k.community = a.community AND k.message_id = a.message_id
WHERE a.earlier_writers > 0
"""

# Interactions the entering events add (source, target, kind; never oneself): their
# replies and reactions, earlier replies to messages only now written, their mentions.
# `{since}` is FALSE when cold (nothing came earlier: skip reading it).
LINKS = f"""
CREATE OR REPLACE TEMP TABLE fig_links AS WITH {PERSONS}, {_WRITTEN},
earlier AS (
    SELECT e.community, e.reply_to, e.type, COALESCE(p.person, e.member) AS person
    FROM events AS e LEFT JOIN persons AS p ON p.key = e.member
    SEMI JOIN written AS k ON k.community = e.community AND k.message_id = e.reply_to
    WHERE e.type IN ('message', 'reaction') AND e.ts < {{now}} AND e.member IS NOT NULL
      AND NOT {_ENTERS} AND e.reply_to IN (SELECT message_id FROM written)
),
replies AS (
    SELECT community, reply_to, type, person FROM fig_new
    WHERE type IN ('message', 'reaction') AND reply_to IS NOT NULL
    UNION ALL SELECT community, reply_to, type, person FROM earlier WHERE {{since}}
),
linked AS (
    SELECT r.person AS source, a.author AS target,
           CASE WHEN r.type = 'message' THEN 'reply' ELSE 'reaction' END AS kind
    FROM replies AS r JOIN fig_authors AS a
      ON a.community = r.community AND a.message_id = r.reply_to
    UNION ALL
    SELECT m.person, COALESCE(p.person, m.key), 'mention'
    FROM (SELECT person,
                 UNNEST(CAST(json_extract_string(mentions, '$[*]') AS VARCHAR[])) AS key
          FROM fig_new WHERE mentions IS NOT NULL) AS m
    LEFT JOIN persons AS p ON p.key = m.key
)
SELECT source, target, kind FROM linked WHERE source <> target
"""
AUTHORS_ASKED = """SEMI JOIN asked AS k
    ON k.community = m.community AND k.message_id = m.message_id"""
# The same restriction on the message id alone, inside the scan of the log (as `earlier`
# has on `reply_to`): a join on one column lets DuckDB push a filter of the few asked
# ids into the scan, which then skips nearly every row, while the join on both columns
# reads every message (0.15-0.17 s each on 10M events, against 0.03-0.05 s).
ASKED_IDS = "AND e.message_id IN (SELECT message_id FROM asked)"
# AUTHORS's and LINKS's parameters, cold and from a kept starting point.
LINKS_COLD = {"authors_of": "", "asked_ids": "", "since": "FALSE"}
LINKS_SINCE = {"authors_of": AUTHORS_ASKED, "asked_ids": ASKED_IDS, "since": "TRUE"}

# What the entering events add to each person's sums.
DELTA = f"""
CREATE OR REPLACE TEMP TABLE fig_delta AS
WITH base AS (
    SELECT person AS member, MIN(ts) AS first_seen,
           MIN(ts) FILTER (WHERE type IN ({_ACTIVE})) AS first_active,
           MAX(ts) FILTER (WHERE type IN ({_ACTIVE})) AS last_active,
           COUNT(*) FILTER (WHERE type = 'message') AS messages,
           COUNT(*) FILTER (WHERE type = 'message' AND reply_to IS NOT NULL) AS replies_given,
           COUNT(*) FILTER (WHERE type = 'reaction') AS reactions,
           COUNT(*) FILTER (WHERE type = 'checkin') AS checkins,
           COUNT(*) FILTER (WHERE type = 'content_click') AS content_clicks,
           COUNT(*) FILTER (WHERE type = 'activity_signup') AS activity_signups
    FROM fig_new GROUP BY person
),
-- DISTINCT inside an aggregate is slow in DuckDB: distinct pairs first.
comms AS (
    SELECT person AS member, LIST(community) AS communities
    FROM (SELECT DISTINCT person, community FROM fig_new) AS pc GROUP BY person
),
received AS (
    SELECT target AS member,
           COUNT(*) FILTER (WHERE kind = 'reply') AS replies_received,
           COUNT(*) FILTER (WHERE kind = 'reaction') AS reactions_received,
           COUNT(*) FILTER (WHERE kind = 'mention') AS mentions_received
    FROM fig_links GROUP BY target
),
mentioned AS (
    SELECT source AS member, COUNT(*) AS mentions_given FROM fig_links
    WHERE kind = 'mention' GROUP BY source
)
SELECT * FROM base
FULL JOIN comms USING (member) FULL JOIN received USING (member)
FULL JOIN mentioned USING (member)
"""

# The people whose rows are rewritten: those the entering events touch, the buyers of
# orders with a new row (at any time: a refund changes an order's net), and whoever
# has an active day or an order crossing an edge (`{crossed_days}`, `{crossed_orders}`).
SCOPE = f"""
CREATE OR REPLACE TEMP TABLE fig_scope AS WITH {PERSONS},
changed_orders AS (
    SELECT DISTINCT community, order_id FROM events AS e
    WHERE e.type = 'order' AND e.order_id IS NOT NULL AND e.id > {{hwm}}
),
keys AS (
    SELECT e.member AS key FROM events AS e
    SEMI JOIN changed_orders AS k ON k.community = e.community AND k.order_id = e.order_id
    WHERE e.type = 'order'
    UNION ALL
    -- New events after `now` add no sum, but an active day of today already counts.
    SELECT e.member FROM events AS e WHERE e.id > {{hwm}}
    UNION ALL
    SELECT member FROM member_days WHERE {{crossed_days}}
    UNION ALL
    SELECT member FROM order_totals WHERE {{crossed_orders}}
)
SELECT member AS person FROM fig_delta
UNION
SELECT COALESCE(p.person, k.key) FROM keys AS k LEFT JOIN persons AS p ON p.key = k.key
WHERE k.key IS NOT NULL
"""

# Cold: everyone with events before `now` is in scope.
COLD_SCOPE = "CREATE OR REPLACE TEMP TABLE fig_scope AS SELECT member AS person FROM fig_delta"

# The member keys whose rows are of the people in scope: the keys merged into one of
# them, and each of them that is not itself merged elsewhere (a key resolves to its
# `person` in `members` if merged, else to itself). PARTS keeps only their rows
# (`{keyed}`) before resolving persons, so the join to `persons` reads a few rows.
SCOPE_KEYS = f"""
CREATE OR REPLACE TEMP TABLE fig_keys AS WITH {PERSONS}
SELECT p.key FROM persons AS p SEMI JOIN fig_scope AS s ON s.person = p.person
UNION ALL
SELECT s.person FROM fig_scope AS s ANTI JOIN persons AS p ON p.key = s.person
"""

# The figures read from compact tables, for the people in scope (`{keyed}`: a
# condition on a `member` column, TRUE when cold; `{distinct}`: see `days`; both from
# `EVERYONE` or `KEYED`): joins and leaves, and messages in the
# window (`_MOVES`); orders and active days (`_TIERED`: what a tier's minimums read
# from the copy; points and tenure come from elsewhere).
_MOVES = """moves AS (
    SELECT * FROM (
        SELECT COALESCE(p.person, e.member) AS person, e.community, e.type, e.ts, e.id,
               e.channel, COALESCE(q.person, e.inviter) AS inviter
        FROM events AS e LEFT JOIN persons AS p ON p.key = e.member
        LEFT JOIN persons AS q ON q.key = e.inviter
        WHERE e.type IN ('join', 'leave') AND e.ts < {now} AND e.member IS NOT NULL
          AND {keyed}
    ) AS m
),
firsts AS (
    SELECT person AS member,
           ARG_MIN(channel, struct_pack(ts := ts, id := id)) FILTER (WHERE type = 'join')
               AS join_channel,
           ARG_MIN(inviter, struct_pack(ts := ts, id := id)) FILTER (WHERE type = 'join')
               AS inviter
    FROM moves GROUP BY person
),
memberships AS (
    SELECT person, community, ARG_MAX(type, struct_pack(ts := ts, id := id)) AS last_move
    FROM moves GROUP BY person, community
),
left_all AS (
    SELECT person AS member, BOOL_AND(last_move = 'leave') AS has_left
    FROM memberships GROUP BY person
),
spoke AS (
    SELECT person AS member, COUNT(*) AS messages_window FROM (
        SELECT COALESCE(p.person, e.member) AS person
        FROM events AS e LEFT JOIN persons AS p ON p.key = e.member
        WHERE e.type = 'message' AND e.day > {today} - {window} AND e.ts < {now}
          AND e.member IS NOT NULL AND {keyed}
    ) AS s GROUP BY person
)"""
_TIERED = """bought AS (
    SELECT person AS member, COUNT(*) AS orders, CAST(SUM(net) AS DOUBLE) AS gmv,
           MIN(first_ts) AS first_order, MAX(first_ts) AS last_order,
           COUNT(*) FILTER (WHERE first_ts >= {window_start}) AS orders_window,
           CAST(COALESCE(SUM(net) FILTER (WHERE first_ts >= {window_start}), 0) AS DOUBLE)
               AS gmv_window
    FROM (SELECT COALESCE(p.person, o.member) AS person, o.net, o.first_ts
          FROM order_totals AS o LEFT JOIN persons AS p ON p.key = o.member
          WHERE o.member IS NOT NULL AND o.first_ts < {now} AND o.net > 0 AND {keyed}) AS b
    GROUP BY person
),
-- Each active day once: a day a person has in several communities (or keys) comes
-- again with a gap of 0 and is dropped. Over everyone that costs less than a DISTINCT
-- before the window; for the few persons of a refresh (`{distinct}`: DISTINCT), whose
-- histories are the busiest, distinct pairs first make the window a quarter as long.
days AS (
    SELECT {distinct} COALESCE(p.person, d.member) AS person, d.day
    FROM member_days AS d LEFT JOIN persons AS p ON p.key = d.member
    WHERE d.day <= {today} AND {keyed}
),
gaps AS (
    SELECT * FROM (
        SELECT person, day, day - LAG(day) OVER (PARTITION BY person ORDER BY day) AS gap
        FROM days
    ) AS g WHERE gap IS NULL OR gap > 0
),
shape AS (
    SELECT person AS member, COUNT(*) AS days_active,
           COUNT(*) FILTER (WHERE day > {today} - {window}) AS days_active_window,
           MAX(day) FILTER (WHERE gap >= {gap}) AS returned_day,
           COUNT(*) FILTER (WHERE day > {today} - 14) AS days_last_14,
           COUNT(*) FILTER (WHERE day > {today} - 28 AND day <= {today} - 14)
               AS days_prev_14,
           COUNT(*) FILTER (WHERE day > {today} - 90) AS days_last_90
    FROM gaps GROUP BY person
)"""
PARTS = f"""
CREATE OR REPLACE TEMP TABLE fig_parts AS WITH {PERSONS}, {_MOVES}, {_TIERED}
SELECT * FROM firsts
FULL JOIN left_all USING (member) FULL JOIN spoke USING (member)
FULL JOIN bought USING (member) FULL JOIN shape USING (member)
"""
# The figures of `figures.QUALIFYING` only (a tier's grace evaluation): of the parts
# `{parts}` (`bought`, `shape`, or both joined: `TIERED`), the others left unread.
TIERED_PARTS = f"""
CREATE OR REPLACE TEMP TABLE fig_parts AS WITH {PERSONS}, {_TIERED}
SELECT * FROM {{parts}}
"""
# The parts of TIERED_PARTS and the figures of `figures.QUALIFYING` each gives.
TIERED: dict[str, tuple[str, ...]] = {
    "bought": ("orders", "orders_window", "gmv", "gmv_window"),
    "shape": ("days_active", "days_active_window"),
}
# PARTS's and TIERED_PARTS's parameters: everyone (cold), or the keys of `fig_keys`.
EVERYONE = {"keyed": "TRUE", "distinct": ""}
KEYED = {"keyed": "member IN (SELECT key FROM fig_keys)", "distinct": "DISTINCT"}

# Day windows of the figures besides `{window}`: what leaves them as days pass.
DAY_WINDOWS: tuple[int, ...] = (14, 28, 90)


def _sum(name: str) -> str:
    return f"COALESCE(o.{name}, 0) + COALESCE(d.{name}, 0) AS {name}"


def _part(name: str, default: str = "0") -> str:
    return f"COALESCE(x.{name}, {default}) AS {name}"


_MERGED = {
    "member": "s.person AS member",
    "communities": """NULLIF(array_to_string(list_sort(list_distinct(
        COALESCE(string_split(o.communities, ','), []) || COALESCE(d.communities, []))), ','),
        '') AS communities""",
    "first_seen": "LEAST(o.first_seen, d.first_seen) AS first_seen",
    "first_active": "LEAST(o.first_active, d.first_active) AS first_active",
    "last_active": "GREATEST(o.last_active, d.last_active) AS last_active",
    "join_channel": "x.join_channel",
    "inviter": "x.inviter",
    "has_left": _part("has_left", "FALSE"),
    "gmv": _part("gmv", "0.0"),
    "gmv_window": _part("gmv_window", "0.0"),
    "first_order": "x.first_order",
    "last_order": "x.last_order",
    "returned_day": "x.returned_day",
}
_SUMS = [
    "messages",
    "replies_given",
    "reactions",
    "checkins",
    "content_clicks",
    "activity_signups",
    "replies_received",
    "reactions_received",
    "mentions_received",
    "mentions_given",
]

# The new rows of the people in scope. Someone mentioned before their first event keeps
# a row without one (`first_seen` empty, never read: READ) so their first event finds
# the mentions already counted.
MERGED = (
    "CREATE OR REPLACE TEMP TABLE fig_rows AS SELECT "
    + ", ".join(
        _MERGED.get(name) or (_sum(name) if name in _SUMS else _part(name))
        for name, _kind in COLUMNS
    )
    + """
FROM fig_scope AS s
LEFT JOIN {table} AS o ON o.member = s.person
LEFT JOIN fig_delta AS d ON d.member = s.person
LEFT JOIN fig_parts AS x ON x.member = s.person
"""
)

# The figures of a stored table: the people with an event before `now`.
READ = "SELECT * FROM {table} WHERE first_seen IS NOT NULL"
