"""A workspace: a folder with shequn.toml, playbooks/, content/ and data/."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from shequn.config import SETTINGS_FILE, Settings, database_url, load_settings
from shequn.errors import WorkspaceError
from shequn.store.engine import open_engine, unreachable
from shequn.store.migrate import migrate

WORKSPACE_ENV = "SHEQUN_WORKSPACE"
FOLDERS = ("playbooks", "content", "data")


@dataclass
class Workspace:
    root: Path
    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)

    @classmethod
    def open(cls, root: Path | None = None) -> Workspace:
        """Open the workspace at root, $SHEQUN_WORKSPACE, or the nearest one above cwd."""
        root = find_root(root)
        return cls(root, load_settings(root))

    @cached_property
    def database_url(self) -> str:
        return database_url(self.root, self.settings)

    @property
    def engine(self) -> Engine:
        """The store, migrated to the current schema on first use."""
        if self._engine is None:
            (self.root / "data").mkdir(exist_ok=True)
            engine = open_engine(self.database_url)
            try:
                migrate(engine)
            except OperationalError as exc:
                engine.dispose()
                raise unreachable(engine, exc) from None
            self._engine = engine
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def find_root(root: Path | None) -> Path:
    if root is not None:
        return root.resolve()
    if os.environ.get(WORKSPACE_ENV):
        return Path(os.environ[WORKSPACE_ENV]).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / SETTINGS_FILE).is_file():
            return candidate
    raise WorkspaceError(
        f"no {SETTINGS_FILE} in {here} or any folder above it",
        hint="run `shequn init DIR` to create a workspace, or pass --workspace DIR",
    )
