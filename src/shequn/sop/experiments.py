"""Experiments on playbook steps: a holdout or variants, assigned by a salted hash.

A step with `holdout: 10%` sends to about 90% of its members and records the rest as
held out; a step with `variants:` (two or more texts or content items) sends each
member one of them. Which arm a member gets depends only on the experiment's id (the
playbook and step, plus an optional `salt`) and the member's key: a tick, a restart or a
replay gives the same arm. The outcome and the horizon are declared with the step
(`experiment:`) so the result is fixed before any data is seen (docs/experiments.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Literal

from pydantic import Field, field_validator

from shequn.sop.model_base import Strict, compiles, duration
from shequn.sop.timing import parse_offset

HOLDOUT, TREATED = "holdout", "treated"
# What an experiment measures after each member's step: (name, window in days).
OUTCOMES: dict[str, int] = {"spoke_7d": 7, "first_order_30d": 30, "retained_30d": 30}
_SCALE = float(1 << 64)


class Variant(Strict):
    """One arm of a variants experiment: a text, a content item, or both."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    text: str | None = Field(default=None, min_length=1)
    content: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

    _text = field_validator("text")(compiles)


class Experiment(Strict):
    """What an experiment measures, for how long, and the effect that matters."""

    outcome: Literal[tuple(OUTCOMES)]  # type: ignore[valid-type]
    horizon: str = "+28d"  # enrolment runs this long from the first member assigned
    salt: str = ""  # a new salt re-draws every arm (a new experiment)
    min_effect: float = Field(default=0.05, gt=0, lt=1)  # the smallest difference that matters
    alpha: float = Field(default=0.05, gt=0, lt=0.5)

    _horizon = field_validator("horizon")(
        duration("an experiment's horizon is a duration from its first member", "+28d")
    )

    @property
    def horizon_micros(self) -> int:
        return parse_offset(self.horizon).micros

    @property
    def window_micros(self) -> int:
        return OUTCOMES[self.outcome] * 86_400_000_000


def holdout_share(value: str) -> float:
    """`10%` as 0.1; a clear error for anything else."""
    text = value.strip()
    try:
        if not text.endswith("%"):
            raise ValueError
        share = float(text[:-1]) / 100
    except ValueError:
        raise ValueError(f"holdout {value!r} is not a percentage; write holdout: 10%") from None
    if not 0 < share < 1:
        raise ValueError(f"holdout {value!r} must lie between 0% and 100%; write holdout: 10%")
    return share


def experiment_id(playbook: str, step: str, salt: str = "") -> str:
    """The experiment's name: `playbook.step`, with `#salt` when it has one."""
    return f"{playbook}.{step}" + (f"#{salt}" if salt else "")


def unit(experiment: str, member: str) -> float:
    """A member's uniform draw in [0, 1) for an experiment (a salted BLAKE2b hash)."""
    digest = hashlib.blake2b(f"{experiment}\x00{member}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


def arm_of(draw: float, holdout: float | None, variants: Sequence[str]) -> str:
    """The arm of a draw: held out below the holdout share, else treated or a variant."""
    if holdout is not None:
        return HOLDOUT if draw < holdout else TREATED
    return variants[min(int(draw * len(variants)), len(variants) - 1)]


def assign(
    experiment: str, members: Sequence[str], holdout: float | None, variants: Sequence[str]
) -> list[str]:
    """The arm of each member (same order)."""
    return [arm_of(unit(experiment, m), holdout, variants) for m in members]
