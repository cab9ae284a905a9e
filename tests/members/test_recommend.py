"""Recommendations on a hand-built log whose answer is known."""

from __future__ import annotations

import numpy as np
import polars as pl

from shequn.members.recommend.data import (
    ENGAGEMENTS,
    ITEMS,
    MEMBERSHIPS,
    WRITINGS,
    Log,
    build,
)
from shequn.members.recommend.evaluate import DAY_US, evaluate, judge
from shequn.members.recommend.model import fit, popularity_scorer, scorer
from shequn.members.recommend.rank import top_k

CUT = 100 * DAY_US
# Two topics; the second issue of each is sent after the cut.
ITEM_ROWS = [
    ("a1", "c", 10 * DAY_US, "hiking gear checklist"),
    ("b1", "c", 11 * DAY_US, "coffee brewing guide"),
    ("a2", "c", CUT + DAY_US, "hiking routes nearby"),
    ("b2", "c", CUT + 2 * DAY_US, "coffee roasting guide"),
    ("x1", "other", 12 * DAY_US, "hiking maps"),  # another community's item
]


def _log() -> Log:
    before = [("u1", "a1"), ("u2", "b1"), ("u5", "b1"), ("u6", "b1"), ("u7", "b1")]
    after = [("u1", "a2"), ("u2", "b2"), ("u3", "a2"), ("u1", "a1")]  # a1: not new to u1
    engagements = [(m, i, "c", 50 * DAY_US) for m, i in before]
    engagements += [(m, i, "c", CUT + 3 * DAY_US) for m, i in after]
    members = ["u1", "u2", "u3", "u4", "u5", "u6", "u7"]
    return Log(
        engagements=pl.DataFrame(engagements, schema=ENGAGEMENTS, orient="row"),
        items=pl.DataFrame(ITEM_ROWS, schema=ITEMS, orient="row"),
        writings=pl.DataFrame(
            [("u3", 60 * DAY_US, "weekend hiking in the mountains again")],
            schema=WRITINGS,
            orient="row",
        ),
        memberships=pl.DataFrame([(m, "c") for m in members], schema=MEMBERSHIPS, orient="row"),
    )


def _names(built: object, top: np.ndarray) -> dict[str, list[str]]:
    members, items = built.members, built.items  # type: ignore[attr-defined]
    return {m: [items[i] for i in row if i >= 0] for m, row in zip(members, top, strict=True)}


def test_item_item_with_words_finds_the_next_issue_and_the_writer() -> None:
    built = build(_log(), CUT, (0, CUT + 30 * DAY_US))
    top = _names(built, top_k(built.data, scorer(fit(built.data), built.data), k=2))
    # u1 read a1: the other hiking item first; u2 read b1: the other coffee item;
    # u3 read nothing but writes about hiking; nobody gets x1 (not in their community).
    assert top["u1"][0] == "a2"
    assert top["u2"][0] == "b2"
    assert top["u3"][0] in {"a1", "a2"} and top["u3"][1] in {"a1", "a2"}
    # u4 has no signal: the most clicked item (b1) first, by the popularity prior.
    assert top["u4"][0] == "b1"
    assert all("x1" not in row for row in top.values())
    assert "b1" not in top["u5"]  # already engaged


def test_popularity_ranks_by_engagements_then_newest() -> None:
    built = build(_log(), CUT, (0, CUT + 30 * DAY_US))
    top = _names(built, top_k(built.data, popularity_scorer(built.data), k=4))
    # b1: 4 clicks, a1: 1, then the unclicked newest first (b2 after a2).
    assert top["u4"] == ["b1", "a1", "b2", "a2"]
    assert top["u1"] == ["b1", "b2", "a2"]  # a1 engaged; only three left: no padding


def test_time_split_evaluation_against_popularity() -> None:
    mine, popular, _random = evaluate(_log(), CUT, horizon_days=14, k=1)
    # Candidates: a2 and b2 (first seen after the cut). Judged: u1 (a2), u2 (b2), u3
    # (a2); u1's a1 click is on an item from before the cut.
    assert mine.members == popular.members == 3
    # Mine: u1 read a1 -> a2; u2 read b1 -> b2; u3 writes about hiking -> a2.
    assert mine.recall == mine.hit_rate == 1.0
    assert mine.coverage == 1.0
    # Popularity: no clicks on either, newest first: b2 for everyone, one hit (u2).
    assert popular.recall == popular.hit_rate == 1 / 3
    assert popular.coverage == 1 / 2


def test_recall_counts_each_relevant_item() -> None:
    truth = np.array([[1, 1, 0, 0], [0, 0, 1, 0]])
    top = np.array([[0, 2], [3, -1]])
    got = judge("m", top, truth, n_candidates=4)
    assert got.recall == (1 / 2 + 0) / 2
    assert got.hit_rate == 0.5
    assert got.coverage == 3 / 4
