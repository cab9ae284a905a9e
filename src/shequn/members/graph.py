"""Opinion leaders (意见领袖) and seed members (种子用户) from the interaction graph.

The graph is directed and weighted: replier → author, reactor → author, mentioner →
mentioned (shequn.members.sql.INTERACTIONS), each interaction weighing
2^(-age / half_life), so last month counts more than last year. Staff and bots (the
operators' contacts, and any key passed in `exclude`) are left out. igraph computes
PageRank (who the attention flows to) and betweenness (who bridges groups; estimated
from sampled sources past `EXACT_UP_TO` people); the
ranked list carries its reasons: how many distinct people answer them, who most, and
the trend (interactions received in the last `recent_days` against the days before).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

import duckdb
import igraph as ig
import numpy as np
import polars as pl

from shequn.analytics.sql import PERSONS
from shequn.config import Settings
from shequn.members import sql
from shequn.members.figures import DAY_US, AsOf, read_frame, registered
from shequn.workspace import Workspace


@dataclass(frozen=True)
class GraphWindow:
    """Which interactions count and how they decay."""

    half_life_days: float = 30.0
    since_days: int = 365
    recent_days: int = 30


def edges(
    con: duckdb.DuckDBPyConnection,
    at: AsOf,
    window: GraphWindow = GraphWindow(),
    exclude: Iterable[str] = (),
    communities: Collection[str] | None = None,
) -> pl.DataFrame:
    """Weighted edges (source, target, weight, n, recent) summed over kinds: of the
    interactions in `communities` only, when given."""
    params = {
        "now": at.now,
        "since": at.now - window.since_days * DAY_US,
        "recent_start": at.now - window.recent_days * DAY_US,
        "half_life_us": int(window.half_life_days * DAY_US),
        "scope": sql.EVERY_COMMUNITY if communities is None else sql.SCOPED,
    }
    scope = pl.DataFrame({"community": sorted(communities or ())}, schema={"community": pl.String})
    with registered(con, graph_scope=scope):
        frame = read_frame(con, sql.EDGES.format(**params))
    skip = list(exclude)
    return (
        frame.filter(~pl.col("source").is_in(skip) & ~pl.col("target").is_in(skip))
        .group_by("source", "target")
        .agg(pl.col("weight").sum(), pl.col("n").sum(), pl.col("recent").sum())
        .sort("source", "target")
    )


def rank(graph_edges: pl.DataFrame, top_repliers: int = 3) -> pl.DataFrame:
    """Members ranked by PageRank, with betweenness and the reasons.

    Columns: member, pagerank, betweenness, people (distinct members who interact with
    them), received (interactions), top_sources (who most, comma-separated), trend
    (interactions received recently / the rest; null when there were none before).
    """
    if graph_edges.is_empty():
        return pl.DataFrame(schema=_RANK_SCHEMA)
    names = pl.concat([graph_edges["source"], graph_edges["target"]]).unique().sort()
    index = {name: i for i, name in enumerate(names.to_list())}
    pairs = graph_edges.select(
        pl.col("source").replace_strict(index, return_dtype=pl.Int64),
        pl.col("target").replace_strict(index, return_dtype=pl.Int64),
    ).to_numpy()
    g = ig.Graph(n=len(index), edges=pairs.tolist(), directed=True)
    weights = graph_edges["weight"].to_list()
    pagerank = g.pagerank(weights=weights, directed=True)
    between = betweenness(g, weights)
    scores = pl.DataFrame({"member": names, "pagerank": pagerank, "betweenness": between})
    return (
        scores.join(_reasons(graph_edges, top_repliers), on="member", how="left")
        .with_columns(pl.col("people", "received").fill_null(0))
        .sort(["pagerank", "member"], descending=[True, False])
    )


# Betweenness is exact up to this many people: Brandes' algorithm runs one shortest-path
# pass from each of them (a second at 5,000; 0.17 s each at 456,000 people, so days for
# all of them). Beyond, the passes from SOURCES people drawn at random (seeded) are
# scaled by people / SOURCES: an unbiased estimate (Brandes & Pich, 2007) whose strong
# bridges stand out, at 5 s for 456,000 people.
EXACT_UP_TO = 5_000
SOURCES = 32
SEED = 7


def estimated(ranked: pl.DataFrame) -> bool:
    """Whether the betweenness of a `rank` result is estimated (too many people)."""
    return ranked.height > EXACT_UP_TO


def shown(ranked: pl.DataFrame, top: int) -> pl.DataFrame:
    """The first `top` rows of a `rank` result as they are shown: an estimated
    betweenness (`estimated`) to the whole number, since its fraction is noise."""
    head = ranked.head(top)
    if not estimated(ranked):
        return head
    return head.with_columns(pl.col("betweenness").round(0).cast(pl.Int64))


def betweenness(g: ig.Graph, weights: list[float]) -> list[float]:
    """Each vertex's betweenness; distances are 1 / weight (a strong tie is short)."""
    distances = [1.0 / w for w in weights]
    people = g.vcount()
    if people <= EXACT_UP_TO:
        return list(g.betweenness(weights=distances, directed=True))
    drawn = np.random.default_rng(SEED).choice(people, size=SOURCES, replace=False)
    partial = g.betweenness(weights=distances, directed=True, sources=drawn.tolist())
    return [value * people / SOURCES for value in partial]


def _reasons(graph_edges: pl.DataFrame, top: int) -> pl.DataFrame:
    return (
        graph_edges.sort("weight", descending=True)
        .group_by("target")
        .agg(
            pl.len().alias("people"),
            pl.col("n").sum().alias("received"),
            pl.col("source").head(top).str.join(",").alias("top_sources"),
            pl.col("recent").sum().alias("_recent"),
        )
        .with_columns(
            pl.when(pl.col("received") > pl.col("_recent"))
            .then(pl.col("_recent") / (pl.col("received") - pl.col("_recent")))
            .alias("trend")
        )
        .drop("_recent")
        .rename({"target": "member"})
    )


_RANK_SCHEMA = {
    "member": pl.String,
    "pagerank": pl.Float64,
    "betweenness": pl.Float64,
    "people": pl.UInt32,
    "received": pl.Int64,
    "top_sources": pl.String,
    "trend": pl.Float64,
}

# Per person and community: first active day, and the share of the weeks since then
# (up to today) with activity; the community's first day.
SEEDS = f"""
WITH {PERSONS},
days AS (
    SELECT DISTINCT d.community, COALESCE(p.person, d.member) AS member, d.day
    FROM member_days AS d LEFT JOIN persons AS p ON p.key = d.member
    WHERE d.day <= {{today}}
),
starts AS (SELECT community, MIN(day) AS first_day FROM days GROUP BY community),
per AS (
    SELECT community, member, MIN(day) AS first_day,
           COUNT(DISTINCT day // 7) AS weeks_active
    FROM days GROUP BY community, member
)
SELECT p.community, p.member, p.first_day - s.first_day AS days_after_start,
       p.weeks_active,
       p.weeks_active / (({{today}} // 7) - (p.first_day // 7) + 1) AS consistency
FROM per AS p JOIN starts AS s ON s.community = p.community
WHERE p.first_day - s.first_day < {{early_days}}
  AND p.weeks_active / (({{today}} // 7) - (p.first_day // 7) + 1) >= {{consistency}}
ORDER BY p.community, p.first_day, p.member
"""


def seeds(
    con: duckdb.DuckDBPyConnection, at: AsOf, early_days: int = 30, consistency: float = 0.5
) -> pl.DataFrame:
    """Seed members: active in a community's first `early_days` days and in at least
    `consistency` of the weeks since (community, member, days_after_start,
    weeks_active, consistency)."""
    query = SEEDS.format(today=at.today, early_days=early_days, consistency=consistency)
    frame = pl.from_arrow(con.sql(query).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def staff(settings: Settings) -> list[str]:
    """Member keys of the operators (their `contact`), left out of the graph."""
    return [o.contact for o in settings.operators if o.contact and o.contact != "console"]


def leaders(
    ws: Workspace,
    when: datetime,
    exclude: Iterable[str] = (),
    communities: Collection[str] | None = None,
) -> pl.DataFrame:
    """The ranked opinion leaders of the workspace as of `when` (of the interactions
    in `communities` only, when given)."""
    from shequn.analytics.sync import open_copy

    at = AsOf.of(when, ws.settings.zone)
    skip = [*staff(ws.settings), *exclude]
    with open_copy(ws) as (con, _result):
        return rank(edges(con, at, exclude=skip, communities=communities))


def seed_members(
    ws: Workspace, when: datetime, communities: Collection[str] | None = None
) -> pl.DataFrame:
    """The seed members of every community as of `when` (of `communities`, when given)."""
    from shequn.analytics.sync import open_copy

    with open_copy(ws) as (con, _result):
        found = seeds(con, AsOf.of(when, ws.settings.zone))
    if communities is None:
        return found
    return found.filter(pl.col("community").is_in(list(communities)))
