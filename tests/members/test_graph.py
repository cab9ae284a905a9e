"""Opinion leaders on a hand-built graph whose ranks are known, and seed members."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
import pytest

from shequn.analytics.copy import memory_copy
from shequn.members.figures import AsOf
from shequn.members.graph import GraphWindow, edges, rank, seeds
from tests.analytics.helpers import SHANGHAI, LogBuilder, to_arrow

AT = AsOf.of(datetime(2026, 3, 31, tzinfo=SHANGHAI), SHANGHAI)


def _log() -> LogBuilder:
    """Two groups bridged by `bridge`: x1..x3 reply to hub; y1, y2 reply to star;
    hub and star both reply to bridge; staff (excluded) mentions everyone."""
    b = LogBuilder()
    b.add("2026-03-01 09:00", "message", "hub", message_id="h")
    b.add("2026-03-01 09:00", "message", "star", message_id="s")
    b.add("2026-03-01 09:00", "message", "bridge", message_id="b")
    for i, who in enumerate(("x1", "x2", "x3")):
        b.add(f"2026-03-0{2 + i} 10:00", "message", who, message_id=f"{who}m", reply_to="h")
    for i, who in enumerate(("y1", "y2")):
        b.add(f"2026-03-0{2 + i} 11:00", "reaction", who, reply_to="s")
    b.add("2026-03-05 10:00", "message", "hub", message_id="h2", reply_to="b")
    b.add("2026-03-05 11:00", "message", "star", message_id="s2", reply_to="b")
    b.add("2026-03-06 11:00", "message", "bridge", message_id="b2", reply_to="h")
    b.add("2026-03-06 12:00", "message", "staff", meta='{"mentions": ["x1", "y1", "bridge"]}')
    return b


def _ranked() -> pl.DataFrame:
    con = memory_copy(to_arrow(_log().events), SHANGHAI)
    return rank(edges(con, AT, GraphWindow(half_life_days=1e9), exclude=["staff"]))


def test_edges_sum_interactions_without_staff() -> None:
    con = memory_copy(to_arrow(_log().events), SHANGHAI)
    found = edges(con, AT, GraphWindow(half_life_days=1e9), exclude=["staff"])
    assert found.select("source", "target", "n").rows() == [
        ("bridge", "hub", 1),
        ("hub", "bridge", 1),
        ("star", "bridge", 1),
        ("x1", "hub", 1),
        ("x2", "hub", 1),
        ("x3", "hub", 1),
        ("y1", "star", 1),
        ("y2", "star", 1),
    ]
    assert found["weight"].to_list() == pytest.approx([1.0] * 8, rel=1e-6)


def _power_pagerank(links: list[tuple[str, str]], damping: float = 0.85) -> dict[str, float]:
    """PageRank by plain power iteration (dangling nodes spread evenly), to check igraph."""
    nodes = sorted({n for link in links for n in link})
    rank = dict.fromkeys(nodes, 1 / len(nodes))
    out = {n: [t for s, t in links if s == n] for n in nodes}
    for _ in range(200):
        dangling = sum(rank[n] for n in nodes if not out[n])
        nxt = dict.fromkeys(nodes, (1 - damping) / len(nodes) + damping * dangling / len(nodes))
        for n in nodes:
            for t in out[n]:
                nxt[t] += damping * rank[n] / len(out[n])
        rank = nxt
    return rank


def test_ranks_and_reasons() -> None:
    ranked = _ranked()
    links = [("x1", "hub"), ("x2", "hub"), ("x3", "hub"), ("y1", "star"), ("y2", "star")]
    links += [("hub", "bridge"), ("star", "bridge"), ("bridge", "hub")]
    expected = _power_pagerank(links)
    got = dict(zip(ranked["member"], ranked["pagerank"], strict=True))
    assert got == pytest.approx(expected, abs=1e-6)
    assert ranked["member"].to_list()[:3] == ["hub", "bridge", "star"]
    row = ranked.row(0, named=True)
    assert (row["people"], row["received"]) == (4, 4)
    assert len(row["top_sources"].split(",")) == 3
    assert set(row["top_sources"].split(",")) <= {"x1", "x2", "x3", "bridge"}
    # Shortest paths through each node, counted by hand: x_i -> bridge via hub (3);
    # y_i -> bridge via star (2), y_i -> hub via star and bridge (2 each);
    # star -> hub via bridge (1).
    between = dict(zip(ranked["member"], ranked["betweenness"], strict=True))
    assert between == {
        "hub": 3,
        "star": 4,
        "bridge": 3,
        "x1": 0,
        "x2": 0,
        "x3": 0,
        "y1": 0,
        "y2": 0,
    }


def test_decay_halves_an_interaction_per_half_life() -> None:
    con = memory_copy(to_arrow(_log().events), SHANGHAI)
    found = edges(con, AT, GraphWindow(half_life_days=30.0), exclude=["staff"])
    x1 = found.filter(pl.col("source") == "x1")["weight"].item()
    # 2026-03-02 10:00 to 2026-03-31 00:00 is 28 days 14 hours.
    assert x1 == pytest.approx(2 ** (-(28 + 14 / 24) / 30), rel=1e-6)


def test_seeds_are_early_and_consistent() -> None:
    b = LogBuilder()
    days = ["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26", "2026-02-02", "2026-02-09"]
    for day in days:
        b.add(f"{day} 10:00", "message", "early")  # every week since the start
    b.add("2026-01-06 10:00", "message", "once")  # early, then gone: 1 week of 6
    b.add("2026-02-09 10:00", "message", "late")  # 35 days after the start
    at = AsOf.of(datetime(2026, 2, 10, tzinfo=SHANGHAI), SHANGHAI)
    found = seeds(memory_copy(to_arrow(b.events), SHANGHAI), at, early_days=30)
    assert found.select("member", "days_after_start", "weeks_active").rows() == [("early", 0, 6)]


def _two_groups(size: int, seed: int) -> pl.DataFrame:
    """Two groups of `size` whose members answer each other at random, joined only
    through `bridge`, whom members of both answer and who answers both."""
    rng = np.random.default_rng(seed)
    links = set()
    for group in ("a", "b"):
        for i in range(size):
            for j in rng.choice(size, 3, replace=False):
                if i != j:
                    links.add((f"{group}{i}", f"{group}{j}"))
        for i in rng.choice(size, 10, replace=False):
            links.add((f"{group}{i}", "bridge"))
            links.add(("bridge", f"{group}{(i + 1) % size}"))
    rows = sorted(links)
    return pl.DataFrame(
        {
            "source": [s for s, _ in rows],
            "target": [t for _, t in rows],
            "weight": rng.uniform(0.5, 2.0, len(rows)),
            "n": [1] * len(rows),
            "recent": [0] * len(rows),
        }
    )


def test_betweenness_is_estimated_from_drawn_sources_beyond_the_exact_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shequn.members import graph

    links = _two_groups(150, seed=3)
    exact = dict(rank(links).select("member", "betweenness").rows())
    assert not graph.estimated(rank(links))
    monkeypatch.setattr(graph, "EXACT_UP_TO", 100)
    # Every person drawn: the scaled passes are the exact betweenness.
    monkeypatch.setattr(graph, "SOURCES", len(exact))
    assert dict(rank(links).select("member", "betweenness").rows()) == pytest.approx(exact)
    # A fifth of them: an estimate, in which the bridge still stands out first.
    monkeypatch.setattr(graph, "SOURCES", 60)
    ranked = rank(links)
    assert graph.estimated(ranked)
    guess = dict(ranked.select("member", "betweenness").rows())
    assert max(guess, key=guess.__getitem__) == max(exact, key=exact.__getitem__) == "bridge"
    assert guess["bridge"] == pytest.approx(exact["bridge"], rel=0.25)


def test_an_estimated_betweenness_is_shown_whole_and_an_exact_one_as_computed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shequn.members import graph

    links = _two_groups(150, seed=3)
    exact = rank(links)
    assert graph.shown(exact, 5).equals(exact.head(5))
    monkeypatch.setattr(graph, "EXACT_UP_TO", 100)
    monkeypatch.setattr(graph, "SOURCES", 60)
    ranked = rank(links)
    head = graph.shown(ranked, 5)
    assert head["betweenness"].dtype == pl.Int64
    assert any(v != round(v) for v in ranked["betweenness"].head(5))  # had a fraction
    for whole, value in zip(head["betweenness"], ranked["betweenness"].head(5), strict=True):
        assert abs(whole - value) <= 0.5
    assert head.drop("betweenness").equals(ranked.head(5).drop("betweenness"))
