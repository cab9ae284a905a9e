"""The analytics copy's derived tables, updated as each batch of events is appended.

`first_touch` (each member's first membership event per community), `community_start`,
`member_days` (active days, whether they spoke) and `order_totals` (each order's net and
first row) are what reports read instead of passes over `events`
(shequn.analytics.copy). A batch small beside the copy updates only the rows of the
members and orders it names; a large one folds every row again.
"""

from __future__ import annotations

import duckdb

# Order amounts are exact: 28 integer digits and 10 decimals cover every currency.
AMOUNT_TYPE = "DECIMAL(38, 10)"
MEMBERSHIP_TYPES = ("join", "leave", "message", "reaction")
ACTIVE_TYPES = ("message", "reaction", "checkin")
# A batch of fewer events than this share of the copy's updates only the derived rows of
# the members and orders it names (`merge_incoming`).
FEW = 0.1


def merge_incoming(con: duckdb.DuckDBPyConnection) -> None:
    """Append the registered batch `incoming` (the copy's rows: shequn.analytics.copy)
    to `events` and fold it into the derived tables (the caller holds the transaction)."""
    [(held, coming)] = con.execute(
        "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM incoming)"
    ).fetchall()
    # A small batch updates only the rows of the members and orders it names; a large
    # one (a build, a big import) folds every row again, which then costs less.
    only = coming < held * FEW
    con.execute(
        f"""INSERT INTO events SELECT id, ts, day, community, member, type, channel,
            inviter, visitor, content_id, order_id, CAST(amount AS {AMOUNT_TYPE}),
            message_id, reply_to, mentions
            FROM incoming"""
    )
    kinds = ", ".join(f"'{t}'" for t in MEMBERSHIP_TYPES)
    touching = f"FROM incoming WHERE type IN ({kinds}) AND member IS NOT NULL"
    named = f"SELECT DISTINCT community, member {touching}"
    kept = _kept(con, "first_touch", ("community", "member"), named if only else None)
    # DuckDB compares structs field by field: the minimum is the first event by (ts, id).
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE touched AS
            SELECT community, member, MIN(struct_pack(ts := ts, id := id, type := type)) AS f
            FROM (SELECT community, member, ts, id, type FROM {kept}
                  UNION ALL SELECT community, member, ts, id, type {touching})
            GROUP BY community, member"""
    )
    _replace(con, "first_touch", only)
    con.execute("INSERT INTO first_touch SELECT community, member, f.ts, f.id, f.type FROM touched")
    con.execute("DROP TABLE touched")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE starts AS
           SELECT community, MIN(first_ts) AS first_ts FROM (
               SELECT community, first_ts FROM community_start
               UNION ALL SELECT community, MIN(ts) FROM incoming GROUP BY community)
           GROUP BY community"""
    )
    con.execute("DELETE FROM community_start")
    con.execute("INSERT INTO community_start SELECT community, first_ts FROM starts")
    con.execute("DROP TABLE starts")
    _merge_member_days(con)
    _merge_orders(con, only)


def _kept(
    con: duckdb.DuckDBPyConnection, table: str, key: tuple[str, ...], named: str | None
) -> str:
    """What to fold a batch into: the rows of `table` with a key of the query `named`
    (kept, with their row ids, in the temporary table `<table>_named`, which `_replace`
    deletes by), or all of them (`named` None)."""
    if named is None:
        return table
    on = " AND ".join(f"k.{c} = t.{c}" for c in key)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table}_named AS
            SELECT t.rowid AS row_id, t.* FROM {table} AS t SEMI JOIN ({named}) AS k ON {on}"""
    )
    return f"{table}_named"


def _replace(con: duckdb.DuckDBPyConnection, table: str, only: bool) -> None:
    """Delete the rows of `table` that were folded (`_kept`): those named, by row id
    (another join on the keys would read the table's key columns again), or all."""
    if not only:
        con.execute(f"DELETE FROM {table}")
        return
    con.execute(f"DELETE FROM {table} WHERE rowid IN (SELECT row_id FROM {table}_named)")
    con.execute(f"DROP TABLE {table}_named")


def _merge_member_days(con: duckdb.DuckDBPyConnection) -> None:
    kinds = ", ".join(f"'{t}'" for t in ACTIVE_TYPES)
    # Sorted by day: a report's day window skips most row groups by their zone maps.
    con.execute(
        f"""INSERT INTO member_days
            SELECT community, member, day, MAX(CASE WHEN type = 'message' THEN 1 ELSE 0 END)
            FROM incoming WHERE type IN ({kinds}) AND member IS NOT NULL
            GROUP BY community, member, day ORDER BY day"""
    )


def _merge_orders(con: duckdb.DuckDBPyConnection, only: bool) -> None:
    # An order's rows may arrive in several appends, and out of time order: its total
    # adds up, and its first row is the minimum by (ts, id) of all it has seen. An order
    # without an id is its event alone (`solo`: its id), never seen before.
    named = "SELECT DISTINCT community, order_id FROM incoming WHERE type = 'order'"
    kept = _kept(con, "order_totals", ("community", "order_id"), named if only else None)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE totals AS
            SELECT community, order_id, solo, SUM(net) AS net,
                   MIN(struct_pack(ts := first_ts, id := first_id, member := member)) AS f
            FROM (SELECT community, order_id, solo, net, first_ts, first_id, member FROM {kept}
                  UNION ALL
                  SELECT community, order_id,
                         CASE WHEN order_id IS NULL THEN id ELSE 0 END AS solo,
                         COALESCE(CAST(amount AS {AMOUNT_TYPE}), 0) AS net, ts AS first_ts,
                         id AS first_id, member
                  FROM incoming WHERE type = 'order')
            GROUP BY community, order_id, solo"""
    )
    _replace(con, "order_totals", only)
    con.execute(
        """INSERT INTO order_totals SELECT community, order_id, solo, net, f.ts, f.id,
           f.member FROM totals"""
    )
    con.execute("DROP TABLE totals")
