"""Judging the recommender honestly: fit before a cut-off, check the weeks after it.

The models see engagements and writings before the cut only. The candidates are the
items first seen in the horizon [cut, cut + horizon): the operator's library holds
them before they are sent, and their text (what was sent, an activity's title) is a
description, not behaviour. Items seen before the cut are left out on purpose: clicks
come in the few days after a send, so "the newest items" would win by timing alone
and say nothing about a member's taste. A member is judged when they engaged in the
horizon with a candidate of their communities; those items are the relevant ones.
With no engagement before the cut, every candidate has a popularity of zero: the
baseline then ranks the newest first. A seeded random order is reported beside them
as the floor.

- recall@k: hits in the top k / relevant items, averaged over judged members;
- hit rate: the share of judged members with at least one hit;
- coverage: distinct items recommended to judged members / candidate items.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from shequn.members.recommend.data import Built, Log, build
from shequn.members.recommend.model import fit, popularity_scorer, random_scorer, scorer
from shequn.members.recommend.rank import top_k

DAY_US = 86_400_000_000


@dataclass(frozen=True)
class Judgement:
    model: str
    members: int  # judged members
    recall: float
    hit_rate: float
    coverage: float


def judge(model: str, top: np.ndarray, truth: np.ndarray, n_candidates: int) -> Judgement:
    """Figures of recommendations `top` (judged members × k) against `truth`, a
    members × items 0/1 array of the relevant items."""
    n = top.shape[0]
    if n == 0:
        return Judgement(model, 0, 0.0, 0.0, 0.0)
    valid = top >= 0
    hit = np.zeros_like(valid)
    rows = np.broadcast_to(np.arange(n)[:, None], top.shape)
    hit[valid] = truth[rows[valid], top[valid]] > 0
    hits = hit.sum(axis=1)
    relevant = truth.sum(axis=1)
    shown = np.unique(top[valid])
    return Judgement(
        model=model,
        members=n,
        recall=float(np.mean(hits / relevant)),
        hit_rate=float(np.mean(hits > 0)),
        coverage=len(shown) / n_candidates if n_candidates else 0.0,
    )


def _truth(built: Built, log: Log, cut: int, end: int) -> np.ndarray:
    """Members × items: 1 where a member newly engaged with a reachable candidate."""
    data = built.data
    after = log.engagements.filter((pl.col("ts") >= cut) & (pl.col("ts") < end))
    member_at = {m: i for i, m in enumerate(built.members)}
    item_at = {m: i for i, m in enumerate(built.items)}
    truth = np.zeros(data.engaged.shape, dtype=np.int8)
    rows = np.array([member_at.get(m, -1) for m in after["member"].to_list()], dtype=np.int64)
    cols = np.array([item_at.get(i, -1) for i in after["item"].to_list()], dtype=np.int64)
    keep = (rows >= 0) & (cols >= 0)
    truth[rows[keep], cols[keep]] = 1
    reachable = (data.member_communities @ (data.item_communities.T > 0)).toarray() > 0
    truth &= (reachable & data.candidate[None, :] & (data.engaged.toarray() == 0)).astype(np.int8)
    return truth


def evaluate(log: Log, cut: int, horizon_days: int = 28, k: int = 5) -> list[Judgement]:
    """Item-item (with words), the popularity baseline and random on one time split."""
    end = cut + horizon_days * DAY_US
    built = build(log, cut, (cut, end))
    truth = _truth(built, log, cut, end)
    judged = np.flatnonzero(truth.sum(axis=1) > 0)
    n_candidates = int(built.data.candidate.sum())
    results = []
    for name, top in (
        ("item-item + words", top_k(built.data, scorer(fit(built.data), built.data), k)),
        ("popularity", top_k(built.data, popularity_scorer(built.data), k)),
        ("random", top_k(built.data, random_scorer(built.data), k)),
    ):
        results.append(judge(name, top[judged], truth[judged], n_candidates))
    return results
