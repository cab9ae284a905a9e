"""Which playbooks are in force: one rule for the engine and for the dry runs.

Valid files run. A file whose current version is invalid (or names a content item
that is missing or malformed, or a template variable that does not exist) is
rejected with its problems, and the last valid version the engine stored for it
keeps running. A stored playbook whose file is gone stops.
The engine then records what changed (`services.sop.sync_playbooks`); `sop plan` and
`sop replay` only read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection
from sqlalchemy import select as sa_select

from shequn.errors import InputError
from shequn.sop.content import FOLDER, Library, check_playbook
from shequn.sop.loader import Loaded, check, scan
from shequn.sop.model import Playbook
from shequn.sop.template_check import check_templates
from shequn.store.sop_schema import playbooks


class Stored(Protocol):
    """A playbook version the engine stored (a row of `sop_playbooks`)."""

    path: str
    source: str


@dataclass
class Selection:
    """The playbooks in force, and what the engine must record about them."""

    loaded: list[Loaded] = field(default_factory=list)  # valid files
    running: list[Playbook] = field(default_factory=list)  # loaded + kept previous versions
    problems: list[InputError] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # stored names whose file is gone


def select(
    folder: Path,
    library: Library | None,
    stored: Mapping[str, Stored],
    generated: tuple[list[Playbook], list[InputError]] = ([], []),
) -> Selection:
    """The playbooks of `folder` in force, given the versions the engine stored.

    `generated` are playbooks made from other workspace files (the promotion plans of
    `activities/`, `shequn.activities.plan`) and those files' problems: they run beside
    the files' playbooks; a name already used by a file is left to the file.
    """
    loaded, problems = scan(folder)
    if library is not None:
        kept = []
        for item in loaded:
            found = check_playbook(item.playbook, item.path, item.source, library)
            found += check_templates(item.playbook, item.path, item.source, library)
            problems = [*problems, *found]
            if not found:
                kept.append(item)
        loaded = kept
    chosen = Selection(loaded, [item.playbook for item in loaded], problems)
    names = {pb.name for pb in chosen.running}
    bad_paths = {p.path for p in problems}
    for name in sorted(stored):
        if name in names:
            continue
        row = stored[name]
        if row.path in bad_paths:  # an invalid edit: the previous version keeps running
            previous, _ = check(row.source, row.path)
            if previous is not None:
                chosen.running.append(previous)
        else:
            chosen.gone.append(name)
    extra, problems = generated
    taken = {pb.name for pb in chosen.running}
    chosen.running.extend(pb for pb in extra if pb.name not in taken)
    chosen.problems.extend(problems)
    return chosen


def in_force(
    conn: Connection,
    folder: Path,
    generated: tuple[list[Playbook], list[InputError]] = ([], []),
) -> tuple[list[Playbook], list[InputError]]:
    """The playbooks the engine runs (`sop.selection`), read-only; and the problems.

    `generated`: as for `select` (the activities' promotion plans, which the dry runs
    pass so they list what the engine will run)."""
    query = sa_select(playbooks.c.name, playbooks.c.path, playbooks.c.source)
    stored = {row.name: row for row in conn.execute(query)}
    chosen = select(folder, Library(folder.parent / FOLDER), stored, generated)
    return chosen.running, chosen.problems
