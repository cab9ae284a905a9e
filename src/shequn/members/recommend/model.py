"""Recommendations: the content items and activities a member is likely to engage with.

An item is a `content_id` of `content_click` and `activity_signup` events (for a
sign-up, the activity's name). The model is item-item similarity with the items' words:

- `S_cf`: cosine similarity of the items' columns of the engagement matrix `X`
  (members × items, 1 where the member clicked or signed up);
- `S_kw`: cosine similarity of the items' words (the tokens of the text the item was
  sent with, or the activity's title), so an item nobody has touched yet is still
  similar to the items that share its words (a new issue of a column, the next
  session of a course);
- a member's score for an item is `X_u · (S_cf + WORDS·S_kw)` (what they engaged with,
  passed through the similarities), plus `OWN_WORDS · cos(words they write, item
  words)`, plus a tiny popularity prior that only breaks ties.

Only candidates count: items seen in a community of the member, fresh (first seen in
the window the caller chose), and not engaged with already. The popularity baseline
ranks the same candidates by engagements (newest first among equals). A scorer gives
the scores of a block of members for some items (shequn.members.recommend.rank picks
the blocks): sparse and dense matrix products, no loop over members.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse

WORDS = 0.5  # weight of the word similarity beside the engagement similarity
OWN_WORDS = 0.3  # weight of what a member writes
PRIOR = 1e-3  # popularity, scaled to [0, PRIOR]: breaks ties, never outranks a signal


@dataclass(frozen=True)
class Data:
    """Everything the models see, as indices into `items` and the member list.

    Attributes:
        engaged: members × items, 1 where the member engaged (before the cut).
        item_words: items × vocabulary, word counts of each item's text.
        member_words: members × vocabulary, word counts of what each member wrote.
        member_communities: members × communities, 1 where the member belongs.
        item_communities: items × communities, 1 where the item was seen.
        candidate: bool per item: may be recommended (fresh).
        first_seen: per item, when it was first seen (for the baseline's ties).
    """

    engaged: sparse.csr_matrix
    item_words: sparse.csr_matrix
    member_words: sparse.csr_matrix
    member_communities: sparse.csr_matrix
    item_communities: sparse.csr_matrix
    candidate: np.ndarray
    first_seen: np.ndarray


def indicator(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    """A 0/1 CSR matrix with ones at (rows, cols) (repeats count once)."""
    ones = np.ones(len(rows), dtype=np.float32)
    matrix = sparse.csr_matrix((ones, (rows, cols)), shape=shape)
    matrix.data[:] = 1.0
    return matrix


def _unit_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """Rows scaled to length 1 (empty rows stay empty)."""
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sparse.csr_matrix(sparse.diags(scale.astype(np.float32)) @ matrix)


def _idf(item_words: sparse.csr_matrix) -> np.ndarray:
    """Inverse document frequency of each word over the items (smoothed)."""
    df = np.asarray((item_words > 0).sum(axis=0)).ravel()
    return (np.log((1 + item_words.shape[0]) / (1 + df)) + 1.0).astype(np.float32)


def word_vectors(words: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """log(1 + count) · idf, rows of length 1."""
    logged = words.astype(np.float32).log1p()
    return _unit_rows(sparse.csr_matrix(logged @ sparse.diags(idf)))


@dataclass(frozen=True)
class Model:
    """Item-item similarities and popularity, fitted on the engagements before a cut."""

    similarity: np.ndarray  # items × items, float32, zero diagonal
    popularity: np.ndarray  # engagements per item
    item_vectors: sparse.csr_matrix  # items × vocabulary, unit rows
    idf: np.ndarray


def fit(data: Data) -> Model:
    """The similarities of every pair of items (engagements and words)."""
    engaged = data.engaged.astype(np.float32)
    cooc = (engaged.T @ engaged).toarray()
    counts = np.diag(cooc).copy()
    norms = np.sqrt(counts)
    outer = np.outer(norms, norms)
    cf = np.divide(cooc, outer, out=np.zeros_like(cooc), where=outer > 0)
    idf = _idf(data.item_words)
    vectors = word_vectors(data.item_words, idf)
    similarity = cf + WORDS * (vectors @ vectors.T).toarray()
    np.fill_diagonal(similarity, 0.0)
    return Model(similarity.astype(np.float32), counts, vectors, idf)


def _prior(popularity: np.ndarray) -> np.ndarray:
    """Popularity scaled to [0, PRIOR], plus a fixed pseudo-random order below it for
    exact ties: items are numbered in key order, which follows send order, and a tie
    broken by position would reward timing rather than taste."""
    step = PRIOR / max(float(popularity.max()) if popularity.size else 0.0, 1.0)
    jitter = np.random.default_rng(0).random(len(popularity)) * step / 2  # below one click
    return popularity * step + jitter


# Scores of members `rows` for items `cols`: a (rows × cols) array.
Scorer = Callable[[np.ndarray, np.ndarray], np.ndarray]


def scorer(model: Model, data: Data) -> Scorer:
    """The item-item scores, by the fitted similarities."""
    own = sparse.csr_matrix(word_vectors(data.member_words, model.idf) @ model.item_vectors.T)
    prior = _prior(model.popularity)

    def block(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        history = data.engaged[rows].astype(np.float32)
        scores = np.asarray(history @ model.similarity[:, cols])
        scores += OWN_WORDS * own[rows][:, cols].toarray()
        return scores + prior[cols]

    return block


def popularity_scorer(data: Data) -> Scorer:
    """The baseline: engagements per item, newest first among equals, for everyone."""
    counts = np.asarray(data.engaged.sum(axis=0)).ravel().astype(np.float64)
    order = np.argsort(np.argsort(data.first_seen, kind="stable"), kind="stable")
    newest = order / max(len(order), 1)  # in [0, 1): below one engagement
    scores = (counts + newest).astype(np.float64)

    def block(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return np.broadcast_to(scores[cols], (len(rows), len(cols))).copy()

    return block


def random_scorer(data: Data, seed: int = 0) -> Scorer:
    """A seeded random order: the floor any model must clear."""
    rng = np.random.default_rng(seed)

    def block(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return rng.random((len(rows), len(cols)))

    return block
