"""Member lifecycle states (new, active, silent, at_risk, churned, returned), vectorised.

Decided per person from their figures (shequn.members.figures) and the thresholds of
`[member_states]` in shequn.toml (shequn.config.MemberStates), first match wins:

1. churned: left every community they were in, or idle for `churned_days` or more
   (a member never active counts as idle since they were first seen);
2. at_risk: idle for `at_risk_days` or more;
3. silent: idle for `silent_days` or more;
4. new: first seen less than `new_days` ago;
5. returned: active again within `returned_days` after a gap of `churned_days`;
6. active: everyone else.
"""

from __future__ import annotations

import polars as pl

from shequn.config import MemberStates

STATES: tuple[str, ...] = ("new", "active", "silent", "at_risk", "churned", "returned")
DAY_US = 86_400_000_000


def state_expr(rules: MemberStates, today: int, now: int) -> pl.Expr:
    """The lifecycle state of each row of a figures frame, as an expression."""
    idle = ((now - pl.coalesce("last_active", "first_seen")) / DAY_US).alias("idle")
    seen = (now - pl.col("first_seen")) / DAY_US
    returned = pl.col("returned_day").is_not_null() & (
        pl.col("returned_day") > today - rules.returned_days
    )
    return (
        pl.when(pl.col("has_left") | (idle >= rules.churned_days))
        .then(pl.lit("churned"))
        .when(idle >= rules.at_risk_days)
        .then(pl.lit("at_risk"))
        .when(idle >= rules.silent_days)
        .then(pl.lit("silent"))
        .when(seen < rules.new_days)
        .then(pl.lit("new"))
        .when(returned)
        .then(pl.lit("returned"))
        .otherwise(pl.lit("active"))
        .alias("state")
    )
