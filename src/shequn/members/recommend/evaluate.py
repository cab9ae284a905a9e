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
from scipy import sparse

from shequn.members.recommend.data import Built, Log, build, codes
from shequn.members.recommend.model import fit, indicator, popularity_scorer, random_scorer, scorer
from shequn.members.recommend.rank import top_k

DAY_US = 86_400_000_000


@dataclass(frozen=True)
class Judgement:
    model: str
    members: int  # judged members
    recall: float
    hit_rate: float
    coverage: float


def judge(model: str, top: np.ndarray, truth: sparse.spmatrix, n_candidates: int) -> Judgement:
    """Figures of recommendations `top` (judged members × k) against `truth`, a
    members × items 0/1 matrix of the relevant items (same rows)."""
    n = top.shape[0]
    if n == 0:
        return Judgement(model, 0, 0.0, 0.0, 0.0)
    truth = sparse.csr_matrix(truth)
    valid = top >= 0
    hit = np.zeros_like(valid)
    rows = np.broadcast_to(np.arange(n)[:, None], top.shape)
    hit[valid] = np.asarray(truth[rows[valid], top[valid]]).ravel() > 0
    hits = hit.sum(axis=1)
    relevant = np.asarray(truth.sum(axis=1)).ravel()
    shown = np.unique(top[valid])
    return Judgement(
        model=model,
        members=n,
        recall=float(np.mean(hits / relevant)),
        hit_rate=float(np.mean(hits > 0)),
        coverage=len(shown) / n_candidates if n_candidates else 0.0,
    )


def _truth(built: Built, log: Log, cut: int, end: int) -> sparse.csr_matrix:
    """Members × items: 1 where a member newly engaged with a reachable candidate."""
    data = built.data
    after = log.engagements.filter((pl.col("ts") >= cut) & (pl.col("ts") < end))
    after = after.filter(pl.col("member").is_in(built.members) & pl.col("item").is_in(built.items))
    rows, cols = codes(after["member"], built.members), codes(after["item"], built.items)
    if not len(rows):  # nothing engaged with in the horizon (scipy indexes no pair badly)
        return indicator(rows, cols, data.engaged.shape)
    shared = data.member_communities[rows].multiply(data.item_communities[cols]).sum(axis=1)
    fresh = np.asarray(data.engaged[rows, cols]).ravel() == 0
    keep = (np.asarray(shared).ravel() > 0) & data.candidate[cols] & fresh
    return indicator(rows[keep], cols[keep], data.engaged.shape)


def evaluate(log: Log, cut: int, horizon_days: int = 28, k: int = 5) -> list[Judgement]:
    """Item-item (with words), the popularity baseline and random on one time split."""
    end = cut + horizon_days * DAY_US
    built = build(log, cut, (cut, end))
    data = built.data
    truth = _truth(built, log, cut, end)
    judged = np.flatnonzero(np.asarray(truth.sum(axis=1)).ravel() > 0)
    n_candidates = int(data.candidate.sum())
    scorers = {
        "item-item + words": scorer(fit(data), data),
        "popularity": popularity_scorer(data),
        "random": random_scorer(data),
    }
    return [
        judge(name, top_k(data, score, k, judged), truth[judged], n_candidates)
        for name, score in scorers.items()
    ]
