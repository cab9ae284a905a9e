"""Reading playbooks from YAML with errors that give the file, the line and the fix.

The YAML-with-line-numbers machinery is `shequn.yamlio`, shared with goal files and
the lifecycle plan.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from shequn.errors import InputError
from shequn.sop.model import Playbook
from shequn.yamlio import kept_when_valid, scan_folder, validate_text


@dataclass(frozen=True)
class Loaded:
    """A valid playbook with where it came from."""

    playbook: Playbook
    path: str
    source: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()


@kept_when_valid
def check(source: str, file: str) -> tuple[Playbook | None, list[InputError]]:
    """Validate one playbook's YAML text: the playbook, or every problem found (a
    valid one kept: the engine reads every playbook each tick; `Playbook` is frozen)."""
    return validate_text(
        source,
        file,
        Playbook,
        what="a playbook",
        start="name: ...",
        docs="docs/sop.md for the fields",
    )


def load_file(path: Path) -> Loaded:
    """Load one playbook file.

    Raises:
        InputError: the first problem, naming the file, line and fix.
    """
    source = path.read_text(encoding="utf-8")
    playbook, problems = check(source, str(path))
    if playbook is None:
        raise problems[0]
    return Loaded(playbook, str(path), source)


def scan(folder: Path) -> tuple[list[Loaded], list[InputError]]:
    """Every playbook in a folder (*.yaml, *.yml), and the problems of the invalid ones."""
    found, problems = scan_folder(folder, check, "playbook")
    return [Loaded(pb, path, source) for pb, path, source in found], problems
