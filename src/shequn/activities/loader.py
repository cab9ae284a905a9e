"""Reading `activities/*.yaml` with errors that name the file, the line and the fix."""

from __future__ import annotations

from pathlib import Path

from shequn.activities.model import Activity
from shequn.errors import InputError
from shequn.yamlio import validate_text

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
    folder = root / FOLDER
    found: list[Activity] = []
    problems: list[InputError] = []
    names: dict[str, str] = {}
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        activity, errors = check(path.read_text(encoding="utf-8"), str(path))
        if activity is None:
            problems.extend(errors)
        elif activity.name in names:
            problems.append(
                InputError(
                    f"activity name {activity.name!r} is also used by {names[activity.name]}",
                    path=str(path),
                    line=1,
                    field="name",
                    hint="give every activity its own name",
                )
            )
        else:
            names[activity.name] = str(path)
            found.append(activity)
    return found, problems
