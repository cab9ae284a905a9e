"""Experiments on playbook steps: a holdout or variants, assigned by a salted hash.

A step with `holdout: 10%` sends to about 90% of its members and records the rest as
held out; a step with `variants:` (two or more texts or content items) sends each
member one of them. Which arm a member gets depends only on the experiment's id (the
playbook and step, plus an optional `salt`) and the member's key: a tick, a restart or a
replay gives the same arm (a hash written out in `units`, not Python's `hash`). The
outcome and the horizon are declared with the step (`experiment:`), so the result is
fixed before any data is seen (docs/experiments.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import Field, field_validator

from shequn.sop.model_base import Strict, compiles, duration
from shequn.sop.timing import parse_offset

HOLDOUT, TREATED = "holdout", "treated"
# What an experiment measures after each member's step: (name, window in days).
OUTCOMES: dict[str, int] = {"spoke_7d": 7, "first_order_30d": 30, "retained_30d": 30}


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


_FNV_OFFSET, _FNV_PRIME = 0xCBF29CE484222325, 0x100000001B3
_MASK = (1 << 64) - 1


def _seed(experiment: str) -> int:
    """FNV-1a 64 of the experiment id and a NUL: the state the members' bytes continue."""
    h = _FNV_OFFSET
    for byte in experiment.encode() + b"\x00":
        h = ((h ^ byte) * _FNV_PRIME) & _MASK
    return h


def _fmix(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer: every input bit moves every output bit."""
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


def units(experiment: str, members: Sequence[str] | pl.Series) -> np.ndarray:
    """Each member's uniform draw in [0, 1) for an experiment (same order).

    FNV-1a over `experiment NUL member` (UTF-8), then MurmurHash3's finalizer: written
    out here, so no library or Python version can change an arm. Vectorized over the
    members' bytes (one pass per byte position), for a tick's thousands of due rows.
    """
    keys = pl.Series(members, dtype=pl.String).to_arrow().cast(pa.large_binary())
    if keys.null_count:
        raise ValueError("a member key is missing: only members can be assigned to an arm")
    offsets = np.frombuffer(keys.buffers()[1], dtype=np.int64)[
        keys.offset : keys.offset + len(keys) + 1
    ]
    data = np.frombuffer(keys.buffers()[2], dtype=np.uint8) if len(keys) else np.zeros(0, np.uint8)
    starts, lengths = offsets[:-1], np.diff(offsets)
    h = np.full(len(keys), _seed(experiment), dtype=np.uint64)
    last = max(len(data) - 1, 0)
    prime = np.uint64(_FNV_PRIME)
    shortest, longest = (int(lengths.min()), int(lengths.max())) if len(keys) else (0, 0)
    with np.errstate(over="ignore"):
        for j in range(shortest):  # every key has this byte: in place, no mask
            h ^= data[starts + j]
            h *= prime
        for j in range(shortest, longest):
            byte = data[np.minimum(starts + j, last)].astype(np.uint64)
            h = np.where(lengths > j, (h ^ byte) * prime, h)
        h = _fmix(h)
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def unit(experiment: str, member: str) -> float:
    """One member's draw (`units` of one)."""
    return float(units(experiment, [member])[0])


def arm_of(draw: float, holdout: float | None, variants: Sequence[str]) -> str:
    """The arm of a draw: held out below the holdout share, else treated or a variant."""
    if holdout is not None:
        return HOLDOUT if draw < holdout else TREATED
    return variants[min(int(draw * len(variants)), len(variants) - 1)]


def assign(
    experiment: str,
    members: Sequence[str] | pl.Series,
    holdout: float | None,
    variants: Sequence[str],
) -> np.ndarray:
    """The arm of each member (same order), as an array of str objects."""
    draws = units(experiment, members)
    if holdout is not None:
        return np.where(draws < holdout, HOLDOUT, TREATED).astype(object)
    index = np.minimum((draws * len(variants)).astype(np.int64), len(variants) - 1)
    return np.asarray(variants, dtype=object)[index]
