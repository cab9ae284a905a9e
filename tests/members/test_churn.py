"""Churn models: BG/NBD recovers known parameters, the judge's figures by hand."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from shequn.members import bgnbd
from shequn.members.evaluate import judge, purchase_split


def _bgnbd_customers(n: int, weeks: float, seed: int) -> tuple[np.ndarray, ...]:
    """Customers drawn from the BG/NBD story with r=0.5, α=5, a=1, b=3."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.5, 1 / 5.0, n)
    p = rng.beta(1.0, 3.0, n)
    x, t_x = np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > weeks:
                break
            x[i], t_x[i] = x[i] + 1, t
            if rng.random() < p[i]:
                break
    return x, t_x, np.full(n, weeks)


def test_fit_recovers_the_parameters() -> None:
    x, t_x, big_t = _bgnbd_customers(4000, 52.0, seed=3)
    fitted = bgnbd.fit(x, t_x, big_t)
    assert fitted.r == pytest.approx(0.5, rel=0.2)
    assert fitted.alpha == pytest.approx(5.0, rel=0.3)
    assert fitted.a == pytest.approx(1.0, rel=0.35)
    assert fitted.b == pytest.approx(3.0, rel=0.35)


def test_p_alive_by_hand() -> None:
    model = bgnbd.BgNbd(r=1.0, alpha=1.0, a=1.0, b=2.0)
    # x=2, t_x=1, T=3: ratio = a/(b+x-1) * ((α+T)/(α+t_x))^(r+x) = 1/3 * 2^3 = 8/3.
    got = model.p_alive(np.array([2.0, 0.0]), np.array([1.0, 0.0]), np.array([3.0, 3.0]))
    assert got.tolist() == pytest.approx([3 / 11, 1.0])
    # No purchase in 4 more weeks: 1 - P(alive) * (1 - ((1+3)/(1+3+4))^(1+2)).
    quiet = model.p_no_purchase(np.array([2.0]), np.array([1.0]), np.array([3.0]), 4.0)
    assert quiet.tolist() == pytest.approx([1 - 3 / 11 * (1 - 0.5**3)])


def test_judge_by_hand() -> None:
    y = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0])
    p = np.array([0.9, 0.8, 0.7, 0.1, 0.6, 0.2, 0.3, 0.1, 0.05, 0.0])
    j = judge("m", y, p)
    # Positives outrank negatives in 3*7 pairs except 0.7 > 0.6: 20/21.
    assert j.auc == pytest.approx(20 / 21)
    assert j.precision_top10 == 1.0  # the top one (0.9) churned
    assert j.brier == pytest.approx(float(np.mean((p - y) ** 2)))
    assert j.base_rate == 0.3


def test_purchase_split_on_generated_buyers() -> None:
    rng = np.random.default_rng(5)
    rows = []
    for c in range(600):
        rate = rng.choice([0.02, 0.2])  # slow and fast buyers
        stop = rng.integers(30, 400)  # they stop buying at some day
        day = int(rng.integers(0, 60))
        while day < min(stop, 400):
            rows.append((f"c{c}", day))
            day += 1 + int(rng.exponential(1 / rate))
    purchases = pl.DataFrame(rows, schema=["customer", "day"], orient="row")
    found = {j.model: j for j in purchase_split(purchases, cut=300, horizon=60)}
    assert set(found) == {"hiatus", "logistic", "bg/nbd"}
    # Every model ranks better than chance on this history.
    assert all(j.auc is not None and j.auc > 0.6 for j in found.values())
