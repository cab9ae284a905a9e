"""RFM segments for buyers: recency, frequency and monetary scores, and a named segment.

Each score is 1–5 by quintile among the buyers of the frame (5 = most recent, most
orders, most spent; ties share the lower quintile). Segments, first match wins:

| segment | rule |
|---|---|
| `champions` | R ≥ 4 and F ≥ 4 |
| `loyal` | F ≥ 4 |
| `new_buyers` | R ≥ 4 and F = 1 |
| `promising` | R ≥ 4 |
| `at_risk_buyers` | R ≤ 2 and F ≥ 3 |
| `hibernating` | R ≤ 2 |
| `needs_attention` | everyone else who bought |

Members who never bought have no scores and no segment.
"""

from __future__ import annotations

import polars as pl

SEGMENTS: tuple[str, ...] = (
    "champions",
    "loyal",
    "new_buyers",
    "promising",
    "at_risk_buyers",
    "hibernating",
    "needs_attention",
)


def _quintile(value: pl.Expr, buyers: pl.Expr) -> pl.Expr:
    """1–5 by the share of buyers with a strictly smaller value."""
    # Ranked among buyers only (others null): cheaper than a window over `buyers`.
    below = pl.when(buyers).then(value).rank("min") - 1
    return ((below * 5 // buyers.sum()) + 1).cast(pl.Int8)


def with_rfm(frame: pl.DataFrame, now: int) -> pl.DataFrame:
    """`frame` (profiles: orders, gmv, last_order) with r_score, f_score, m_score, segment."""
    buyers = pl.col("orders") > 0
    scored = frame.with_columns(
        _quintile(pl.col("last_order").fill_null(0) - now, buyers).alias("r_score"),
        _quintile(pl.col("orders"), buyers).alias("f_score"),
        _quintile(pl.col("gmv"), buyers).alias("m_score"),
    )
    r, f = pl.col("r_score"), pl.col("f_score")
    segment = (
        pl.when(~buyers)
        .then(None)
        .when((r >= 4) & (f >= 4))
        .then(pl.lit("champions"))
        .when(f >= 4)
        .then(pl.lit("loyal"))
        .when((r >= 4) & (pl.col("orders") == 1))
        .then(pl.lit("new_buyers"))
        .when(r >= 4)
        .then(pl.lit("promising"))
        .when((r <= 2) & (f >= 3))
        .then(pl.lit("at_risk_buyers"))
        .when(r <= 2)
        .then(pl.lit("hibernating"))
        .otherwise(pl.lit("needs_attention"))
    )
    return scored.with_columns(segment.alias("segment"))
