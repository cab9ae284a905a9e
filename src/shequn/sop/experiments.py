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
from typing import Literal, NamedTuple

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
    return _draws(np.full(len(members), _seed(experiment), dtype=np.uint64), members)


def _draws(h: np.ndarray, members: Sequence[str] | pl.Series) -> np.ndarray:
    """`units` with each row's own starting state `h` (its experiment's `_seed`)."""
    keys = pl.Series(members, dtype=pl.String).to_arrow().cast(pa.large_binary())
    if keys.null_count:
        raise ValueError("a member key is missing: only members can be assigned to an arm")
    offsets = np.frombuffer(keys.buffers()[1], dtype=np.int64)[
        keys.offset : keys.offset + len(keys) + 1
    ]
    data = np.frombuffer(keys.buffers()[2], dtype=np.uint8) if len(keys) else np.zeros(0, np.uint8)
    starts, lengths = offsets[:-1], np.diff(offsets)
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


class Design(NamedTuple):
    """An experiment's id and its arms: a holdout share, or the names of its variants."""

    experiment: str
    holdout: float | None
    variants: Sequence[str]


def assign(
    experiment: str,
    members: Sequence[str] | pl.Series,
    holdout: float | None,
    variants: Sequence[str],
) -> np.ndarray:
    """The arm of each member (same order), as an array of str objects."""
    which = np.zeros(len(members), dtype=np.int64)
    return assign_rows([Design(experiment, holdout, variants)], which, members)


def assign_rows(
    designs: Sequence[Design], which: np.ndarray, members: Sequence[str] | pl.Series
) -> np.ndarray:
    """The arm of each row: member `members[i]` in experiment `designs[which[i]]`.

    One pass over every row whatever its experiment (a tick's due rows of many steps at
    once); the same arm as `arm_of(unit(...))` of each row alone.
    """
    seeds = np.array([_seed(d.experiment) for d in designs], dtype=np.uint64)
    draws = _draws(seeds[which], members)
    # Every arm name in one array: held out, treated, then each design's variants.
    counts = np.array([len(d.variants) for d in designs], dtype=np.int64)
    first = 2 + np.concatenate(([0], np.cumsum(counts)[:-1]))
    labels = np.array([HOLDOUT, TREATED, *(v for d in designs for v in d.variants)], dtype=object)
    share = np.array([np.nan if d.holdout is None else d.holdout for d in designs])[which]
    k = np.maximum(counts[which], 1)
    variant = first[which] + np.minimum((draws * k).astype(np.int64), k - 1)
    held = np.where(draws < share, 0, 1)
    return labels[np.where(np.isnan(share), variant, held)]
