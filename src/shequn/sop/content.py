"""The content library: `content/<name>.md` (or `.txt`) items that steps send.

An item is optional YAML front matter (`title`, `image`, `link`) between `---` lines,
then the body, a Jinja2 template rendered in the sandbox with the step's variables.
A missing or malformed item is reported when playbooks are validated or loaded, with
the playbook's file and line and the path that was looked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from shequn.errors import InputError
from shequn.yamlio import line_of

FOLDER = "content"
SUFFIXES = (".md", ".txt")
FRONT_MATTER = ("title", "image", "link")
_ENV = SandboxedEnvironment(autoescape=False)


@dataclass(frozen=True)
class Item:
    """One content item: front matter and the body template."""

    name: str
    path: Path
    body: str
    title: str = ""
    image: str = ""
    link: str = ""


class ContentError(Exception):
    """A content item is missing or cannot be read; the message names the path."""


def _split(text: str, path: Path) -> tuple[dict[str, Any], str]:
    """Front matter and body; the front matter is the block between two `---` lines."""
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---", 4)
    if end < 0:
        raise ContentError(f"{path}:1: front matter opened with --- is never closed")
    try:
        meta = yaml.safe_load(text[4:end]) or {}
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: front matter is not valid YAML: {exc}") from None
    if not isinstance(meta, dict) or set(meta) - set(FRONT_MATTER):
        raise ContentError(
            f"{path}: front matter may hold only {', '.join(FRONT_MATTER)} "
            f"(found {', '.join(map(str, meta)) if isinstance(meta, dict) else 'no mapping'})"
        )
    return meta, text[end + 4 :].lstrip("\n")


def read_item(folder: Path, name: str) -> Item:
    """Read `<folder>/<name>.md` or `.txt`.

    Raises:
        ContentError: missing (naming every path looked for), unreadable or malformed.
    """
    candidates = [folder / f"{name}{suffix}" for suffix in SUFFIXES]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise ContentError(
            f"content item {name!r} not found: looked for {' and '.join(map(str, candidates))}"
        )
    try:
        text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError:
        raise ContentError(f"{path}: not UTF-8; save the file as UTF-8") from None
    meta, body = _split(text, path)
    try:
        _ENV.parse(body)
    except TemplateSyntaxError as exc:
        raise ContentError(
            f"{path}: the body does not compile as a template ({exc.message}, "
            f"line {exc.lineno} of the body)"
        ) from None
    return Item(name, path, body, **{k: str(meta.get(k) or "") for k in FRONT_MATTER})


@dataclass
class Library:
    """The workspace's content folder, read once per tick (None: no workspace)."""

    folder: Path | None
    _items: dict[str, Item | ContentError] = field(default_factory=dict)

    def get(self, name: str) -> Item:
        """The item, cached.

        Raises:
            ContentError: as read_item; also when there is no content folder at all.
        """
        if self.folder is None:
            raise ContentError(f"content item {name!r}: no workspace content folder here")
        if name not in self._items:
            try:
                self._items[name] = read_item(self.folder, name)
            except ContentError as exc:
                self._items[name] = exc
        found = self._items[name]
        if isinstance(found, ContentError):
            raise found
        return found


def _content_line(source: str, step: int) -> int | None:
    """The line of `steps[step].action.content` in a playbook's YAML text."""
    return line_of(source, ("steps", step, "action", "content"))


def check_playbook(playbook: Any, path: str, source: str, library: Library) -> list[InputError]:
    """A problem per step whose content item is missing or malformed.

    Args:
        playbook: a valid `shequn.sop.model.Playbook`.
        path: its file, for the message.
        source: its YAML text, to find the line.
        library: the workspace's content.
    """
    problems = []
    for i, step in enumerate(playbook.steps):
        name = getattr(step.action, "content", None)
        if not name:
            continue
        try:
            library.get(name)
        except ContentError as exc:
            problems.append(
                InputError(
                    str(exc),
                    path=path,
                    line=_content_line(source, i),
                    field=f"steps.{i}.action.content",
                    hint=f"create {FOLDER}/{name}.md in the workspace, or fix the name",
                )
            )
    return problems


def library_for(workspace: Path | None) -> Library:
    """The content library of the workspace at (or above) `workspace`; none outside one."""
    from shequn.errors import WorkspaceError
    from shequn.workspace import find_root

    try:
        root = find_root(workspace)
    except WorkspaceError:
        return Library(None)
    return Library(root / FOLDER)
