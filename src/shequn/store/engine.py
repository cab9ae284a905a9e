"""Opening a database: SQLite in WAL mode, or PostgreSQL through psycopg 3."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError

from shequn.errors import WorkspaceError
from shequn.redact import parse, redact

# How long a writer waits for another writer before giving up (an import holds the
# write lock for its whole transaction; readers never wait in WAL mode).
SQLITE_BUSY_TIMEOUT_MS = 600_000


def open_engine(url: str) -> Engine:
    """An engine for a database URL, set up for shequn's access pattern."""
    parsed = parse(url)
    if parsed is None:
        raise WorkspaceError(
            f"{redact(url)} is not a database URL",
            hint="write sqlite:///path/to/file.db or postgresql://user@host/dbname "
            "(a password goes only in $SHEQUN_DATABASE_URL)",
        )
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            import psycopg  # noqa: F401
        except ModuleNotFoundError:
            raise WorkspaceError(
                "PostgreSQL needs the psycopg driver",
                hint="pip install 'shequn[postgres]'",
            ) from None
        return create_engine(parsed, pool_pre_ping=True)
    raise WorkspaceError(
        f"unsupported database {backend!r}",
        hint="use sqlite:///path/to/file.db or postgresql://user@host/dbname",
    )


def unreachable(engine: Engine, exc: OperationalError) -> WorkspaceError:
    """The one-line error for a database that cannot be reached, with the fix."""
    reason = str(exc.orig or exc).strip().splitlines()[0]
    where = redact(engine.url)
    if engine.dialect.name == "postgresql":
        hint = (
            "start PostgreSQL, or correct the host, port and database name in "
            "$SHEQUN_DATABASE_URL (or database_url in shequn.toml); check with "
            "`pg_isready -h HOST -p PORT`"
        )
    else:
        hint = "check that the data/ folder exists and is writable, and the disk is not full"
    return WorkspaceError(f"cannot open the database {where}: {reason}", hint=hint)


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" event issue BEGIN, so writers can ask for IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA cache_size=-262144")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute("PRAGMA mmap_size=1073741824")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writer takes the lock up front: a deferred transaction that reads and then
        # writes can fail at once with "database is locked" instead of waiting.
        if conn.get_execution_options().get("shequn_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One all-or-nothing write transaction."""
    with engine.connect() as conn:
        conn = conn.execution_options(shequn_write=True)
        with conn.begin():
            yield conn


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A consistent snapshot for reading."""
    with engine.connect() as conn, conn.begin():
        yield conn
