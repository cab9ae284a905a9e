"""The last assembled profiles kept in the copy, so a refresh recomputes only some rows.

`member_profiles` holds every decided column of the last profiles (all of
shequn.members.profiles but the RFM scores, which rank buyers against each other);
`member_profiles_state` holds what they were decided from (`Key`: the window, the
settings, the churn model and the mark of every figure set they read), the instant
they were last decided at and the last record of members (shequn.members.recorded)
their recorded state was read up to.

A refresh at the same or a later instant, with the same settings and model, whose figure
sets were each brought up from exactly the marks the profiles were decided from, decides
again only the persons whose rows may have changed: those in the scope of each set's
update (shequn.members.figures.compute), those with a record that entered their
recorded state since (a new one, or one time passed under: `recorded.moved`), and (at
a later instant, added by the caller: `add_persons`) those whose tier time alone may
move.
Their rows replace the kept ones; the columns that move with time alone (tenure, idle
days, state, churn risk) are then derived again for every row by the caller, and the
RFM scores ranked over them all. Every write of the table stores a fresh token beside
the key; the process that wrote it holds the frame it wrote under that token, so while
the token is unchanged a refresh in the same process (the web app, a bench) merges the
changed rows into the held frame without reading it back from the copy (another
process reads it back: `_read_sorted`). Anything else
(an earlier instant, a refit, changed settings, marks or merges, `--cold`) decides
every row and rewrites the table.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from shequn.config import Settings
from shequn.members.figures import DAY_US, AsOf, read_frame, registered
from shequn.members.recorded import last_id, moved
from shequn.members.refit import TABLE as MODEL_TABLE
from shequn.members.stored import Mark

# Raised when the kept columns or their meaning change: the kept profiles are then unused.
VERSION = 3
TABLE = "member_profiles"
STATE = "member_profiles_state"
# The persons whose rows a refresh recomputes (temporary, column `person`).
CHANGED = "member_profiles_changed"
# Of profiles read back for some columns, spliced: whether the row was replaced.
STALE = "stale"
_STATE_DDL = f"""CREATE TABLE IF NOT EXISTS {STATE} (key VARCHAR NOT NULL);
    ALTER TABLE {STATE} ADD COLUMN IF NOT EXISTS token VARCHAR;
    ALTER TABLE {STATE} ADD COLUMN IF NOT EXISTS now BIGINT;
    ALTER TABLE {STATE} ADD COLUMN IF NOT EXISTS tail BIGINT DEFAULT 0;
    ALTER TABLE {STATE} ADD COLUMN IF NOT EXISTS records BIGINT;
    DROP TABLE IF EXISTS member_profiles_recorded"""
# The table is written anew, sorted, once the rows appended after its sorted head
# (each refresh's) would pass this share of it: reading it back then sorts them.
TAIL_SHARE = 0.1
# The last profiles this process wrote, by the token written with them.
_held: dict[str, Held] = {}


@dataclass(frozen=True)
class Held:
    """Profiles a process wrote, and the instant every row's time-moved columns are of."""

    frame: pl.DataFrame
    timed: int


@dataclass(frozen=True)
class Kept:
    """The kept profiles a refresh starts from.

    Attributes:
        frame: every row; sorted by member when `whole`.
        now: the instant they were last decided at (every tier holds as of it).
        timed: the instant every row's tenure, idle days, state and churn risk are of;
            None when read back from the copy (rows decided at different instants).
        whole: whether `frame` has every kept column (read back, a caller may ask for
            only some: then the rows are in the table's order).
    """

    frame: pl.DataFrame
    now: int
    timed: int | None
    whole: bool = True


@dataclass(frozen=True)
class Key:
    """What profiles are decided from, as comparable text."""

    text: str

    @classmethod
    def of(
        cls,
        con: duckdb.DuckDBPyConnection,
        settings: Settings,
        at: AsOf,
        marks: dict[str, Mark | None],
    ) -> Key:
        """The key of profiles at `at` under `settings`, the kept churn model and the
        figure sets of `marks` (by table)."""
        model = con.execute(f"SELECT fitted_now, rules, params FROM {MODEL_TABLE}").fetchall()
        return cls(
            json.dumps(
                {
                    "version": VERSION,
                    "window": at.window_days,
                    "tiers": [t.model_dump(mode="json") for t in settings.tiers],
                    "states": settings.member_states.model_dump(mode="json"),
                    "model": [list(row) for row in model],
                    "sets": {
                        name: None if m is None else list(vars(m).values())
                        for name, m in sorted(marks.items())
                    },
                },
                sort_keys=True,
            )
        )


def changed(
    con: duckdb.DuckDBPyConnection,
    key: Key,
    at: AsOf,
    sets: list[str],
    backs: list[int],
    columns: Sequence[str] | None = None,
) -> Kept | None:
    """The kept profiles when they were decided under `key` at `at` or before (None
    otherwise); then the temporary table `CHANGED` is filled with the persons to
    recompute: those of each set's `<set>_changed` table
    (shequn.members.figures.compute) and those whose recorded state, now or each of
    `backs` days before, may differ (`recorded.moved`).

    Read back from the copy, only `columns` when given (all of them when held), in
    the table's order."""
    con.execute(_STATE_DDL)
    rows = con.execute(f"SELECT key, token, now, records FROM {STATE}").fetchall()
    if len(rows) != 1 or rows[0][0] != key.text:
        return None
    _key, token, now, mark = rows[0]
    if now is None or mark is None or now > at.now:
        return None
    days = (0, *backs)
    entered = moved(con, mark, [now - d * DAY_US for d in days], [at.back(d).now for d in days])
    union = " UNION ".join(f"SELECT member AS person FROM {name}_changed" for name in sets)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {CHANGED} AS {union} UNION {entered}")
    held = _held.get(token) if token else None
    if held is not None:
        return Kept(held.frame, now, held.timed)
    if columns is None:
        return Kept(_read_sorted(con), now, None)
    listed = ", ".join(f'"{c}"' for c in columns)
    return Kept(read_frame(con, f"SELECT {listed} FROM {TABLE}"), now, None, whole=False)


def _read_sorted(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The kept profiles read back, sorted by member, in one chunk (the ranks of RFM
    and what callers do cost twice as much over DuckDB's chunks).

    Read in the table's order: the rows of the last full decision (sorted, some
    deleted since) then each refresh's rows (sorted among themselves). Only the rows
    after the sorted head are sorted, then merged with it: a sort of every row costs
    five times as much.
    """
    frame = read_frame(con, f"SELECT * FROM {TABLE}")
    members = frame["member"]
    breaks = (members < members.shift(1)).arg_true()
    if breaks.is_empty():
        return frame.rechunk()
    head = int(breaks[0])
    tail = frame.slice(head).sort("member")
    return frame.slice(0, head).merge_sorted(tail, key="member").rechunk()


def read_rows(
    con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, columns: Sequence[str]
) -> pl.DataFrame:
    """`rows` (profiles, each member once) with the kept `columns` of their members
    read back beside them: from the table, which has every person's current row once
    `splice` has written the rows it decided."""
    if not columns:
        return rows
    listed = ", ".join(f'"{c}"' for c in columns)
    with registered(con, picked=rows.select("member")):
        read = read_frame(
            con, f"SELECT member, {listed} FROM {TABLE} SEMI JOIN picked USING (member)"
        )
    return rows.join(read, on="member", how="left")


def holding(
    con: duckdb.DuckDBPyConnection, kept: Kept, tiers: list[str], columns: Sequence[str]
) -> pl.DataFrame:
    """The kept profiles recorded in one of `tiers`, with `columns`: from `kept` when
    it has them, else read back for those rows alone (a few, against reading the
    columns of every row)."""
    if all(c in kept.frame.columns for c in columns):
        return kept.frame.select(columns).filter(pl.col("recorded_tier").is_in(tiers))
    listed = ", ".join(f'"{c}"' for c in columns)
    with registered(con, held_tiers=pl.DataFrame({"tier": tiers}, schema={"tier": pl.String})):
        return read_frame(
            con, f"SELECT {listed} FROM {TABLE} WHERE recorded_tier IN (FROM held_tiers)"
        )


def add_persons(con: duckdb.DuckDBPyConnection, persons: pl.Series) -> None:
    """Add the persons of `persons` to `CHANGED`."""
    with registered(con, persons=persons.to_frame("person")):
        con.execute(f"INSERT INTO {CHANGED} FROM persons EXCEPT FROM {CHANGED}")


def save(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, key: Key, at: AsOf) -> None:
    """Keep `frame` (every decided column, sorted by member) as decided under `key` at
    `at`, with every record in the copy."""
    con.execute(_STATE_DDL)
    token = uuid.uuid4().hex
    with _transaction(con, frame=frame):
        con.execute(f"CREATE OR REPLACE TABLE {TABLE} AS FROM frame")
        con.execute(f"DELETE FROM {STATE}")
        con.execute(
            f"INSERT INTO {STATE} (key, token, now, tail, records) VALUES (?, ?, ?, 0, ?)",
            [key.text, token, at.now, last_id(con)],
        )
    _hold(token, Held(frame, at.now))


def splice(
    con: duckdb.DuckDBPyConnection,
    rows: pl.DataFrame,
    key: Key,
    at: AsOf,
    kept: Kept,
) -> pl.DataFrame:
    """Put the recomputed `rows` (sorted by member, decided at `at` with every record in
    the copy) in the kept profiles `kept`, now decided under `key`, and return them all
    in `kept`'s columns (the other rows' time-moved columns as `kept` held them);
    sorted by member when `kept` is whole, else the kept rows first, every one of
    them, with the column `STALE` true on the replaced ones (`_replaced`)."""
    token = uuid.uuid4().hex
    persons = read_frame(con, f"FROM {CHANGED}")["person"]
    narrowed = rows.select(kept.frame.columns).cast(kept.frame.schema)
    if kept.whole:
        frame = _spliced(kept.frame, narrowed, persons)
    else:
        frame = _replaced(kept.frame, narrowed, persons)
    [(tail,)] = con.execute(f"SELECT tail FROM {STATE}").fetchall()
    tail = rows.height + (tail or 0)
    anew = tail > frame.height * TAIL_SHARE
    # Written anew from the frame when it has every column; else DuckDB sorts the table.
    written = anew and kept.whole
    with _transaction(con, rows=rows, **({"frame": frame} if written else {})):
        if written:
            con.execute(f"CREATE OR REPLACE TABLE {TABLE} AS FROM frame")
        else:
            con.execute(f"DELETE FROM {TABLE} WHERE member IN (SELECT person FROM {CHANGED})")
            con.execute(f"INSERT INTO {TABLE} FROM rows")
        if anew and not written:
            con.execute(f"CREATE TABLE {TABLE}_sorted AS FROM {TABLE} ORDER BY member")
            con.execute(f"DROP TABLE {TABLE}")
            con.execute(f"ALTER TABLE {TABLE}_sorted RENAME TO {TABLE}")
        con.execute(
            f"UPDATE {STATE} SET key = ?, token = ?, now = ?, tail = ?, records = ?",
            [key.text, token, at.now, 0 if anew else tail, last_id(con)],
        )
    return frame


def hold(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, at: AsOf) -> None:
    """Hold `frame`, the profiles `splice` just wrote with every row's time-moved
    columns of `at`, under the token written with them."""
    [(token,)] = con.execute(f"SELECT token FROM {STATE}").fetchall()
    _hold(token, Held(frame, at.now))


def _spliced(held: pl.DataFrame, rows: pl.DataFrame, persons: pl.Series) -> pl.DataFrame:
    """`held` (sorted by member) with the rows of `persons` replaced by `rows` (sorted
    by member, the same columns; new persons inserted in order, held rows of `persons`
    without a new row left out); `held` itself is left as it was.

    The replacing rows are scattered into a copy of each column they change (a gather
    of every row costs four times as much); only the rare gone and new persons cost a
    filter and a concatenation of slices.
    """
    if held.is_empty():
        return rows
    at, there = _positions(held["member"], rows["member"])
    frame = pl.DataFrame(
        [_scattered(held[c], at[there], rows[c].filter(there)) for c in held.columns]
    )
    held_at, held_there = _positions(held["member"], persons)
    gone = np.setdiff1d(held_at[held_there], at[there])
    if gone.size:
        keep = np.ones(held.height, dtype=bool)
        keep[gone] = False
        frame = frame.filter(pl.Series(keep))
    if there.all():
        return frame
    new = rows.filter(~there)
    cuts = frame["member"].search_sorted(new["member"]).to_numpy()
    pieces, last = [], 0
    for place, run in zip(*np.unique(cuts, return_index=True), strict=True):
        pieces.append(frame.slice(last, place - last))
        pieces.append(new.slice(run, int(np.searchsorted(cuts, place, side="right")) - run))
        last = place
    return pl.concat([*pieces, frame.slice(last)], rechunk=False)


def _replaced(kept: pl.DataFrame, rows: pl.DataFrame, persons: pl.Series) -> pl.DataFrame:
    """`kept` (in any order) with the rows of `persons` marked `STALE`, then `rows`:
    `_spliced` for profiles read back for some columns, which nothing keeps or ranks,
    so their order need not be kept (sorting what was read back costs twice the read),
    nor the stale rows dropped here: a filter copies every row (0.04 s a million),
    while the caller's filter of the rows it picks drops them for nothing."""
    stale = pl.col("member").is_in(persons.implode()).alias(STALE)
    fresh = rows.with_columns(pl.lit(False).alias(STALE))
    return pl.concat([kept.with_columns(stale), fresh], rechunk=False)


def _scattered(column: pl.Series, at: np.ndarray, values: pl.Series) -> pl.Series:
    """`column` with `values` at the positions `at`: a copy, unless they are the values
    already there (a person's communities, join channel and most counts rarely move)."""
    if column.gather(at).equals(values, null_equal=True):
        return column
    return column.scatter(at, values)


def _positions(members: pl.Series, keys: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each key's position in `members` (sorted; where it would go) and whether it is there."""
    at = members.search_sorted(keys).to_numpy().astype(np.int64)
    there = (members.gather(np.minimum(at, members.len() - 1)) == keys).to_numpy()
    return at, there


def _hold(token: str, held: Held) -> None:
    """Hold the profiles just written under `token` (only the last ones)."""
    _held.clear()
    _held[token] = held


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection, **frames: pl.DataFrame) -> Iterator[None]:
    """One transaction, with `frames` readable by name in its statements."""
    with registered(con, **frames):
        con.execute("BEGIN")
        try:
            yield
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
