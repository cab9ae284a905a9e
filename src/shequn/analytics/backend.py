"""Where the engine's statements run: DuckDB (the copy itself) or ClickHouse in-process.

Every statement of the engine is written once, in DuckDB's dialect, restricted to
constructs that SQLGlot transpiles to ClickHouse and that mean the same there
(docs/adr/0004-analytics-engines.md lists them). `DuckBackend` runs the text as it is;
`ChdbBackend` runs `to_clickhouse(text)` in a chDB session (the `clickhouse` extra)
loaded with the same columnar copy tables. This is the path for a workspace that
outgrows one machine: the same SQL on a ClickHouse server.

    >>> db = ChdbBackend.from_copy(con)  # doctest: +SKIP
    >>> compute(db, date(2026, 3, 1), date(2026, 4, 1), zone=zone)  # doctest: +SKIP
"""

from __future__ import annotations

import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import duckdb

# The copy's tables the engine reads (shequn.analytics.copy).
COPY_TABLES = (
    "events",
    "first_touch",
    "community_start",
    "member_days",
    "order_totals",
    "members",
    "sop_tasks",
)

# ClickHouse settings that make its SQL mean what DuckDB's does:
# - join_use_nulls: an unmatched LEFT JOIN row has NULLs, not the type's default;
# - group_by_use_nulls: a column left out of a grouping set is NULL, not '' or 0;
# - prefer_column_name_to_alias: `MIN(ts) AS ts` does not shadow the column `ts`
#   elsewhere in the same SELECT.
CLICKHOUSE_SETTINGS = {
    "join_use_nulls": 1,
    "group_by_use_nulls": 1,
    "prefer_column_name_to_alias": 1,
}


class Backend(Protocol):
    """A SQL engine holding the copy's tables, for the staged statements."""

    name: str

    def execute(self, statement: str) -> None:
        """Run a statement that returns nothing (CREATE, DROP)."""
        ...

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        """Run a query; its rows as tuples of Python values (Decimal for money)."""
        ...


class DuckBackend:
    """A DuckDB cursor on the copy: the statements run as written."""

    name = "duckdb"

    def __init__(self, cursor: duckdb.DuckDBPyConnection) -> None:
        self.cursor = cursor

    def execute(self, statement: str) -> None:
        self.cursor.execute(statement)

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        return self.cursor.execute(query).fetchall()


@lru_cache(maxsize=256)
def to_clickhouse(statement: str) -> str:
    """The ClickHouse text of one DuckDB-dialect statement.

    Raises:
        sqlglot.errors.UnsupportedError: the statement uses a construct SQLGlot
            cannot express in ClickHouse (the engine's SQL must avoid it).
    """
    import sqlglot
    from sqlglot.errors import ErrorLevel
    from sqlglot.optimizer.eliminate_ctes import eliminate_ctes

    tree = sqlglot.parse_one(statement, read="duckdb").transform(_name_qualified_columns)
    # The shared CTE prelude is in every statement; ClickHouse analyses even the unused.
    tree = eliminate_ctes(tree)
    return tree.sql(dialect="clickhouse", unsupported_level=ErrorLevel.RAISE)


def _name_qualified_columns(node: Any) -> Any:
    """`SELECT a.x` as `SELECT a.x AS x`: where several joined tables have a column
    `x`, ClickHouse names the output column `a.x`, DuckDB names it `x`."""
    from sqlglot import exp

    if isinstance(node, exp.Select):
        node.set(
            "expressions",
            [
                exp.alias_(e, e.name)
                if isinstance(e, exp.Column) and e.table and not isinstance(e.this, exp.Star)
                else e
                for e in node.expressions
            ],
        )
    return node


class ChdbBackend:
    """A chDB (in-process ClickHouse) session loaded with the copy's tables."""

    name = "clickhouse"

    def __init__(self, session: Any, scratch: Path) -> None:
        self.session = session
        self._scratch = scratch

    @classmethod
    def from_copy(cls, con: duckdb.DuckDBPyConnection) -> ChdbBackend:
        """A fresh session with the copy's tables, handed over as Parquet files."""
        try:
            from chdb import session as chdb_session
        except ModuleNotFoundError as exc:  # pragma: no cover - depends on the extra
            raise ModuleNotFoundError(
                "ClickHouse in-process needs chDB: pip install 'shequn[clickhouse]'"
            ) from exc
        scratch = Path(tempfile.mkdtemp(prefix="shequn-chdb-"))
        backend = cls(chdb_session.Session(str(scratch / "db")), scratch)
        for name, value in CLICKHOUSE_SETTINGS.items():
            backend.session.query(f"SET {name} = {value}")
        cur = con.cursor()
        try:
            for table in COPY_TABLES:
                path = scratch / f"{table}.parquet"
                # Parquet keeps the column types: BIGINT, DECIMAL(38, 10), nullability.
                cur.execute(f"COPY {table} TO '{path}' (FORMAT parquet)")
                backend.session.query(
                    f"CREATE TABLE {table} ENGINE = Memory AS SELECT * FROM file('{path}', Parquet)"
                )
                path.unlink()
        finally:
            cur.close()
        return backend

    def execute(self, statement: str) -> None:
        self.session.query(to_clickhouse(statement))

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        table = self.session.query(to_clickhouse(query), "ArrowTable")
        columns = [column.to_pylist() for column in table.columns]
        return list(zip(*columns, strict=True)) if columns else []

    def close(self) -> None:
        """End the session and remove its files."""
        self.session.close()
        shutil.rmtree(self._scratch, ignore_errors=True)
