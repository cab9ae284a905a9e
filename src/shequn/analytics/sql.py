"""The shared SQL of the engine: events with persons resolved, membership intervals
with their referral generations, and orders.

Written in portable SQL (window functions, GROUPING SETS, WITH RECURSIVE, CASE) so the
same text runs on DuckDB now and ClickHouse later. Parameters are integers rendered
into the text with `str.format` (`{ps}`/`{pe}`: the period's instants in UTC
microseconds; `{ds}`/`{de}`: its local days), never user strings.

Intervals follow docs/metrics.md, "Membership" and "Precise rules": a member's join
and leave events toggle membership in (ts, id) order; a join while a member and a
leave while not a member change nothing; a member whose first membership event is a
message or reaction is a member from the community's first event ("history start").
"""

from __future__ import annotations

# An interval that has not ended ends at the largest BIGINT.
FOREVER = 9_223_372_036_854_775_807

# Events with merged member keys resolved to their person (docs: `shequn members merge`).
PERSONS = "persons AS (SELECT key, person FROM members WHERE person <> key)"
EVENTS = f"""
{PERSONS},
ev AS (
    SELECT e.id, e.ts, e.day, e.community, e.type,
           COALESCE(p.person, e.member) AS member,
           COALESCE(q.person, e.inviter) AS inviter,
           e.channel, e.visitor, e.content_id, e.order_id, e.amount
    FROM events AS e
    LEFT JOIN persons AS p ON p.key = e.member
    LEFT JOIN persons AS q ON q.key = e.inviter
),
pev AS (SELECT * FROM ev WHERE ts >= {{ps}} AND ts < {{pe}})"""

# Joins and leaves of all time (small next to the log: every interval is made of them).
MAKE_JL = f"""
CREATE TEMPORARY TABLE t_jl AS WITH {EVENTS}
SELECT id, ts, community, member, type, inviter, channel FROM ev
WHERE type IN ('join', 'leave') AND member IS NOT NULL
"""

# Order rows in P; an empty order_id is an order by itself (`solo` = its id). Orders
# of all time are the copy's `order_totals`.
MAKE_ORDERS = f"""
CREATE TEMPORARY TABLE t_orders AS WITH {EVENTS}
SELECT community, order_id, CASE WHEN order_id IS NULL THEN id ELSE 0 END AS solo,
       id, ts, member, COALESCE(amount, 0) AS amount
FROM ev WHERE type = 'order' AND ts >= {{ps}} AND ts < {{pe}}
"""

# Membership intervals (community, member, iid, start_ts, end_ts).
MAKE_SPANS = f"""
CREATE TEMPORARY TABLE t_iv AS WITH {EVENTS},
touch AS (
    SELECT community, member, type FROM (
        SELECT f.community, COALESCE(p.person, f.member) AS member, f.type,
               ROW_NUMBER() OVER (
                   PARTITION BY f.community, COALESCE(p.person, f.member)
                   ORDER BY f.ts, f.id) AS rn
        FROM first_touch AS f LEFT JOIN persons AS p ON p.key = f.member
    ) AS firsts
    WHERE rn = 1
),
hist AS (
    SELECT t.community, t.member, s.first_ts AS ts,
           -ROW_NUMBER() OVER (ORDER BY t.community, t.member) AS iid
    FROM touch AS t JOIN community_start AS s ON s.community = t.community
    WHERE t.type IN ('message', 'reaction')
),
toggles AS (
    SELECT j.id, j.ts, j.community, j.member, j.type,
           -- LAG/LEAD with an explicit default: ClickHouse's default is the type's
           -- zero value, not NULL.
           LAG(j.type, 1, CASE WHEN h.member IS NULL THEN 'leave' ELSE 'join' END)
               OVER (PARTITION BY j.community, j.member ORDER BY j.ts, j.id) AS state_before
    FROM t_jl AS j
    LEFT JOIN hist AS h ON h.community = j.community AND h.member = j.member
),
edges AS (
    SELECT community, member, ts, id, 1 AS opens FROM toggles
    WHERE type = 'join' AND state_before = 'leave'
    UNION ALL
    SELECT community, member, ts, id, 0 AS opens FROM toggles
    WHERE type = 'leave' AND state_before = 'join'
    UNION ALL
    SELECT community, member, ts, iid AS id, 1 AS opens FROM hist
),
spans AS (
    SELECT community, member, id AS iid, opens, ts AS start_ts,
           LEAD(ts, 1, {FOREVER}) OVER (PARTITION BY community, member ORDER BY ts, id)
               AS end_ts
    FROM edges
)
SELECT community, member, iid, start_ts, end_ts FROM spans WHERE opens = 1
"""

# Invited joins of all time: a join whose inviter (not the joiner) is a member of the
# community at the join's instant; `parent` is the inviter's covering interval.
MAKE_INVITED = """
CREATE TEMPORARY TABLE t_inv AS
SELECT j.id, j.ts, j.community, j.member, i.iid AS parent
FROM t_jl AS j JOIN t_iv AS i
  ON i.community = j.community AND i.member = j.inviter
 AND i.start_ts <= j.ts AND j.ts < i.end_ts
WHERE j.type = 'join' AND j.inviter IS NOT NULL AND j.inviter <> j.member
"""

# Each interval's root: the generation-0 interval its invitation chain leads up to
# (NULL for a cycle of same-instant invitations, which leads to no seed). Seeds:
# generation-0 intervals covering P's start or opened in P. Reached: seeds and
# intervals opened in P by an invited join whose chain leads up to a seed interval.
MAKE_INTERVALS = """
CREATE TEMPORARY TABLE iv AS
WITH RECURSIVE
tree AS (
    SELECT i.iid, i.iid AS root FROM t_iv AS i
    WHERE NOT EXISTS (SELECT 1 FROM t_inv AS v WHERE v.id = i.iid)
    UNION ALL
    SELECT v.id AS iid, t.root FROM tree AS t JOIN t_inv AS v ON v.parent = t.iid
),
rooted AS (
    SELECT i.community, i.member, i.iid, i.start_ts, i.end_ts, t.root,
           CASE WHEN t.root = i.iid AND (
                    (i.start_ts <= {ps} AND {ps} < i.end_ts)
                    OR ({ps} <= i.start_ts AND i.start_ts < {pe}))
                THEN 1 ELSE 0 END AS seed
    FROM t_iv AS i LEFT JOIN tree AS t ON t.iid = i.iid
)
SELECT r.community, r.member, r.iid, r.start_ts, r.end_ts, r.seed,
       CASE WHEN r.seed = 1 OR (
                r.root <> r.iid AND {ps} <= r.start_ts AND r.start_ts < {pe}
                AND s.seed = 1)
            THEN 1 ELSE 0 END AS reached
FROM rooted AS r LEFT JOIN rooted AS s ON s.iid = r.root
"""

# Spans per scope: each community's intervals, and for `*` each member's intervals of
# all communities merged where they overlap or touch. Within a scope a member's spans
# are disjoint, so the members covering an instant are counted with COUNT(*), not a
# DISTINCT over (item, member) pairs. Spans are only looked up at instants of
# [span_from, span_to] (content sent in P, the ends of the weeks overlapping P): an
# interval that covers such an instant touches that window, so the others are left
# out before merging.
MAKE_SCOPE_SPANS = """
CREATE TEMPORARY TABLE t_sp AS
WITH near AS (
    SELECT community, member, start_ts, end_ts FROM iv
    WHERE start_ts < end_ts AND end_ts > {span_from} AND start_ts <= {span_to}
),
ordered AS (
    SELECT member, start_ts, end_ts,
           ROW_NUMBER() OVER (PARTITION BY member ORDER BY start_ts, end_ts) AS rn,
           MAX(end_ts) OVER (PARTITION BY member ORDER BY start_ts, end_ts
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
    FROM near
),
grouped AS (
    SELECT member, start_ts, end_ts,
           SUM(CASE WHEN rn = 1 OR start_ts > reach THEN 1 ELSE 0 END)
               OVER (PARTITION BY member ORDER BY start_ts, end_ts ROWS UNBOUNDED PRECEDING)
               AS grp
    FROM ordered
)
SELECT community AS scope, member, start_ts, end_ts FROM near
UNION ALL
SELECT '*' AS scope, member, MIN(start_ts) AS start_ts, MAX(end_ts) AS end_ts
FROM grouped GROUP BY member, grp
"""

# Orders in P: rows in P with the same (community, order_id); the member of the
# earliest row owns it.
MAKE_ORDERS_P = """
CREATE TEMPORARY TABLE t_orders_p AS
SELECT community, order_id, solo, SUM(amount) AS net,
       MAX(CASE WHEN rn = 1 THEN member END) AS member
FROM (SELECT community, order_id, solo, amount, member,
             ROW_NUMBER() OVER (PARTITION BY community, order_id, solo ORDER BY ts, id) AS rn
      FROM t_orders WHERE ts >= {ps} AND ts < {pe}) AS rows_p
GROUP BY community, order_id, solo
"""

# Row sources of per-member flags and scope facts: each has `community` (and
# `member` where flags read it). Each keeps only the rows that can make a flag
# non-zero, so the flags' GROUP BY stays small: intervals that touch P; first joins and
# first paid orders only of members who joined somewhere in P (the join cohort can hold
# no one else, and all their earlier joins are kept to find their first).
MEMBER_SOURCES = """
iv_p AS (
    -- Opened in P counts even when it closed at the same instant (a join and a leave at
    -- P's start make an empty interval that is still a seed or reached).
    SELECT * FROM iv WHERE start_ts <= {pe} AND (end_ts > {ps} OR start_ts >= {ps})
),
invited_p AS (SELECT * FROM t_inv WHERE ts >= {ps} AND ts < {pe}),
orders_p AS (SELECT * FROM t_orders_p),
first_joins AS (
    SELECT community, member, MIN(ts) AS ts FROM t_jl
    WHERE type = 'join' AND member IN (
        SELECT member FROM t_jl WHERE type = 'join' AND ts >= {ps} AND ts < {pe})
    GROUP BY community, member
),
orders_all AS (
    SELECT community, order_id, solo, net, first_ts, member FROM (
        SELECT o.community AS community, o.order_id AS order_id, o.solo AS solo,
               o.net AS net, o.first_ts AS first_ts,
               COALESCE(p.person, o.member) AS member
        FROM order_totals AS o LEFT JOIN persons AS p ON p.key = o.member
        WHERE o.net > 0
    ) AS paid
    WHERE member IN (SELECT member FROM first_joins)
),
activity AS (SELECT community, member, spoke FROM t_ad WHERE day >= {ds} AND day < {de}),
leaves_p AS (
    SELECT community, member FROM t_jl WHERE type = 'leave' AND ts >= {ps} AND ts < {pe}
)"""

# Per-scope row sources that only the scope facts read.
FACT_SOURCES = """
win AS (SELECT community, member, day FROM t_ad WHERE day >= {last} - 29 AND day <= {last}),
tasks AS (SELECT community, due_ts AS due, done_ts FROM sop_tasks)"""

SCOPE = "CASE WHEN GROUPING(community) = 1 THEN '*' ELSE community END"

# Active member-days (with whether they wrote a message) over every day the activity
# metrics, the daily series and the retention weeks look at, from the copy's
# `member_days` (one row per append that saw the day: MAX merges them).
MAKE_ACTIVE_DAYS = f"""
CREATE TEMPORARY TABLE t_ad AS
WITH {PERSONS}
SELECT community, member, day, MAX(spoke) AS spoke FROM (
    SELECT d.community AS community, COALESCE(p.person, d.member) AS member, d.day AS day,
           d.spoke AS spoke
    FROM member_days AS d LEFT JOIN persons AS p ON p.key = d.member
    WHERE d.day >= {{act_from}} AND d.day < {{act_to}}
) AS days_p
GROUP BY community, member, day
"""

# Daily active members per scope, on the days of P (all that facts and series read).
MAKE_DAYS = f"""
CREATE TEMPORARY TABLE dd AS
SELECT {SCOPE} AS scope, day, COUNT(DISTINCT member) AS dau FROM t_ad
WHERE day >= {{ds}} AND day < {{de}}
GROUP BY GROUPING SETS ((community, day), (day))
"""

# Visits (distinct visitor keys; an empty key is a visitor of its own) and channel
# joins per scope and channel in P.
MAKE_CHANNELS = f"""
CREATE TEMPORARY TABLE ch AS
WITH {EVENTS},
per_channel AS (
    SELECT {SCOPE} AS scope, channel,
           COUNT(DISTINCT visitor) + SUM(CASE WHEN visitor IS NULL THEN 1 ELSE 0 END)
               AS visits,
           0 AS channel_joins
    FROM pev WHERE type = 'visit' AND channel IS NOT NULL
    GROUP BY GROUPING SETS ((community, channel), (channel))
    UNION ALL
    SELECT {SCOPE} AS scope, channel, 0 AS visits, COUNT(*) AS channel_joins
    FROM pev WHERE type = 'join' AND channel IS NOT NULL
    GROUP BY GROUPING SETS ((community, channel), (channel))
)
SELECT scope, channel, SUM(visits) AS visits, SUM(channel_joins) AS channel_joins
FROM per_channel GROUP BY scope, channel
"""

# Members who joined through each channel in P, with what they bought in P.
BY_CHANNEL = f"""
WITH {EVENTS},
joined AS (
    SELECT {SCOPE} AS scope, channel, member FROM t_jl
    WHERE type = 'join' AND channel IS NOT NULL AND ts >= {{ps}} AND ts < {{pe}}
    GROUP BY GROUPING SETS ((community, channel, member), (channel, member))
),
joiners AS (
    SELECT j.scope, j.channel, COUNT(*) AS joins,
           SUM(CASE WHEN m.paid_orders > 0 THEN 1 ELSE 0 END) AS buyers,
           SUM(COALESCE(m.spent, 0)) AS gmv
    FROM joined AS j LEFT JOIN mf AS m ON m.scope = j.scope AND m.member = j.member
    GROUP BY j.scope, j.channel
)
SELECT c.scope, c.channel, c.visits, c.channel_joins,
       COALESCE(j.joins, 0) AS joins, COALESCE(j.buyers, 0) AS buyers,
       COALESCE(j.gmv, 0) AS gmv
FROM ch AS c LEFT JOIN joiners AS j ON j.scope = c.scope AND j.channel = c.channel
ORDER BY c.scope, c.channel
"""

# Content items first sent (in the scope) in P: distinct clickers, and the members
# at the instant the item was first sent.
CONTENT = f"""
WITH {EVENTS},
sends AS (
    SELECT {SCOPE} AS scope, content_id, MIN(ts) AS first_ts FROM ev
    WHERE type = 'content_sent' AND content_id IS NOT NULL
    GROUP BY GROUPING SETS ((community, content_id), (content_id))
),
items AS (SELECT * FROM sends WHERE first_ts >= {{ps}} AND first_ts < {{pe}}),
clicks AS (
    SELECT {SCOPE} AS scope, content_id, COUNT(DISTINCT member) AS clickers FROM ev
    WHERE type = 'content_click' AND member IS NOT NULL
      AND content_id IN (SELECT content_id FROM items)
    GROUP BY GROUPING SETS ((community, content_id), (content_id))
),
reach AS (
    SELECT i.scope, i.content_id, COUNT(*) AS members
    FROM items AS i
    JOIN t_sp AS v
      ON v.scope = i.scope AND v.start_ts <= i.first_ts AND i.first_ts < v.end_ts
    GROUP BY i.scope, i.content_id
)
SELECT i.scope, i.content_id, COALESCE(c.clickers, 0) AS clickers,
       COALESCE(r.members, 0) AS members
FROM items AS i
LEFT JOIN clicks AS c ON c.scope = i.scope AND c.content_id = i.content_id
LEFT JOIN reach AS r ON r.scope = i.scope AND r.content_id = i.content_id
ORDER BY i.scope, i.content_id
"""
