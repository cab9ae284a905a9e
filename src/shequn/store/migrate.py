"""Bringing a database to the current schema with Alembic.

Every command opens the store through `migrate`, so checking that the schema is current
is kept cheap: the stored version is one SELECT and the newest revision is read from
the migration scripts' own `revision = ...` lines, and Alembic (~0.2 s to import) is
imported only when they differ, to upgrade or to raise its own error.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from shequn.store.engine import write_transaction

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def stored_revisions(engine: Engine) -> tuple[str, ...]:
    """The revisions in the version table, without Alembic; () before the first migration."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return ()
        rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
        return tuple(rows.scalars())


def script_head(versions: Path = MIGRATIONS / "versions") -> str | None:
    """The one revision no script revises, read without Alembic; None if not exactly one
    (or a script's revisions cannot be read from its lines: Alembic then decides)."""
    revised: set[str] = set()
    revisions: set[str] = set()
    for script in versions.glob("*.py"):
        assigned = _assignments(script)
        if assigned is None:
            return None
        if "revision" in assigned:
            revisions.update(assigned["revision"])
            revised.update(assigned.get("down_revision", ()))
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


# `revision = "0010"`, `down_revision: str | None = None`, `down_revision = ("a", "b")`
# at the start of a line. Read by pattern, not `ast.parse`: on Python 3.11, parsing in
# two threads at once can fail with a spurious "AST constructor recursion depth
# mismatch" SystemError (CPython gh-106905), and workspaces are opened in threads
# (`shequn run`, the console).
_ASSIGNED = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.*)$", re.MULTILINE)
_QUOTED = re.compile(r"""["']([^"']+)["']""")


def _assignments(script: Path) -> dict[str, tuple[str, ...]] | None:
    """A migration script's module-level `revision` and `down_revision`, each as a tuple
    of revisions (a merge revises several; the first revises none); None when a value
    is not a literal on one line."""
    found: dict[str, tuple[str, ...]] = {}
    for name, value in _ASSIGNED.findall(script.read_text(encoding="utf-8")):
        value = value.split("#")[0].strip()
        if value == "None":
            found[name] = ()
        elif value.count("(") == value.count(")") and (quoted := _QUOTED.findall(value)):
            found[name] = tuple(quoted)
        else:
            return None
    return found


def migrate(engine: Engine) -> bool:
    """Upgrade to the newest schema; True if anything was done. Cheap when current."""
    head = script_head()
    if head is not None and stored_revisions(engine) == (head,):
        return False
    if current_revision(engine) == head_revision():
        return False
    from alembic import command

    with write_transaction(engine) as conn:
        config = _config()
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return True
