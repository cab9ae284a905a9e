"""The SQL of the interaction graph, over the analytics copy (shequn.analytics.copy).

The per-person figures are shequn.members.kept_sql.

Every statement works per person: member keys merged with `shequn members merge` are
resolved through the copy's `members` table exactly as the metrics engine does
(`shequn.analytics.sql.PERSONS`), so a person with three accounts counts once.
Parameters are integers rendered with `str.format` (`{now}`: UTC microseconds, `{today}`:
the local day number of `now`), never user strings.
"""

from __future__ import annotations

from shequn.analytics.sql import PERSONS

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
-- The first writer of a message id is its author (ids are unique but for bad exports).
authors AS (
    SELECT a.community, a.message_id, ARG_MIN(a.person, a.id) AS author FROM pe AS a
    WHERE a.type = 'message' AND a.message_id IS NOT NULL GROUP BY a.community, a.message_id
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

# Interactions in [since, now) for the graph: summed decayed weight per (source, target).
EDGES = f"""
WITH {PERSON_EVENTS},
{INTERACTIONS}
SELECT source, target, kind, COUNT(*) AS n,
       SUM(EXP(-LN(2) * ({{now}} - ts) / {{half_life_us}})) AS weight,
       COUNT(*) FILTER (WHERE ts >= {{recent_start}}) AS recent
FROM interactions WHERE ts >= {{since}} {{scope}}
GROUP BY source, target, kind
"""
# EDGES's `{scope}`: every community, or those of the registered frame `graph_scope`.
EVERY_COMMUNITY = ""
SCOPED = "AND community IN (SELECT community FROM graph_scope)"
