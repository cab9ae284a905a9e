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
    # Ranked over the three columns in one chunk each: a spliced frame (kept profiles)
    # is in many, which ranks cost twice as much over.
    scored = (
        frame.select("orders", "gmv", "last_order")
        .rechunk()
        .with_columns(
            _quintile(pl.col("last_order").fill_null(0) - now, buyers).alias("r_score"),
            _quintile(pl.col("orders"), buyers).alias("f_score"),
            _quintile(pl.col("gmv"), buyers).alias("m_score"),
        )
    )
    r, f = pl.col("r_score"), pl.col("f_score")
    rules = {  # SEGMENTS but the last, first match wins
        "champions": (r >= 4) & (f >= 4),
        "loyal": f >= 4,
        "new_buyers": (r >= 4) & (pl.col("orders") == 1),
        "promising": r >= 4,
        "at_risk_buyers": (r <= 2) & (f >= 3),
        "hibernating": r <= 2,
    }
    # The segment's number, then its name: cheaper than choosing among strings per row.
    number: pl.Expr = pl.lit(len(SEGMENTS) - 1)
    for name, rule in reversed(rules.items()):
        number = pl.when(rule).then(SEGMENTS.index(name)).otherwise(number)
    numbers = scored.select(pl.when(buyers).then(number).cast(pl.UInt32)).to_series()
    scores = scored.select("r_score", "f_score", "m_score")
    return frame.hstack([*scores, pl.Series("segment", SEGMENTS).gather(numbers)])
