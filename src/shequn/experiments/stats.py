"""The difference between two arms of an experiment: interval, p-value, detectable effect.

Each outcome is a yes/no per member (spoke within 7 days, ...), so an arm is `x` of `n`.
The difference p₁ − p₀ gets a Wald interval (unpooled standard error), the two-sided
p-value comes from the pooled z-test (the usual test of two proportions), and the
minimum detectable effect is the difference this sample finds with 80% power at the
experiment's α. All functions take floats or numpy arrays, so the coverage tests run
thousands of simulated experiments in one call (tests/experiments/test_stats.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

POWER = 0.8
MIN_ARM = 30  # fewer members in an arm: too few to say anything


def z_of(alpha: float) -> float:
    """The two-sided critical value of α (1.96 for 0.05)."""
    return NormalDist().inv_cdf(1 - alpha / 2)


def _z_each(alpha: ArrayLike) -> NDArray[np.float64]:
    return np.vectorize(z_of, otypes=[float])(alpha)


def _two_sided_p(z: NDArray[np.float64]) -> NDArray[np.float64]:
    cdf = np.vectorize(NormalDist().cdf, otypes=[float])
    return 2 * (1 - cdf(np.abs(z)))


def difference(
    x1: ArrayLike, n1: ArrayLike, x0: ArrayLike, n0: ArrayLike, alpha: ArrayLike = 0.05
) -> dict[str, NDArray[np.float64]]:
    """p₁ − p₀ with its interval, p-value and minimum detectable effect (arrays).

    Args:
        x1, n1: successes and members of the arm tested (treated, or a variant).
        x0, n0: the same for the reference arm (held out, or the first variant).
        alpha: 1 − the interval's confidence; also the test's level (one, or one each).
    """
    x1, n1, x0, n0 = (np.asarray(a, dtype=float) for a in (x1, n1, x0, n0))
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p0 = x1 / n1, x0 / n0
        diff = p1 - p0
        se = np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
        pooled = (x1 + x0) / (n1 + n0)
        se0 = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
        z = np.where(se0 > 0, diff / se0, 0.0)
    crit = _z_each(alpha)
    return {
        "p1": p1,
        "p0": p0,
        "diff": diff,
        "low": diff - crit * se,
        "high": diff + crit * se,
        "p_value": _two_sided_p(z),
        "mde": (crit + NormalDist().inv_cdf(POWER)) * se0,
    }


@dataclass(frozen=True)
class Comparison:
    """One arm against the reference arm, in words as well as figures."""

    arm: str
    reference: str
    n: int
    n_reference: int
    rate: float
    rate_reference: float
    diff: float
    low: float
    high: float
    p_value: float
    mde: float
    verdict: str


class Pair(NamedTuple):
    """An arm, its reference arm, each as (name, successes, members); the level and
    the smallest effect that matters."""

    arm: tuple[str, int, int]
    reference: tuple[str, int, int]
    alpha: float
    min_effect: float


def compare(
    arm: tuple[str, int, int],
    reference: tuple[str, int, int],
    alpha: float,
    min_effect: float,
) -> Comparison:
    """Compare (name, successes, members) of an arm with the reference arm
    (`compare_all` of one pair)."""
    return compare_all([Pair(arm, reference, alpha, min_effect)])[0]


def compare_all(pairs: list[Pair]) -> list[Comparison]:
    """Every pair's comparison, the figures of all of them in one `difference` call.

    The verdict says plainly what the sample can support: `moved it up/down` when the
    test rejects at α; `too small to tell` when an arm is tiny or the smallest effect
    this sample could detect is larger than `min_effect`; else `no effect of at least
    min_effect`.
    """
    if not pairs:
        return []
    x1, n1, x0, n0 = np.array([(*p.arm[1:], *p.reference[1:]) for p in pairs]).T
    figures = difference(x1, n1, x0, n0, np.array([p.alpha for p in pairs]))
    rows = [{k: float(v[i]) for k, v in figures.items()} for i in range(len(pairs))]
    return [_compared(p, r) for p, r in zip(pairs, rows, strict=True)]


def _compared(pair: Pair, r: dict[str, float]) -> Comparison:
    """One pair's comparison from its figures (`difference`)."""
    (name, x1, n1), (ref, x0, n0) = pair.arm, pair.reference
    if min(n1, n0) < MIN_ARM:
        nan = float("nan")
        rate1 = x1 / n1 if n1 else nan
        rate0 = x0 / n0 if n0 else nan
        verdict = f"too small to tell (fewer than {MIN_ARM} members in an arm)"
        return Comparison(
            name, ref, n1, n0, rate1, rate0, rate1 - rate0, nan, nan, nan, nan, verdict
        )
    if r["p_value"] < pair.alpha:
        verdict = "moved it " + ("up" if r["diff"] > 0 else "down")
    elif r["mde"] > pair.min_effect:
        verdict = f"too small to tell (could only detect ±{r['mde']:.1%})"
    else:
        verdict = f"no effect of {pair.min_effect:.0%} or more"
    return Comparison(
        name,
        ref,
        n1,
        n0,
        r["p1"],
        r["p0"],
        r["diff"],
        r["low"],
        r["high"],
        r["p_value"],
        r["mde"],
        verdict,
    )
