"""Member tastes in the simulator: a favourite topic, the average click rate kept."""

from __future__ import annotations

import numpy as np

from shequn.simulate.affinity import OTHER, click_weight, favourite


def test_the_favourite_topic_gets_the_weight_the_others_give_up() -> None:
    members = np.arange(20_000)
    liked = favourite(members, 4, "tea-club")
    weights = np.stack([click_weight(members, t, 4, "tea-club") for t in range(4)])
    # 4 topics: the favourite 4 - 3 x 0.5 = 2.5, the others 0.5: a mean of exactly 1.
    assert set(np.unique(weights)) == {OTHER, 2.5}
    assert np.allclose(weights.mean(axis=0), 1.0)
    assert (weights[liked, members] == 2.5).all()
    # Spread over the topics (a hash, not the member number modulo 4), and per community.
    shares = np.bincount(liked, minlength=4) / len(members)
    assert np.all(np.abs(shares - 0.25) < 0.02)
    assert (favourite(members, 4, "data-camp") != liked).mean() > 0.6
