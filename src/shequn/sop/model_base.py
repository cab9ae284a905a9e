"""Building blocks of the playbook models: the strict base, template and duration checks,
and the text of a message-like action (shared by `sop.model` and `sop.action_kinds`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shequn.sop.timing import parse_offset

_TEMPLATES = SandboxedEnvironment(autoescape=False)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActionModel(Protocol):
    """What every action kind's model has: `type`, its kind's name (a Literal)."""

    @property
    def type(self) -> str: ...


def duration(rule: str, example: str) -> Callable[[str], str]:
    """A validator: the offset is a duration (`+2h`), not a clock time (`+1d 20:00`)."""

    def check(value: str) -> str:
        if parse_offset(value).at is not None:
            raise ValueError(f"{value!r}: {rule}; write {example}")
        return value

    return check


def compiles(value: str | None) -> str | None:
    """A validator: the Jinja2 template compiles."""
    if value is None:
        return value
    try:
        _TEMPLATES.parse(value)
    except TemplateSyntaxError as exc:
        raise ValueError(
            f"the template does not compile ({exc.message}, template line {exc.lineno}); "
            "check {{ ... }} and {% ... %} pairs"
        ) from None
    return value


class TextAction(Strict):
    """A message-like action: a text, a content item, or both; an image and a link."""

    text: str | None = Field(default=None, min_length=1)
    image: str | None = None
    link: str | None = None
    # A content item: content/<name>.md or .txt in the workspace (sop.content).
    content: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

    _text = field_validator("text")(compiles)

    @model_validator(mode="after")
    def _has_text(self) -> TextAction:
        if self.text is None and self.content is None:
            raise ValueError(
                'the action has no text; write text: "..." or content: NAME '
                "(a file content/NAME.md or .txt in the workspace)"
            )
        return self
