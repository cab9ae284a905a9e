"""The top k candidates of each member, in blocks that fit in memory.

Members are taken community by community (by the first community they are in), and a
block is scored only for the candidates of the communities its members are in: with
items seen in one community each, the work grows with members × a community's items,
not members × every item of the workspace.
"""

from __future__ import annotations

import numpy as np

from shequn.members.recommend.model import Data, Scorer

CELLS = 4_000_000  # members × items scored at once (a 32 MB float64 block)


def top_k(data: Data, score: Scorer, k: int = 5, rows: np.ndarray | None = None) -> np.ndarray:
    """Per member of `rows` (default: all), k item indices best first; -1 where fewer
    than k candidates remain."""
    n_members, n_items = data.engaged.shape
    rows = np.arange(n_members) if rows is None else np.asarray(rows, dtype=np.int64)
    out = np.full((len(rows), k), -1, dtype=np.int64)
    if n_items == 0 or len(rows) == 0:
        return out
    for where in _groups(data, rows):
        members = rows[where]
        cols = _columns(data, members)
        if len(cols) == 0:
            continue
        step = max(1, CELLS // len(cols))
        for start in range(0, len(members), step):
            block = members[start : start + step]
            best = _best(_masked(data, score, block, cols), k)
            out[where[start : start + step]] = np.where(best >= 0, cols[best], -1)
    return out


def _groups(data: Data, rows: np.ndarray) -> list[np.ndarray]:
    """Positions in `rows`, grouped by each member's first community (none: left out)."""
    indptr, indices = data.member_communities.indptr, data.member_communities.indices
    has = indptr[rows + 1] > indptr[rows]
    first = np.full(len(rows), -1, dtype=np.int64)
    first[has] = indices[indptr[rows[has]]]
    order = np.argsort(first, kind="stable")
    bounds = np.flatnonzero(np.diff(first[order])) + 1
    return [g for g in np.split(order, bounds) if len(g) and first[g[0]] >= 0]


def _columns(data: Data, members: np.ndarray) -> np.ndarray:
    """The candidates seen in any community of these members."""
    reach = np.asarray(data.member_communities[members].sum(axis=0)).ravel() > 0
    seen = np.asarray(data.item_communities[:, np.flatnonzero(reach)].sum(axis=1)).ravel() > 0
    return np.flatnonzero(seen & data.candidate)


def _masked(data: Data, score: Scorer, block: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The block's scores, -inf where an item is not in the member's communities or
    the member engaged with it already."""
    scores = score(block, cols).astype(np.float64)
    shared = data.member_communities[block] @ data.item_communities[cols].T
    allowed = np.asarray(shared.toarray() > 0)
    allowed &= data.engaged[block][:, cols].toarray() == 0
    scores[~allowed] = -np.inf
    return scores


def _best(scores: np.ndarray, k: int) -> np.ndarray:
    """The indices of the k highest finite scores per row, best first, -1 padded."""
    width = min(k, scores.shape[1])
    part = np.argpartition(-scores, width - 1, axis=1)[:, :width]
    picked = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-picked, axis=1, kind="stable")
    best = np.take_along_axis(part, order, axis=1)
    best[~np.isfinite(np.take_along_axis(picked, order, axis=1))] = -1
    if width < k:
        best = np.hstack([best, np.full((scores.shape[0], k - width), -1)])
    return best
