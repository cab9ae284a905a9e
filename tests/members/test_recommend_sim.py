"""The recommender on the simulator, on a time split, against popularity and random."""

from __future__ import annotations

import polars as pl

from shequn.members.recommend.data import log_of
from shequn.members.recommend.evaluate import DAY_US, evaluate
from shequn.simulate import default_spec, simulate


def test_item_item_with_words_beats_popularity_on_the_simulator() -> None:
    frame = pl.concat(list(simulate(default_spec(days=100, target_events=200_000))))
    log = log_of(frame)
    cut = int(log.items["ts"].min()) + 70 * DAY_US
    mine, popular, random = evaluate(log, cut, horizon_days=28, k=5)
    assert mine.members == popular.members == random.members > 500
    # Members click their favourite topic 2.5-3 times as often as average (4-5 topics);
    # the titles of what they clicked carry it to the items sent after the cut.
    # Measured here: 0.485 against 0.400 (popularity) and 0.398 (random).
    assert mine.recall > popular.recall + 0.04
    assert mine.recall > random.recall + 0.04
    assert mine.hit_rate > popular.hit_rate
