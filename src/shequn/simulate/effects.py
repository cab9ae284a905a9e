"""An effect model for experiments: a playbook step raises an outcome by a known amount.

Two uses. `simulate_arms` draws many whole experiments at once (successes per arm for
`runs` seeded repetitions), for the coverage and A/A tests of the statistics.
`outcome_rows` turns the members an experiment actually assigned (their
`experiment_assigned` events) into the events of their outcome — a `message` within
the outcome window with probability `base`, or `base + lift` in the arm the step
reaches — so one end-to-end run can check that the engine, the recorded assignments
and the result recover the known effect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from shequn.sop.experiments import HOLDOUT


def simulate_arms(
    runs: int, n1: int, n0: int, base: float, effect: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Successes of the tested arm (rate base + effect) and the reference arm, per run."""
    rng = np.random.default_rng(seed)
    return rng.binomial(n1, base + effect, runs), rng.binomial(n0, base, runs)


@dataclass(frozen=True)
class EffectModel:
    """A step that raises the chance of speaking within `days` by `lift`.

    Members in `reference` (the held-out arm by default) speak with probability
    `base`; every other arm with `base + lift`.
    """

    base: float
    lift: float
    days: int = 7
    reference: str = HOLDOUT


def outcome_rows(enrolled: pl.DataFrame, model: EffectModel, seed: int) -> pl.DataFrame:
    """A `message` (community, member, ts) for each enrolled member who speaks.

    Args:
        enrolled: community, member, arm and ts (µs) of each assignment.
        model: the effect.
        seed: the same seed gives the same messages.
    """
    rng = np.random.default_rng(seed)
    treated = (enrolled["arm"] != model.reference).to_numpy()
    chance = np.where(treated, model.base + model.lift, model.base)
    speaks = rng.random(enrolled.height) < chance
    # Uniformly within the window, never at the assignment instant itself.
    delay = rng.integers(1_000_000, model.days * 86_400_000_000, enrolled.height)
    rows = enrolled.select("community", "member", (pl.col("ts") + pl.Series(delay)).alias("ts"))
    return rows.filter(pl.Series(speaks))
