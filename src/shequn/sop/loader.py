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
from shequn.yamlio import validate_text


@dataclass(frozen=True)
class Loaded:
    """A valid playbook with where it came from."""

    playbook: Playbook
    path: str
    source: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()


def check(source: str, file: str) -> tuple[Playbook | None, list[InputError]]:
    """Validate one playbook's YAML text: the playbook, or every problem found."""
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
    loaded: list[Loaded] = []
    problems: list[InputError] = []
    names: dict[str, str] = {}
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        source = path.read_text(encoding="utf-8")
        playbook, found = check(source, str(path))
        if playbook is None:
            problems.extend(found)
        elif playbook.name in names:
            problems.append(
                InputError(
                    f"playbook name {playbook.name!r} is also used by {names[playbook.name]}",
                    path=str(path),
                    line=1,
                    field="name",
                    hint="give every playbook its own name",
                )
            )
        else:
            names[playbook.name] = str(path)
            loaded.append(Loaded(playbook, str(path), source))
    return loaded, problems
