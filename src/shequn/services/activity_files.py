"""Writing `activities/*.yaml` from the console: validated as the loader validates them,
refused whole when invalid, replaced atomically when valid, audited.

The text is checked with `shequn.activities.loader.check` (the same errors, lines and
fixes as `shequn activities list`); a file is written only when it has no problem, so an
invalid edit leaves the file on disk as it was.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shequn.activities.loader import FOLDER, check
from shequn.activities.model import Activity
from shequn.clock import Clock, SystemClock
from shequn.errors import InputError
from shequn.services import audit
from shequn.store.engine import write_transaction
from shequn.workspace import Workspace
from shequn.yamlio import scan_folder

FILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class ActivityFile:
    """An activity's file: its path relative to the workspace, and its text."""

    file: str  # e.g. activities/talk.yaml
    source: str
    activity: Activity | None


def find(ws: Workspace, name: str) -> ActivityFile:
    """The file declaring the (valid) activity `name`.

    Raises:
        InputError: no valid activity has that name.
    """
    found, _problems = scan_folder(ws.root / FOLDER, check, "activity")
    for activity, path, source in found:
        if activity.name == name:
            return ActivityFile(_relative(ws, Path(path)), source, activity)
    raise InputError(
        f"no activity {name!r}",
        hint=f"use one of: {', '.join(a.name for a, _p, _s in found) or '(none in activities/)'}",
    )


def new_file(ws: Workspace, stem: str) -> str:
    """`activities/<stem>.yaml` for a new activity, the stem checked.

    Raises:
        InputError: the stem is not a plain name, or a file of that name exists.
    """
    if not FILE_NAME.match(stem):
        raise InputError(
            f"{stem!r} is not a file name",
            field="file",
            hint="use lower-case letters, digits, '-' and '_' (no '/' or '.')",
        )
    folder = ws.root / FOLDER
    for suffix in (".yaml", ".yml"):
        if (folder / f"{stem}{suffix}").exists():
            raise InputError(
                f"{FOLDER}/{stem}{suffix} exists", field="file", hint="choose another name"
            )
    return f"{FOLDER}/{stem}.yaml"


def save(
    ws: Workspace,
    file: str,
    source: str,
    may_operate: Callable[[str], bool],
    clock: Clock | None = None,
) -> tuple[Activity | None, list[InputError]]:
    """Validate `source` and, when it has no problem, write it to `file` (relative to the
    workspace) atomically and audit the edit: the activity, or every problem found.

    Args:
        may_operate: whether the editing user may operate a community; an activity moved
            to a community outside the user's scope is a problem.
    """
    activity, problems = check(source, file)
    if activity is not None:
        problems = _conflicts(ws, file, activity, may_operate)
    if problems or activity is None:
        return None, problems
    path = ws.root / file
    created = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.edit")
    temporary.write_text(source, encoding="utf-8")
    os.replace(temporary, path)
    with write_transaction(ws.engine) as conn:
        audit.record(
            conn,
            clock or SystemClock(),
            "activity.create" if created else "activity.edit",
            file=file,
            activity=activity.name,
            community=activity.community,
        )
    return activity, []


def _conflicts(
    ws: Workspace, file: str, activity: Activity, may_operate: Callable[[str], bool]
) -> list[InputError]:
    """The scope and name problems of a valid activity about to be written to `file`."""
    problems = []
    if not may_operate(activity.community):
        problems.append(
            InputError(
                f"{activity.community!r} is outside the communities you may operate",
                path=file,
                field="community",
                hint="keep the activity in a community you look after",
            )
        )
    found, _problems = scan_folder(ws.root / FOLDER, check, "activity")
    for other, path, _source in found:
        if other.name == activity.name and _relative(ws, Path(path)) != file:
            problems.append(
                InputError(
                    f"activity name {activity.name!r} is also used by {_relative(ws, Path(path))}",
                    path=file,
                    line=1,
                    field="name",
                    hint="give every activity its own name",
                )
            )
    return problems


def _relative(ws: Workspace, path: Path) -> str:
    return path.relative_to(ws.root).as_posix()
