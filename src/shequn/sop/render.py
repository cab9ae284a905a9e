"""Rendering a step's message in Jinja2's sandbox with member, community and goal.

Rendering is bounded, so one expensive template cannot freeze the engine (the tick
renders outside any transaction, but its own rows wait for it): `**`, `*` and `%` are
checked before they run (Jinja2's sandbox intercepts them, which also stops them being
folded at compile time), `range` and loops share an iteration budget, the output is capped at
`MAX_OUTPUT` characters and the whole render at `MAX_SECONDS`. A template over a
bound fails for its target like any template error: the row is dead-lettered with
the reason and the tick goes on (docs/sop.md, "Template bounds").
"""

from __future__ import annotations

import operator
import time
from collections.abc import Sequence
from contextvars import ContextVar
from functools import lru_cache
from typing import Any, SupportsIndex

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.runtime import Context as JinjaContext
from jinja2.sandbox import SandboxedEnvironment

from shequn.config import Community

MAX_OUTPUT = 16_384  # characters: a chat message, with room to spare
MAX_SECONDS = 0.5  # per render; a normal one takes microseconds
MAX_STEPS = 100_000  # range items, loop items and calls in one render
MAX_INT_BITS = 4_096  # a number beyond this (~1200 digits) is refused


class RenderError(Exception):
    """A template failed to render for one target."""


class _OverBudget(RenderError):
    """A render ran out of time or steps: the costly failure, remembered per text."""


class _Budget:
    """What one render may still spend."""

    def __init__(self) -> None:
        self.deadline = time.monotonic() + MAX_SECONDS
        self.steps = MAX_STEPS

    def spend(self, steps: int = 1) -> None:
        self.steps -= steps
        if self.steps < 0:
            raise _OverBudget(f"the template does more than {MAX_STEPS:,} steps")
        if time.monotonic() > self.deadline:
            raise _OverBudget(f"the template takes longer than {MAX_SECONDS} s to render")


_BUDGET: ContextVar[_Budget | None] = ContextVar("render_budget", default=None)
_OVER_BUDGET: dict[str, str] = {}  # template text -> why it ran out of time or steps


def _spend(steps: int = 1) -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.spend(steps)


def _bits(value: Any) -> int:
    return value.bit_length() if isinstance(value, int) and not isinstance(value, bool) else 0


def _power(base: Any, exponent: Any) -> Any:
    whole = isinstance(base, int) and isinstance(exponent, int) and exponent > 0
    if whole and abs(base) > 1 and max(_bits(base) - 1, 1) * exponent > MAX_INT_BITS:
        raise RenderError(f"{base} ** {exponent} is too large a number")
    try:
        return operator.pow(base, exponent)
    except OverflowError:
        raise RenderError(f"{base} ** {exponent} is too large a number") from None


def _times(left: Any, right: Any) -> Any:
    for seq, count in ((left, right), (right, left)):
        repeated = isinstance(seq, str | list | tuple) and isinstance(count, int)
        if repeated and len(seq) * count > MAX_OUTPUT:
            raise RenderError(f"repeating {len(seq)} items {count} times is too long")
    if _bits(left) + _bits(right) > MAX_INT_BITS:
        raise RenderError("the product is too large a number")
    return operator.mul(left, right)


def _bounded_range(*args: int) -> Any:
    items = range(*args)
    if len(items) > MAX_STEPS:
        raise RenderError(f"range of {len(items):,} items; at most {MAX_STEPS:,}")
    for item in items:
        _spend()
        yield item


class _BoundedEnvironment(SandboxedEnvironment):
    intercepted_binops = frozenset({"**", "*", "%"})

    def call_binop(self, context: JinjaContext, op: str, left: Any, right: Any) -> Any:
        _spend()
        if op == "**":
            return _power(left, right)
        if op == "*":
            return _times(left, right)
        result = super().call_binop(context, op, left, right)
        if isinstance(result, str) and len(result) > MAX_OUTPUT:
            raise RenderError(f"a formatted text is longer than {MAX_OUTPUT:,} characters")
        return result

    def call(self, __context: JinjaContext, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _spend()
        return super().call(__context, __obj, *args, **kwargs)


_ENV = _BoundedEnvironment(autoescape=False, undefined=StrictUndefined)
_ENV.globals["range"] = _bounded_range


def environment() -> SandboxedEnvironment:
    """The bounded sandbox templates are parsed and rendered in."""
    return _ENV


class Picks(list[str]):
    """A member's recommended items (titles, best first). An index past the end is
    empty text, so `{{ member.recommended[0] }}` renders for a member with none."""

    def __getitem__(self, index: SupportsIndex | slice) -> Any:
        try:
            return super().__getitem__(index)
        except IndexError:
            return ""


def variables(
    member: str | None,
    name: str | None,
    community: Community,
    recommended: Sequence[str] = (),
) -> dict[str, Any]:
    """The template variables: member, community and the first short-term goal.

    `recommended` are the member's recommended items (shequn.members.recommend), when
    a template of the step asks for them.
    """
    goals = community.short_term_goals or community.long_term_goals
    return {
        "member": {
            "key": member or "",
            "name": name or member or "",
            "recommended": Picks(recommended),
        },
        "community": {
            "key": community.key,
            "name": community.name or community.key,
            "positioning": community.positioning,
            "target_users": community.target_users,
        },
        "goal": {
            "text": goals[0].text if goals else "",
            "target": goals[0].target if goals else None,
        },
    }


def render(text: str, values: dict[str, Any]) -> str:
    """The text rendered within the bounds; any failure is a RenderError, never a crash.

    A step that cannot render (an unknown variable, a bound exceeded) must not stop
    the tick for every other step; the message says what went wrong and the row is
    dead-lettered.
    """
    known = _OVER_BUDGET.get(text)
    if known is not None:  # it failed on time or steps already: fail at once
        raise RenderError(known)
    token = _BUDGET.set(_Budget())
    try:
        size, parts = 0, []
        for part in compiled(text).generate(values):
            size += len(part)
            if size > MAX_OUTPUT:
                raise RenderError(f"the message is longer than {MAX_OUTPUT:,} characters")
            _spend()
            parts.append(part)
        return "".join(parts)
    except _OverBudget as exc:
        # A template that ran out of time for one member will for the next thousand:
        # remember it, so a tick spends MAX_SECONDS at most per template.
        if len(_OVER_BUDGET) >= 512:
            _OVER_BUDGET.clear()
        _OVER_BUDGET[text] = str(exc)
        raise RenderError(str(exc)) from None
    except RenderError:
        raise
    except Exception as exc:  # a template must never crash the tick (TypeError too)
        raise RenderError(str(exc) or type(exc).__name__) from None
    finally:
        _BUDGET.reset(token)


@lru_cache(maxsize=512)
def compiled(text: str) -> Template:
    """Compiling costs ~3 ms; a 20:00 tick renders the same few templates for thousands.

    Raises:
        RenderError: the template's syntax is wrong.
    """
    try:
        return _ENV.from_string(text)
    except TemplateError as exc:
        raise RenderError(str(exc)) from None
