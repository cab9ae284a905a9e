"""Member tastes: each member prefers one topic of their community's content.

A content item's topic is its title (one of the kind's content phrases). A member's
favourite topic is a hash of their number, so it costs no RNG draw and no state; a
click on the favourite topic is `(n + 1) / 2` times as likely as the average, on any
other topic half as likely, so the average click rate over topics is unchanged. The
recommender (shequn.members.recommend.model) has something to learn from this.
"""

from __future__ import annotations

import zlib

import numpy as np

from shequn.simulate.texts import mix

OTHER = 0.5  # click weight of a topic that is not the member's favourite


def favourite(members: np.ndarray, n_topics: int, community: str) -> np.ndarray:
    """Each member's favourite topic (0 .. n_topics - 1)."""
    salt = zlib.crc32(community.encode())
    return (mix(members, salt) % np.uint64(n_topics)).astype(np.int64)


def click_weight(members: np.ndarray, topic: int, n_topics: int, community: str) -> np.ndarray:
    """The factor on each member's chance to click an item of `topic` (mean 1)."""
    liked = favourite(members, n_topics, community) == topic
    return np.where(liked, n_topics - (n_topics - 1) * OTHER, OTHER)
