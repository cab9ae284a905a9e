"""The statistics hold their promises over many seeded simulated experiments.

A small vectorised simulation (`shequn.simulate.effects.simulate_arms`): each run
draws a reference arm at a base rate and a tested arm at base + a known effect; over
4,000 runs the 95% intervals must cover the true effect about 95% of the time, and an
A/A test (effect 0) must reject at about its 5% level. With 4,000 runs the standard
error of a 95% rate is 0.34 points, so the bands below are about ±4.5 standard errors:
wide enough not to flake, narrow enough to catch a wrong formula (a 90% interval, or a
one-sided test, falls outside them).
"""

from __future__ import annotations

import math

import numpy as np

from shequn.experiments.stats import compare, difference
from shequn.simulate.effects import simulate_arms
from shequn.sop.experiments import Design, arm_of, assign, assign_rows, unit, units

RUNS = 4000


def test_hand_checked_difference() -> None:
    # 60/200 against 40/200: diff 0.1; se = sqrt(.3*.7/200 + .2*.8/200) = 0.043012;
    # pooled 0.25, se0 = sqrt(.25*.75*(2/200)) = 0.043301, z = 2.3094, p = 0.02092.
    r = difference(60, 200, 40, 200)
    assert math.isclose(float(r["diff"]), 0.1)
    assert math.isclose(float(r["low"]), 0.1 - 1.959964 * 0.0430116, abs_tol=1e-5)
    assert math.isclose(float(r["p_value"]), 0.02092, abs_tol=1e-4)
    # mde = (1.959964 + 0.841621) * 0.043301 = 0.12131
    assert math.isclose(float(r["mde"]), 0.12131, abs_tol=1e-4)


def test_intervals_cover_the_true_effect_at_their_rate() -> None:
    for base, effect, n in ((0.3, 0.05, 2000), (0.1, 0.03, 3000)):
        x1, x0 = simulate_arms(RUNS, n, n, base, effect, seed=7)
        r = difference(x1, n, x0, n, alpha=0.05)
        covered = np.mean((r["low"] <= effect) & (effect <= r["high"]))
        assert 0.935 <= covered <= 0.965, (base, effect, covered)


def test_an_aa_test_finds_no_effect_at_its_false_positive_rate() -> None:
    x1, x0 = simulate_arms(RUNS, 1500, 1500, 0.25, 0.0, seed=11)
    for alpha in (0.05, 0.10):
        rejected = np.mean(difference(x1, 1500, x0, 1500, alpha=alpha)["p_value"] < alpha)
        assert alpha - 0.015 <= rejected <= alpha + 0.015, (alpha, rejected)


def test_the_test_has_its_power_at_the_minimum_detectable_effect() -> None:
    n, base = 2000, 0.3
    mde = float(difference(base * n, n, base * n, n)["mde"])
    x1, x0 = simulate_arms(RUNS, n, n, base, mde, seed=3)
    power = np.mean(difference(x1, n, x0, n)["p_value"] < 0.05)
    assert 0.77 <= power <= 0.83, power


def test_verdicts_say_plainly_what_the_sample_supports() -> None:
    assert compare(("t", 5, 20), ("h", 2, 20), 0.05, 0.05).verdict.startswith("too small")
    assert compare(("t", 60, 200), ("h", 40, 200), 0.05, 0.05).verdict == "moved it up"
    # pooled 84/400 = 0.21: mde = 2.80159 * sqrt(.21 * .79 * 2 / 200) = 0.1141
    small = compare(("t", 44, 200), ("h", 40, 200), 0.05, 0.05)
    assert small.verdict == "too small to tell (could only detect ±11.4%)"
    big = compare(("t", 3020, 10000), ("h", 3000, 10000), 0.05, 0.05)
    assert big.verdict == "no effect of 5% or more"


def test_assignment_is_the_documented_hash_and_splits_at_the_share() -> None:
    # The reference: FNV-1a 64 over "experiment NUL member", then MurmurHash3's fmix64,
    # top 53 bits as a fraction — computed here in plain Python integers.
    def reference(experiment: str, member: str) -> float:
        mask, h = (1 << 64) - 1, 0xCBF29CE484222325
        for byte in (experiment + "\x00" + member).encode():
            h = ((h ^ byte) * 0x100000001B3) & mask
        h ^= h >> 33
        h = (h * 0xFF51AFD7ED558CCD) & mask
        h ^= h >> 33
        h = (h * 0xC4CEB9FE1A85EC53) & mask
        h ^= h >> 33
        return (h >> 11) / float(1 << 53)

    members = ["a", "wx:张三", "telegram:1234567890123", "", "qq:9"]
    assert units("hello.welcome", members).tolist() == [
        reference("hello.welcome", m) for m in members
    ]
    many = [f"tg:{i}" for i in range(20_000)]
    arms = assign("pb.s", many, 0.1, []).tolist()
    assert 0.09 <= arms.count("holdout") / len(many) <= 0.11
    assert assign("pb.s#2", many, 0.1, []).tolist() != arms  # a salt re-draws
    three = assign("pb.v", many, None, ["a", "b", "c"]).tolist()
    assert all(0.32 <= three.count(v) / len(many) <= 0.345 for v in "abc")


def test_rows_of_many_experiments_get_the_arm_each_would_get_alone() -> None:
    designs = [
        Design("pb.s", 0.1, []),
        Design("pb.v", None, ["a", "b", "c"]),
        Design("pb.s#2", 0.5, []),
        Design("other.t", None, ["x", "y"]),
    ]
    rng = np.random.default_rng(3)
    which = rng.integers(0, len(designs), 5_000)
    members = [f"tg:{i}" if i % 7 else f"wx:张{i}" for i in range(5_000)]
    got = assign_rows(designs, which, members).tolist()
    expected = [
        arm_of(unit(designs[w].experiment, m), designs[w].holdout, designs[w].variants)
        for w, m in zip(which, members, strict=True)
    ]
    assert got == expected
    assert set(got) == {"holdout", "treated", "a", "b", "c", "x", "y"}
