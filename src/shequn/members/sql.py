"""The SQL of member understanding, over the analytics copy (shequn.analytics.copy).

Every statement works per person: member keys merged with `shequn members merge` are
resolved through the copy's `members` table exactly as the metrics engine does
(`shequn.analytics.sql.PERSONS`), so a person with three accounts counts once.
Parameters are integers rendered with `str.format` (`{now}`: UTC microseconds, `{today}`:
the local day number of `now`), never user strings.
"""

from __future__ import annotations

from shequn.analytics.copy import ACTIVE_TYPES
from shequn.analytics.sql import PERSONS

_ACTIVE = ", ".join(f"'{t}'" for t in ACTIVE_TYPES)

# Events before `now` with the member resolved to a person: `pe_all` of everyone, `pe`
# of the people in scope (`{pe_scope}`: TRUE, or only those of a recompute).
PERSON_EVENTS = f"""{PERSONS},
pe_all AS (
    SELECT e.id, e.ts, e.day, e.community, e.type, e.channel, e.message_id, e.reply_to,
           e.mentions, e.content_id,
           COALESCE(p.person, e.member) AS person,
           COALESCE(q.person, e.inviter) AS inviter
    FROM events AS e
    LEFT JOIN persons AS p ON p.key = e.member
    LEFT JOIN persons AS q ON q.key = e.inviter
    WHERE e.ts < {{now}} AND e.member IS NOT NULL
),
pe AS (SELECT * FROM pe_all WHERE {{pe_scope}})"""

# The whole copy (a cold computation, the graph), or only the people of `member_scope`
# (a temporary table of persons, shequn.members.stored): their own events, and the
# authorship of the messages they wrote, so what others did to them is still counted.
EVERYONE = {"pe_scope": "TRUE", "author_scope": "", "day_scope": "TRUE"}
IN_SCOPE = {
    "pe_scope": "person IN (SELECT person FROM member_scope)",
    "author_scope": """SEMI JOIN (SELECT community, message_id FROM pe
        WHERE type = 'message' AND message_id IS NOT NULL) AS k
        ON k.community = a.community AND k.message_id = a.message_id""",
    "day_scope": "COALESCE(p.person, d.member) IN (SELECT person FROM member_scope)",
}

# Directed interactions source -> target (people, never oneself): a reply to a message,
# a reaction to a message (both by the message's `reply_to`), and a mention in meta.
INTERACTIONS = """
-- The first writer of a message id is its author (ids are unique but for bad exports).
authors AS (
    SELECT a.community, a.message_id, ARG_MIN(a.person, a.id) AS author FROM pe_all AS a
    {author_scope}
    WHERE a.type = 'message' AND a.message_id IS NOT NULL GROUP BY a.community, a.message_id
),
linked AS (
    SELECT x.ts, x.day, x.community, x.person AS source, a.author AS target,
           CASE WHEN x.type = 'message' THEN 'reply' ELSE 'reaction' END AS kind
    FROM pe_all AS x JOIN authors AS a
      ON a.community = x.community AND a.message_id = x.reply_to
    WHERE x.type IN ('message', 'reaction') AND x.reply_to IS NOT NULL
    UNION ALL
    SELECT m.ts, m.day, m.community, m.person AS source,
           COALESCE(p.person, m.key) AS target, 'mention' AS kind
    FROM (SELECT ts, day, community, person,
                 UNNEST(CAST(json_extract_string(mentions, '$[*]') AS VARCHAR[])) AS key
          FROM pe_all WHERE mentions IS NOT NULL) AS m
    LEFT JOIN persons AS p ON p.key = m.key
),
interactions AS (SELECT * FROM linked WHERE source <> target)"""

# One row per person: what they did, when, and how others answered them.
PROFILES = f"""
WITH {PERSON_EVENTS},
{INTERACTIONS},
base AS (
    SELECT person AS member,
           MIN(ts) AS first_seen,
           MIN(ts) FILTER (WHERE type IN ({_ACTIVE})) AS first_active,
           MAX(ts) FILTER (WHERE type IN ({_ACTIVE})) AS last_active,
           ARG_MIN(channel, ts) FILTER (WHERE type = 'join') AS join_channel,
           ARG_MIN(inviter, ts) FILTER (WHERE type = 'join') AS inviter,
           COUNT(*) FILTER (WHERE type = 'message') AS messages,
           COUNT(*) FILTER (WHERE type = 'message' AND reply_to IS NOT NULL) AS replies_given,
           COUNT(*) FILTER (WHERE type = 'reaction') AS reactions,
           COUNT(*) FILTER (WHERE type = 'checkin') AS checkins,
           COUNT(*) FILTER (WHERE type = 'content_click') AS content_clicks,
           COUNT(*) FILTER (WHERE type = 'activity_signup') AS activity_signups,
           COUNT(*) FILTER (
               WHERE type = 'message' AND day > {{today}} - {{window}}) AS messages_window
    FROM pe GROUP BY person
),
-- DISTINCT inside an aggregate is slow in DuckDB: distinct pairs first.
comms AS (
    SELECT person, STRING_AGG(community, ',' ORDER BY community) AS communities
    FROM (SELECT DISTINCT person, community FROM pe) AS pc GROUP BY person
),
memberships AS (
    SELECT person, community,
           ARG_MAX(type, struct_pack(ts := ts, id := id)) AS last_move
    FROM pe WHERE type IN ('join', 'leave') GROUP BY person, community
),
left_all AS (
    SELECT person, BOOL_AND(last_move = 'leave') AS has_left FROM memberships GROUP BY person
),
received AS (
    SELECT target AS member,
           COUNT(*) FILTER (WHERE kind = 'reply') AS replies_received,
           COUNT(*) FILTER (WHERE kind = 'reaction') AS reactions_received,
           COUNT(*) FILTER (WHERE kind = 'mention') AS mentions_received
    FROM interactions GROUP BY target
),
mentioned AS (
    SELECT source AS member, COUNT(*) AS mentions_given FROM interactions
    WHERE kind = 'mention' GROUP BY source
),
bought AS (
    SELECT COALESCE(p.person, o.member) AS member, COUNT(*) AS orders,
           SUM(o.net) AS gmv, MIN(o.first_ts) AS first_order, MAX(o.first_ts) AS last_order,
           COUNT(*) FILTER (WHERE o.first_ts >= {{window_start}}) AS orders_window,
           COALESCE(SUM(o.net) FILTER (WHERE o.first_ts >= {{window_start}}), 0) AS gmv_window
    FROM order_totals AS o LEFT JOIN persons AS p ON p.key = o.member
    WHERE o.member IS NOT NULL AND o.first_ts < {{now}} AND o.net > 0
    GROUP BY COALESCE(p.person, o.member)
)
SELECT b.member, c.communities, b.* EXCLUDE (member), COALESCE(l.has_left, FALSE) AS has_left,
       COALESCE(r.replies_received, 0) AS replies_received,
       COALESCE(r.reactions_received, 0) AS reactions_received,
       COALESCE(r.mentions_received, 0) AS mentions_received,
       COALESCE(m.mentions_given, 0) AS mentions_given,
       COALESCE(o.orders, 0) AS orders, CAST(COALESCE(o.gmv, 0) AS DOUBLE) AS gmv,
       o.first_order, o.last_order, COALESCE(o.orders_window, 0) AS orders_window,
       CAST(COALESCE(o.gmv_window, 0) AS DOUBLE) AS gmv_window
FROM base AS b
JOIN comms AS c ON c.person = b.member
LEFT JOIN left_all AS l ON l.person = b.member
LEFT JOIN received AS r ON r.member = b.member
LEFT JOIN mentioned AS m ON m.member = b.member
LEFT JOIN bought AS o ON o.member = b.member
"""

# Per person: active days (all time, in the window, in recent fortnights, for the
# lifecycle and churn), and the first active day after the latest gap of {gap} days.
ACTIVITY_SHAPE = f"""
WITH {PERSONS},
days AS (
    SELECT DISTINCT COALESCE(p.person, d.member) AS member, d.day
    FROM member_days AS d LEFT JOIN persons AS p ON p.key = d.member
    WHERE d.day <= {{today}} AND {{day_scope}}
),
gaps AS (
    SELECT member, day, day - LAG(day) OVER (PARTITION BY member ORDER BY day) AS gap
    FROM days
)
SELECT member,
       COUNT(*) AS days_active,
       COUNT(*) FILTER (WHERE day > {{today}} - {{window}}) AS days_active_window,
       MAX(day) FILTER (WHERE gap >= {{gap}}) AS returned_day,
       COUNT(*) FILTER (WHERE day > {{today}} - 14) AS days_last_14,
       COUNT(*) FILTER (WHERE day > {{today}} - 28 AND day <= {{today}} - 14) AS days_prev_14,
       COUNT(*) FILTER (WHERE day > {{today}} - 90) AS days_last_90
FROM gaps GROUP BY member
"""

# Every figure of the people in scope, one row each: the profile and the activity shape.
FIGURES = f"""
SELECT p.*, COALESCE(s.days_active, 0) AS days_active,
       COALESCE(s.days_active_window, 0) AS days_active_window, s.returned_day,
       COALESCE(s.days_last_14, 0) AS days_last_14,
       COALESCE(s.days_prev_14, 0) AS days_prev_14,
       COALESCE(s.days_last_90, 0) AS days_last_90
FROM ({PROFILES}) AS p LEFT JOIN ({ACTIVITY_SHAPE}) AS s ON s.member = p.member
"""

# Day windows of the figures (besides `{window}`): what leaves them as days pass.
DAY_WINDOWS: tuple[int, ...] = (14, 28, 90)

# The people whose figures may differ from those stored at `{then}` (UTC microseconds,
# local day `{then_today}`) with every event up to id `{hwm}`: whoever has an event
# after it or between the two instants, the authors of the messages such events wrote
# or answered, the buyers of their orders, whoever they mentioned, and whoever has
# an active day or an order crossing a window's edge (`{crossed_days}`,
# `{crossed_orders}`). More is harmless (recomputed alike); fewer would be wrong.
SCOPE = f"""
CREATE OR REPLACE TEMP TABLE member_scope AS
WITH {PERSONS},
fresh AS (
    SELECT community, member, type, message_id, reply_to, order_id, mentions FROM events
    WHERE id > {{hwm}} OR (ts >= {{then}} AND ts < {{now}})
),
message_keys AS (
    SELECT community, message_id AS key FROM fresh
    WHERE type = 'message' AND message_id IS NOT NULL
    UNION SELECT community, reply_to FROM fresh WHERE reply_to IS NOT NULL
),
order_keys AS (
    SELECT DISTINCT community, order_id FROM fresh
    WHERE type = 'order' AND order_id IS NOT NULL
),
keys AS (
    SELECT member AS key FROM fresh
    UNION ALL
    SELECT UNNEST(CAST(json_extract_string(mentions, '$[*]') AS VARCHAR[])) FROM fresh
    WHERE mentions IS NOT NULL
    UNION ALL
    SELECT e.member FROM events AS e SEMI JOIN message_keys AS k
        ON k.community = e.community AND k.key = e.message_id
    WHERE e.type = 'message'
    UNION ALL
    SELECT e.member FROM events AS e SEMI JOIN order_keys AS k
        ON k.community = e.community AND k.order_id = e.order_id
    WHERE e.type = 'order'
    UNION ALL
    SELECT member FROM member_days WHERE {{crossed_days}}
    UNION ALL
    SELECT member FROM order_totals WHERE {{crossed_orders}}
)
SELECT DISTINCT COALESCE(p.person, k.key) AS person
FROM keys AS k LEFT JOIN persons AS p ON p.key = k.key WHERE k.key IS NOT NULL
"""

# Interactions in [since, now) for the graph: summed decayed weight per (source, target).
EDGES = f"""
WITH {PERSON_EVENTS},
{INTERACTIONS}
SELECT source, target, kind, COUNT(*) AS n,
       SUM(EXP(-LN(2) * ({{now}} - ts) / {{half_life_us}})) AS weight,
       COUNT(*) FILTER (WHERE ts >= {{recent_start}}) AS recent
FROM interactions WHERE ts >= {{since}}
GROUP BY source, target, kind
"""
