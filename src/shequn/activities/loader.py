"""Reading `activities/*.yaml` with errors that name the file, the line and the fix."""

from __future__ import annotations

from pathlib import Path

from shequn.activities.model import Activity
from shequn.errors import InputError
from shequn.yamlio import scan_folder, validate_text

FOLDER = "activities"


def check(source: str, file: str) -> tuple[Activity | None, list[InputError]]:
    """Validate one activity's YAML text: the activity, or every problem found."""
    return validate_text(
        source,
        file,
        Activity,
        what="an activity",
        start="name: ...",
        docs="docs/activities.md for the fields",
    )


def scan(root: Path) -> tuple[list[Activity], list[InputError]]:
    """Every activity of the workspace at `root`, and the problems of the invalid files."""
    found, problems = scan_folder(root / FOLDER, check, "activity")
    return [activity for activity, _path, _source in found], problems


def files_seen(root: Path) -> tuple[tuple[str, int, int], ...]:
    """(name, mtime in ns, size) of each activity file: what changes when one is added,
    edited or removed (a long-running reader rescans only then)."""
    folder = root / FOLDER
    if not folder.is_dir():
        return ()
    found = []
    for path in sorted(folder.glob("*.y*ml")):
        stat = path.stat()
        found.append((path.name, stat.st_mtime_ns, stat.st_size))
    return tuple(found)
