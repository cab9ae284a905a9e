"""The recommenders' inputs as of an instant, from a log of plain frames.

`Log` holds what the models read (engagements, items with their texts, what members
wrote, who is in which community); `build` turns it into the matrices of
shequn.members.recommend.model as of a cut-off: engagements and writings before the cut
only, candidates the items first seen in a window the caller picks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import sparse

from shequn.members.keywords import tokens
from shequn.members.recommend.model import Data, indicator

ENGAGEMENTS = {"member": pl.String, "item": pl.String, "community": pl.String, "ts": pl.Int64}
ITEMS = {"item": pl.String, "community": pl.String, "ts": pl.Int64, "text": pl.String}
WRITINGS = {"member": pl.String, "ts": pl.Int64, "text": pl.String}
MEMBERSHIPS = {"member": pl.String, "community": pl.String}


@dataclass(frozen=True)
class Log:
    """The events the recommenders read, one frame per kind (schemas above).

    Attributes:
        engagements: a click or sign-up of a member on an item.
        items: where and when an item was seen (sent, clicked, signed up to) and its
            text (empty when only engagements name it).
        writings: members' messages.
        memberships: each member's communities.
    """

    engagements: pl.DataFrame
    items: pl.DataFrame
    writings: pl.DataFrame
    memberships: pl.DataFrame


@dataclass(frozen=True)
class Built:
    """The matrices and the names their rows and columns stand for."""

    data: Data
    members: list[str]
    items: list[str]


def codes(values: pl.Series, names: list[str]) -> np.ndarray:
    """Each value's position in `names` (distinct; every value must be there)."""
    # An array of its own: scipy's fancy indexing marks its index arrays writable, which
    # a view of Polars memory refuses (an empty one even with `writable=True`).
    return values.cast(pl.Enum(names)).to_physical().cast(pl.Int64).to_numpy().copy()


def _distinct(*columns: pl.Series) -> list[str]:
    """The distinct values of the columns, sorted."""
    return pl.concat([c.rename("v") for c in columns]).unique().sort().to_list()


def _word_counts(
    owner: np.ndarray, texts: pl.Series, vocab: dict[str, int], n_rows: int, grow: bool
) -> sparse.csr_matrix:
    """Rows × vocabulary word counts; each distinct text is tokenised once."""
    distinct = texts.unique().to_list()
    split = {t: tokens(t) for t in distinct if t}
    if grow:
        for words in split.values():
            for w in words:
                vocab.setdefault(w, len(vocab))
    ids = [[vocab[w] for w in words if w in vocab] for words in split.values()]
    lookup = pl.DataFrame(
        {"text": list(split), "ids": ids},
        schema={"text": pl.String, "ids": pl.List(pl.Int64)},
    )
    pairs = (
        pl.DataFrame({"row": owner, "text": texts})
        .join(lookup, on="text")
        .explode("ids")
        .drop_nulls("ids")
    )
    ones = np.ones(pairs.height, dtype=np.float32)
    coords = (pairs["row"].to_numpy(), pairs["ids"].to_numpy())
    return sparse.csr_matrix((ones, coords), shape=(n_rows, max(len(vocab), 1)))


def build(log: Log, cut: int, fresh: tuple[int, int]) -> Built:
    """The models' inputs as of `cut` (UTC µs); candidates are items first seen in
    [fresh[0], fresh[1])."""
    before = log.engagements.filter(pl.col("ts") < cut)
    members = _distinct(log.memberships["member"], log.engagements["member"])
    seen = pl.concat(
        [log.items.select("item", "community", "ts"), before.select("item", "community", "ts")]
    )
    firsts = seen.group_by("item").agg(pl.col("ts").min()).sort("item")
    items = firsts["item"].to_list()
    communities = _distinct(seen["community"], log.memberships["community"])
    n_m, n_i, n_c = len(members), len(items), len(communities)
    engaged = indicator(codes(before["member"], members), codes(before["item"], items), (n_m, n_i))
    joined = pl.concat([log.memberships, before.select("member", "community")])
    member_communities = indicator(
        codes(joined["member"], members), codes(joined["community"], communities), (n_m, n_c)
    )
    item_communities = indicator(
        codes(seen["item"], items), codes(seen["community"], communities), (n_i, n_c)
    )
    texts = log.items.filter(pl.col("text").fill_null("") != "")
    vocab: dict[str, int] = {}
    item_words = _word_counts(codes(texts["item"], items), texts["text"], vocab, n_i, True)
    wrote = log.writings.filter((pl.col("ts") < cut) & pl.col("member").is_in(members))
    member_words = _word_counts(codes(wrote["member"], members), wrote["text"], vocab, n_m, False)
    first = firsts["ts"].to_numpy()
    data = Data(
        engaged=engaged,
        item_words=item_words,
        member_words=member_words,
        member_communities=member_communities,
        item_communities=item_communities,
        candidate=(first >= fresh[0]) & (first < fresh[1]),
        first_seen=first,
    )
    return Built(data, members, items)


def log_of(events: pl.DataFrame, catalogue: pl.DataFrame | None = None) -> Log:
    """The recommenders' log from canonical events (`ts` UTC µs or datetime, `community`,
    `member`, `type`, `content_id`, `text`), members already resolved to persons.

    Args:
        events: the events (any types; only what the models read is kept).
        catalogue: items the events may not show (schema ITEMS): a row with a
            community is an item offered there from `ts` (an upcoming activity); a row
            without one only describes an item (a library item's title and body) in
            every community it was seen in.
    """
    frame = events.with_columns(
        pl.col("ts").dt.epoch("us") if events.schema["ts"] != pl.Int64 else pl.col("ts")
    ).filter(pl.col("member").is_not_null() | (pl.col("type") == "content_sent"))
    named = frame.filter(pl.col("content_id").is_not_null())
    touched = named.filter(pl.col("type").is_in(["content_click", "activity_signup"]))
    engagements = touched.filter(pl.col("member").is_not_null()).select(
        "member", pl.col("content_id").alias("item"), "community", "ts"
    )
    sent = named.filter(pl.col("type") == "content_sent")
    parts = [
        sent.select(pl.col("content_id").alias("item"), "community", "ts", "text"),
        engagements.select("item", "community", "ts", pl.lit(None, pl.String).alias("text")),
    ]
    if catalogue is not None:
        seen = pl.concat(parts).group_by("item", "community").agg(pl.col("ts").min())
        loose = catalogue.filter(pl.col("community").is_null()).select("item", "text")
        parts += [
            catalogue.filter(pl.col("community").is_not_null()).select(list(ITEMS)),
            seen.join(loose, on="item").select(list(ITEMS)),
        ]
    items = pl.concat([p.cast(ITEMS) for p in parts])  # type: ignore[arg-type]
    writings = frame.filter((pl.col("type") == "message") & pl.col("text").is_not_null())
    memberships = frame.filter(pl.col("member").is_not_null()).select("member", "community")
    return Log(
        engagements=engagements.cast(ENGAGEMENTS),  # type: ignore[arg-type]
        items=items,
        writings=writings.select(list(WRITINGS)).cast(WRITINGS),  # type: ignore[arg-type]
        memberships=memberships.unique().cast(MEMBERSHIPS),  # type: ignore[arg-type]
    )
