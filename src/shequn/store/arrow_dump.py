"""Run one query on a SQLite file with ADBC, in a process of its own; Arrow on stdout.

ADBC bundles its own copy of SQLite. Two SQLite libraries in one process do not see
each other's POSIX locks or WAL index, so ADBC must never open the live store in a
process that also holds it through the sqlite3 module (the workspace engine): it may
read a stale snapshot, or checkpoint the WAL under the other library's feet. A child
process has its own locks, so SQLite's normal cross-process locking applies.

The child imports only pyarrow and ADBC's driver manager (not its DB-API module, which
pulls in pandas and polars): it is started once per range of a cold build, and its
start-up is paid each time.

    python -m shequn.store.arrow_dump STORE_PATH MAX_ROWS "SELECT …"   # Arrow IPC stream on stdout
"""

from __future__ import annotations

import sys

import pyarrow as pa


def read(path: str, query: str, rows: int) -> pa.Table:
    """The result of `query` (at most `rows` rows) on the SQLite file at `path`."""
    import adbc_driver_manager as adbc
    import adbc_driver_sqlite

    with (
        adbc_driver_sqlite.connect(path) as database,
        adbc.AdbcConnection(database) as conn,
        adbc.AdbcStatement(conn) as statement,
    ):
        # ADBC infers each column's type from its first batch, and a text column that
        # starts with NULLs would come out int64: one batch for the whole result.
        statement.set_options(**{"adbc.sqlite.query.batch_rows": str(max(1, rows))})
        statement.set_sql_query(query)
        stream, _rows = statement.execute_query()
        return pa.RecordBatchReader._import_from_c(stream.address).read_all()


def main(argv: list[str]) -> None:
    table = read(argv[0], argv[2], int(argv[1]))
    with pa.ipc.new_stream(sys.stdout.buffer, table.schema) as writer:
        writer.write_table(table)


if __name__ == "__main__":
    main(sys.argv[1:])
