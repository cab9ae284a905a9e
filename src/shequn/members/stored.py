"""Per-person figures kept in the analytics copy, recomputed only where they changed.

Each set of figures (`now`, and `back_N` for a tier's grace period N days earlier) is a
table `member_figures_<name>` in the copy, one row per person, beside a row of
`member_figures_state`: the instant it was computed at, the highest event id it saw
(the high-water mark), its window and gap, and a fingerprint of the merged member keys.

`bring_up` brings a set up to a new instant and the copy's newest event:

- **cold** (recompute everyone) when asked, when nothing is stored, when the window,
  gap, merged members or figures version differ, or when the instant went back;
- otherwise only the events that entered since (new ids, or older ones whose time
  passed under the new instant: looked for only when the earliest event seen after
  the stored instant, kept beside it, is before the new one) are read and merged into
  the stored sums, and the figures of compact tables are recomputed for the people
  those events touch or who crossed a window's edge (shequn.members.kept_sql); their
  rows are replaced, in one transaction.

It says which rows it rewrote (`Update`); `read_kept` reads the set, or only those rows
of some persons.

An instant before the `now` set's (`shequn members list --at` a past day) has sets of
its own, named with the prefix `PAST` (`before_kept`): the sets a refresh moves forward
stay where they are, so the next refresh reads only what entered since them.

Figures that change with the passage of time alone (`tenure_days`, `idle_days`, and
so the lifecycle state and the churn score) are derived afterwards from the stored
instants, vectorised, for everyone. The result equals `figures` from scratch
(tests/members/test_stored.py checks every column).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from shequn.members import kept_sql
from shequn.members.figures import AsOf, Since, compute, read_frame, with_time

# The prefix of the sets of an instant before the kept `now` set's (`before_kept`).
PAST = "past_"
# Raised when the stored columns or their meaning change: stored figures are then cold.
FIGURES_VERSION = 1
STATE_TABLE = "member_figures_state"
_STATE_DDL = f"""CREATE TABLE IF NOT EXISTS {STATE_TABLE} (
    name VARCHAR NOT NULL, now BIGINT NOT NULL, today INTEGER NOT NULL,
    window_days INTEGER NOT NULL, gap INTEGER NOT NULL, hwm BIGINT NOT NULL,
    persons VARCHAR NOT NULL, version INTEGER NOT NULL);
    ALTER TABLE {STATE_TABLE} ADD COLUMN IF NOT EXISTS ahead BIGINT"""

# No event at or after the instant (`AHEAD`'s answer then).
NONE_AHEAD = 9_223_372_036_854_775_807
# The earliest time at or after `{now}` of the events with an id over `{after}` (-1:
# every event), NONE_AHEAD when there is none: what figures brought up to `{now}` saw
# but have not counted yet (`figures.Since.ahead`).
AHEAD = f"SELECT COALESCE(MIN(ts), {NONE_AHEAD}) FROM events WHERE ts >= {{now}} AND id > {{after}}"


@dataclass(frozen=True)
class Mark:
    """What a stored set of figures was computed at and from."""

    now: int
    today: int
    window_days: int
    gap: int
    hwm: int
    persons: str
    version: int = FIGURES_VERSION

    def same_rules(self, other: Mark) -> bool:
        """Whether figures of `other` can be reached from these by a partial recompute."""
        return (self.window_days, self.gap, self.persons, self.version) == (
            other.window_days,
            other.gap,
            other.persons,
            other.version,
        ) and other.now >= self.now


@dataclass(frozen=True)
class Update:
    """What bringing a stored set up to date did.

    Attributes:
        table: the stored table.
        at: the instant it now holds.
        mark: its mark now.
        start: the mark of the set it started from when that was its own previous
            content (None when cold or started from another set): then the temporary
            table `<table>_changed` holds the new rows of everyone whose row may have
            changed since.
    """

    table: str
    at: AsOf
    mark: Mark
    start: Mark | None


def bring_up(
    con: duckdb.DuckDBPyConnection,
    at: AsOf,
    gap_days: int,
    name: str,
    *,
    cold: bool = False,
    after: str | None = None,
) -> Update:
    """Bring the stored set `name` up to `at` and the copy's newest event (read it with
    `read_kept`).

    Args:
        con: the analytics copy (the figures are kept in it).
        at: the instant of the figures.
        gap_days: a return is activity after a gap of at least this many days.
        name: the stored set (`now`, `back_14`, ...).
        cold: do not start from what `name` holds.
        after: a stored set of an earlier instant (just brought up to date) to start
            from when `name` cannot be: only the events between the two are read.
    """
    table = f"member_figures_{name}"
    con.execute(_STATE_DDL)
    mark = _current(con, at, gap_days)
    start = None if cold else _stored(con, name, table)
    own = start is not None and start.same_rules(mark)
    origin = name
    if not own and after is not None:
        start, origin = _stored(con, after, f"member_figures_{after}"), after
        if start is not None and start.same_rules(mark):
            con.execute(f"CREATE OR REPLACE TABLE {table} AS FROM member_figures_{after}")
    since = None
    if start is not None and start.same_rules(mark):
        then = AsOf(start.now, start.today, start.window_days)
        since = Since(then, start.hwm, _ahead(con, origin))
    con.execute("BEGIN")
    try:
        partial = compute(con, table, at, gap_days, since)
        _save(con, name, mark, _next_ahead(con, at, since if partial else None))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return Update(table, at, mark, start if own and partial else None)


def read_kept(
    con: duckdb.DuckDBPyConnection, update: Update, persons: str | None = None
) -> pl.DataFrame:
    """The figures of a set just brought up (`bring_up`), in no particular order: of
    everyone, or of the persons in the table `persons` (column `person`).

    The rows the update rewrote are read from `<table>_changed` (small); the whole
    table only for persons outside them.
    """
    query = kept_sql.READ.format(table=update.table)
    if persons is not None:
        changed, within = f"{update.table}_changed", f"member IN (SELECT person FROM {persons})"
        [(others,)] = con.execute(
            f"SELECT COUNT(*) FROM {persons} AS p ANTI JOIN {changed} AS c ON c.member = p.person"
        ).fetchall()
        query = f"{kept_sql.READ.format(table=changed)} AND {within}"
        if others:
            query += f""" UNION ALL {kept_sql.READ.format(table=update.table)} AND {within}
                AND member NOT IN (SELECT member FROM {changed})"""
    # Unordered: sorting a million keys costs more than the joins that follow.
    return with_time(read_frame(con, query), update.at)


def _current(con: duckdb.DuckDBPyConnection, at: AsOf, gap_days: int) -> Mark:
    """The mark of figures computed now: the copy's newest event and merged members."""
    [(hwm, persons)] = con.execute(
        """SELECT (SELECT COALESCE(MAX(id), 0) FROM events),
                  (SELECT COUNT(*) || ':' || COALESCE(BIT_XOR(hash(key || chr(0) || person)), 0)
                   FROM members)"""
    ).fetchall()
    return Mark(at.now, at.today, at.window_days, gap_days, int(hwm), str(persons))


def before_kept(con: duckdb.DuckDBPyConnection, at: AsOf) -> bool:
    """Whether `at` is before the instant of the kept `now` set (its figures are then
    those of the sets named with `PAST`)."""
    kept = mark(con, "now")
    return kept is not None and at.now < kept.now


def mark(con: duckdb.DuckDBPyConnection, name: str) -> Mark | None:
    """The mark of the stored set `name`, or None when there is none."""
    con.execute(_STATE_DDL)
    return _stored(con, name, f"member_figures_{name}")


def _stored(con: duckdb.DuckDBPyConnection, name: str, table: str) -> Mark | None:
    """The mark of the stored figures `name`, or None when there are none."""
    rows = con.execute(
        f"""SELECT now, today, window_days, gap, hwm, persons, version
            FROM {STATE_TABLE} WHERE name = ?""",
        [name],
    ).fetchall()
    if not rows or not exists(con, table):
        return None
    return Mark(*rows[0])


def exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the copy holds the (not temporary) table `table`."""
    [(count,)] = con.execute(
        "SELECT COUNT(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary", [table]
    ).fetchall()
    return bool(count)


def _ahead(con: duckdb.DuckDBPyConnection, name: str) -> int:
    """`Since.ahead` of the stored set `name` (0 when not known)."""
    [(ahead,)] = con.execute(
        f"SELECT COALESCE(ahead, 0) FROM {STATE_TABLE} WHERE name = ?", [name]
    ).fetchall()
    return int(ahead)


def _next_ahead(con: duckdb.DuckDBPyConnection, at: AsOf, since: Since | None) -> int:
    """`Since.ahead` of figures just brought up to `at` from `since` (None: cold): from
    the new events alone while the earliest seen before is still ahead of `at`, else
    (it entered, or it is not known) from every event."""
    known, after = NONE_AHEAD, -1
    if since is not None and since.ahead >= at.now:
        known, after = since.ahead, since.hwm
    [(found,)] = con.execute(AHEAD.format(now=at.now, after=after)).fetchall()
    return min(known, int(found))


def _save(con: duckdb.DuckDBPyConnection, name: str, mark: Mark, ahead: int) -> None:
    con.execute(f"DELETE FROM {STATE_TABLE} WHERE name = ?", [name])
    con.execute(
        f"""INSERT INTO {STATE_TABLE}
            (name, now, today, window_days, gap, hwm, persons, version, ahead)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            name,
            mark.now,
            mark.today,
            mark.window_days,
            mark.gap,
            mark.hwm,
            mark.persons,
            mark.version,
            ahead,
        ],
    )
