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

# Events before `now` with the member resolved to a person.
PERSON_EVENTS = f"""{PERSONS},
pe AS (
    SELECT e.id, e.ts, e.day, e.community, e.type, e.channel, e.message_id, e.reply_to,
           e.mentions, e.content_id,
           COALESCE(p.person, e.member) AS person,
           COALESCE(q.person, e.inviter) AS inviter
    FROM events AS e
    LEFT JOIN persons AS p ON p.key = e.member
    LEFT JOIN persons AS q ON q.key = e.inviter
    WHERE e.ts < {{now}} AND e.member IS NOT NULL
)"""

# Directed interactions source -> target (people, never oneself): a reply to a message,
# a reaction to a message (both by the message's `reply_to`), and a mention in meta.
INTERACTIONS = """
authors AS (
    SELECT community, message_id, ANY_VALUE(person) AS author FROM pe
    WHERE type = 'message' AND message_id IS NOT NULL GROUP BY community, message_id
),
linked AS (
    SELECT x.ts, x.day, x.community, x.person AS source, a.author AS target,
           CASE WHEN x.type = 'message' THEN 'reply' ELSE 'reaction' END AS kind
    FROM pe AS x JOIN authors AS a
      ON a.community = x.community AND a.message_id = x.reply_to
    WHERE x.type IN ('message', 'reaction') AND x.reply_to IS NOT NULL
    UNION ALL
    SELECT m.ts, m.day, m.community, m.person AS source,
           COALESCE(p.person, m.key) AS target, 'mention' AS kind
    FROM (SELECT ts, day, community, person,
                 UNNEST(CAST(json_extract_string(mentions, '$[*]') AS VARCHAR[])) AS key
          FROM pe WHERE mentions IS NOT NULL) AS m
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
ORDER BY b.member
"""

# Per person: active days (all time, in the window, in recent fortnights, for the
# lifecycle and churn), and the first active day after the latest gap of {gap} days.
ACTIVITY_SHAPE = f"""
WITH {PERSONS},
days AS (
    SELECT DISTINCT COALESCE(p.person, d.member) AS member, d.day
    FROM member_days AS d LEFT JOIN persons AS p ON p.key = d.member
    WHERE d.day <= {{today}}
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
