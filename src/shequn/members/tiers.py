"""Tiers over profile figures: which tier each member qualifies for, and holds.

A tier (shequn.config.Tier) is reached when every minimum it sets is met; minimums
are read over the last `window_days` days when the tier sets a window (figures
`*_window` of shequn.members.figures, computed for that window), over all time
otherwise. Tiers are listed lowest first; the highest met wins.

Promotion is at once. Demotion waits: a member whose recorded tier is above what they
now qualify for keeps it if they still qualified for it `grace_days` ago (a second
evaluation at that instant), and drops only when they fail it at both instants.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from shequn.config import Tier

# Figures of a tier's minimums: (all-time column, windowed column).
_FIGURES: dict[str, tuple[str, str]] = {
    "min_orders": ("orders", "orders_window"),
    "min_gmv": ("gmv", "gmv_window"),
    "min_days_active": ("days_active", "days_active_window"),
}


# Every profile column a tier can read (`meets`).
READS: tuple[str, ...] = (
    "points",
    "tenure_days",
    *(column for pair in _FIGURES.values() for column in pair),
)


def reads(tier: Tier) -> set[str]:
    """The columns of `READS` that `meets(tier)` reads."""
    figures = {
        pair[1 if tier.window_days is not None else 0]
        for field, pair in _FIGURES.items()
        if getattr(tier, field)
    }
    return {"points", *figures, *(["tenure_days"] if tier.min_tenure_days else [])}


def grace_reads(tiers: list[Tier]) -> set[str]:
    """What `decide` reads of the profiles at a grace instant: the figures of the tiers
    from the lowest one with a grace period up (whether a lower tier was met then
    changes nothing: a recorded tier is kept only if it, or a higher one, was)."""
    graced = [rank for rank, tier in enumerate(tiers) if tier.grace_days]
    if not graced:
        return set()
    return set().union(*(reads(tier) for tier in tiers[min(graced) :]))


def meets(tier: Tier) -> pl.Expr:
    """Whether each row of a profile frame meets every minimum of `tier`."""
    windowed = tier.window_days is not None
    test = pl.col("points").fill_null(0) >= tier.min_points
    for field, (total, window) in _FIGURES.items():
        minimum = getattr(tier, field)
        if minimum:
            test = test & (pl.col(window if windowed else total) >= minimum)
    if tier.min_tenure_days:
        test = test & (pl.col("tenure_days") >= tier.min_tenure_days)
    return test


def qualified(tiers: list[Tier]) -> pl.Expr:
    """The highest tier each row meets (null below the first)."""
    expr: pl.Expr = pl.lit(None, pl.String)
    for tier in tiers:  # lowest first: a later (higher) tier overrides
        expr = pl.when(meets(tier)).then(pl.lit(tier.name)).otherwise(expr)
    return expr


def _ranked(frame: pl.DataFrame, tiers: list[Tier]) -> pl.DataFrame:
    """Columns member, recorded_tier, now_tier (the highest met now) and their ranks
    (held_rank, now_rank; -1 for none)."""
    rank = {t.name: i for i, t in enumerate(tiers)}
    now = frame.select("member", "recorded_tier", qualified(tiers).alias("now_tier"))
    return now.with_columns(
        pl.col("recorded_tier").replace_strict(rank, default=-1).alias("held_rank"),
        pl.col("now_tier").replace_strict(rank, default=-1).alias("now_rank"),
    )


def graced(tiers: list[Tier]) -> list[str]:
    """The names of the tiers with a grace period."""
    return [t.name for t in tiers if t.grace_days]


# What `readers` reads of a profile.
HELD_READS: tuple[str, ...] = ("member", "recorded_tier", *READS)


def readers(frame: pl.DataFrame, tiers: list[Tier]) -> pl.Series:
    """The members of `frame` (profiles with at least `HELD_READS`) whose tier `decide`
    reads an earlier instant's figures for: those who no longer meet a recorded tier
    that has a grace period (for everyone else the tier decided does not depend on
    them)."""
    names = graced(tiers)
    if not names:
        return frame["member"].clear()
    # Only the few recorded in such a tier are ranked (not every member), and only the
    # columns ranking reads are filtered.
    held = frame.select(HELD_READS).filter(pl.col("recorded_tier").is_in(names))
    ranked = _ranked(held, tiers)
    return ranked.filter(pl.col("now_rank") < pl.col("held_rank"))["member"]


def decide(
    frame: pl.DataFrame,
    tiers: list[Tier],
    earlier: Callable[[int], pl.DataFrame],
) -> pl.DataFrame:
    """Columns member, tier, tier_reason: the tier each member holds now.

    Args:
        frame: profiles now, with `recorded_tier` (the last tier_changed, or null).
        tiers: the tiers of the settings, lowest first.
        earlier: profiles `days` days ago (for the grace period), called once per
            distinct grace length.
    """
    rank = {t.name: i for i, t in enumerate(tiers)}
    now = _ranked(frame, tiers)
    kept = pl.lit(False)
    for grace in sorted({t.grace_days for t in tiers if t.grace_days}):
        before = earlier(grace).select("member", qualified(tiers).alias(f"g{grace}"))
        now = now.join(before, on="member", how="left")
        names = [t.name for t in tiers if t.grace_days == grace]
        within = pl.col("recorded_tier").is_in(names)
        before_rank = pl.col(f"g{grace}").replace_strict(rank, default=-1)
        kept = kept | (within & (before_rank >= pl.col("held_rank")))
    demoted = pl.col("now_rank") < pl.col("held_rank")
    keep = demoted & kept
    return now.select(
        "member",
        pl.when(keep).then(pl.col("recorded_tier")).otherwise(pl.col("now_tier")).alias("tier"),
        pl.when(keep)
        .then(pl.lit("kept in the grace period"))
        .when(demoted)
        .then(pl.lit("no longer meets ") + pl.col("recorded_tier"))
        .when(pl.col("now_rank") > pl.col("held_rank"))
        .then(pl.lit("meets ") + pl.col("now_tier"))
        .otherwise(pl.lit(""))
        .alias("tier_reason"),
    )
