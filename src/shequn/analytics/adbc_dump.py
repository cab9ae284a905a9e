"""Read a range of events from a SQLite store with ADBC, in a process of its own.

ADBC bundles its own copy of SQLite. Two SQLite libraries in one process do not see
each other's POSIX locks or WAL index, so ADBC must never open the live store in a
process that also holds it through the sqlite3 module (the workspace engine): it may
read a stale snapshot, or checkpoint the WAL under the other library's feet. A child
process has its own locks, so SQLite's normal cross-process locking applies.

    python -m shequn.analytics.adbc_dump STORE_PATH LO HI   # Arrow IPC stream on stdout
"""

from __future__ import annotations

import sys

import pyarrow as pa

from shequn.analytics.copy import STORE_COLUMNS, store_select

SCHEMA = pa.schema(
    [(name, pa.int64() if name in ("id", "ts") else pa.string()) for name in STORE_COLUMNS]
)


def read_range(path: str, lo: int, hi: int) -> pa.Table:
    """Events with lo < id <= hi from the SQLite file at `path`, as SCHEMA."""
    import adbc_driver_sqlite.dbapi as adbc

    query = (
        f"SELECT {store_select()} FROM events WHERE id > {int(lo)} AND id <= {int(hi)} ORDER BY id"
    )
    with adbc.connect(path) as conn, conn.cursor() as cur:
        # One Arrow batch for the whole range: ADBC infers each column's type from its
        # first batch, and a text column that starts with NULLs would come out int64.
        cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(hi - lo + 1)})
        cur.execute(query)
        table = cur.fetch_arrow_table()
    return table.cast(SCHEMA)


def main(argv: list[str]) -> None:
    path, lo, hi = argv[0], int(argv[1]), int(argv[2])
    table = read_range(path, lo, hi)
    with pa.ipc.new_stream(sys.stdout.buffer, SCHEMA) as writer:
        writer.write_table(table)


if __name__ == "__main__":
    main(sys.argv[1:])
