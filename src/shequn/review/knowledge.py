"""The knowledge base of improvement actions: bilingual YAML, extensible per workspace.

The built-in file is `shequn/review/knowledge/actions.yaml`; every `*.yaml` file in
`<workspace>/knowledge/` is merged over it in name order (same `id` replaces an action,
`disabled: true` removes it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shequn.errors import InputError
from shequn.review.i18n import LANGS

BUILTIN = Path(__file__).parent / "knowledge" / "actions.yaml"
PLAYBOOKS = (
    "newcomer-7day",
    "daily-routine",
    "weekly-sharing",
    "activity-campaign",
    "conversion-push",
    "silent-care",
    "referral-campaign",
    "dissolution",
)
STAGES = ("traffic", "activity", "conversion", "repurchase", "retention", "referral", "growth")
_FIELDS = {"id", "stage", "playbook", "title", "detail", "disabled"}


@dataclass(frozen=True)
class Action:
    """One suggested action for a stage, in every language, and its playbook."""

    id: str
    stage: str
    playbook: str
    title: dict[str, str]
    detail: dict[str, str]
    source: str = ""


def _fail(path: Path, line: int | None, message: str) -> InputError:
    return InputError(
        message,
        path=str(path),
        line=line,
        hint="see docs/review.md, 'Extending the knowledge base', for the form of an action",
    )


def _entries(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """The action mappings of one file, each with its line number."""
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise _fail(path, line, f"invalid YAML: {exc.problem or exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(path, None, f"cannot read: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("actions"), list):
        raise _fail(path, 1, "expected a mapping with a list under `actions`")
    assert root is not None
    nodes = next(v for k, v in root.value if k.value == "actions").value
    return [
        (node.start_mark.line + 1, item) for node, item in zip(nodes, data["actions"], strict=True)
    ]


def _action(path: Path, line: int, item: Any) -> Action | str:
    """Validate one entry: an Action, or the id of an action to remove."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
        raise _fail(path, line, "each action needs a non-empty `id`")
    if unknown := set(item) - _FIELDS:
        raise _fail(path, line, f"action {item['id']!r}: unknown field(s) {sorted(unknown)}")
    if item.get("disabled"):
        return item["id"]
    if item.get("stage") not in STAGES:
        raise _fail(path, line, f"action {item['id']!r}: stage must be one of {', '.join(STAGES)}")
    if item.get("playbook") not in PLAYBOOKS:
        raise _fail(
            path, line, f"action {item['id']!r}: playbook must be one of {', '.join(PLAYBOOKS)}"
        )
    for name in ("title", "detail"):
        value = item.get(name)
        if not isinstance(value, dict) or any(
            not isinstance(value.get(lang), str) or not value[lang].strip() for lang in LANGS
        ):
            raise _fail(
                path, line, f"action {item['id']!r}: `{name}` needs text for {' and '.join(LANGS)}"
            )
    return Action(
        item["id"],
        item["stage"],
        item["playbook"],
        {lang: item["title"][lang] for lang in LANGS},
        {lang: item["detail"][lang] for lang in LANGS},
        source=f"{path}:{line}",
    )


def load_knowledge(extra: Iterable[Path] = ()) -> list[Action]:
    """The built-in actions with the files in `extra` merged over them, in order.

    Raises:
        InputError: naming the file and line of an invalid file or action.
    """
    merged: dict[str, Action] = {}
    for path in (BUILTIN, *extra):
        for line, item in _entries(path):
            found = _action(path, line, item)
            if isinstance(found, str):
                merged.pop(found, None)
            else:
                merged[found.id] = found
    return list(merged.values())


def workspace_knowledge(root: Path) -> list[Action]:
    """The knowledge base of the workspace at `root` (built-in plus `knowledge/*.yaml`)."""
    folder = root / "knowledge"
    return load_knowledge(sorted(folder.glob("*.yaml")) if folder.is_dir() else ())


def actions_for(knowledge: Iterable[Action], stages: Iterable[str]) -> list[Action]:
    """The actions for `stages`, in the order the stages are given, without repeats."""
    pool = list(knowledge)
    chosen: list[Action] = []
    for stage in dict.fromkeys(stages):
        chosen.extend(a for a in pool if a.stage == stage and a not in chosen)
    return chosen
