"""The schema check that every command makes: cheap when current, Alembic's own otherwise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, inspect, text

from shequn.store.engine import open_engine, write_transaction
from shequn.store.migrate import (
    MIGRATIONS,
    current_revision,
    head_revision,
    migrate,
    script_head,
    stored_revisions,
)
from shequn.workspace import Workspace
from tests.helpers.process import child_env


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return open_engine(f"sqlite:///{tmp_path / 'store.db'}")


def _upgrade_to(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with write_transaction(engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def test_the_scripts_head_is_alembics() -> None:
    assert script_head() == head_revision()


def test_a_new_store_is_migrated_once(engine: Engine) -> None:
    assert stored_revisions(engine) == () and current_revision(engine) is None
    assert migrate(engine) is True
    assert stored_revisions(engine) == (head_revision(),) == (current_revision(engine),)
    assert migrate(engine) is False


def test_a_store_one_revision_behind_is_upgraded(engine: Engine) -> None:
    head = head_revision()
    before = ScriptDirectory(str(MIGRATIONS)).get_revision(head).down_revision
    assert isinstance(before, str)
    _upgrade_to(engine, before)
    assert stored_revisions(engine) == (before,)
    assert migrate(engine) is True
    assert stored_revisions(engine) == (head,)


def test_a_store_from_a_newer_shequn_fails_as_alembic_says(engine: Engine) -> None:
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(CommandError, match="9999"):
        migrate(engine)


def test_the_head_read_from_script_lines(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (tmp_path / "b.py").write_text('revision: str = "b"\ndown_revision = "a"\n')
    (tmp_path / "c.py").write_text('revision = "c"\ndown_revision = "a"\n')
    (tmp_path / "notes.py").write_text('"""not a migration"""\n')
    assert script_head(tmp_path) is None  # two heads: Alembic decides (and refuses)
    (tmp_path / "d.py").write_text('revision = "d"\ndown_revision = ("b", "c")  # merge\n')
    assert script_head(tmp_path) == "d"
    (tmp_path / "e.py").write_text("revision = 'e'\ndown_revision: str | None = 'd'\n")
    assert script_head(tmp_path) == "e"


def test_a_revision_not_on_one_line_leaves_the_head_to_alembic(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (tmp_path / "b.py").write_text('revision = "b"\ndown_revision = (\n    "a",\n)\n')
    assert script_head(tmp_path) is None


def test_both_engines_read_the_stored_version(ws: Workspace) -> None:
    assert stored_revisions(ws.engine) == (current_revision(ws.engine),) == (head_revision(),)


def test_opening_a_current_store_imports_no_alembic(ws: Workspace) -> None:
    code = (
        "import sys; from pathlib import Path; from shequn.workspace import Workspace; "
        f"Workspace.open(Path({str(ws.root)!r})).engine; "
        "print('alembic' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_the_merged_member_keys_are_read_through_their_index(ws: Workspace) -> None:
    from shequn.analytics.sync import MERGED_KEYS

    names = {i["name"] for i in inspect(ws.engine).get_indexes("members")}
    assert "ix_members_merged" in names
    if ws.engine.dialect.name == "sqlite":  # PostgreSQL scans a table this small anyway
        query = str(MERGED_KEYS.compile(ws.engine))
        with ws.engine.connect() as conn:
            plan = " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {query}")))
        assert "USING INDEX ix_members_merged" in plan, plan
