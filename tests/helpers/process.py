"""Child Python processes that run this tree's code, not an installed copy of shequn."""

from __future__ import annotations

import os

from tests.helpers.paths import ROOT


def child_env() -> dict[str, str]:
    """The environment for a child `python`: this tree's src/ and root first on the path.

    The root makes `tests.*` importable (`python -m tests.sop.engine_proc`); src/ comes
    first so a worktree tests its own shequn even when the venv has another installed.
    """
    paths = [str(ROOT / "src"), str(ROOT)]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
