"""A metric threshold: "active_rate below 0.3 for 3 days running".

Used by the `metric_threshold` trigger, by a step's emergency plan and by lifecycle
stage entry conditions. The engine's daily watch (`shequn.sop.watch`) measures each
community's daily value and records a `metric_crossed` event, with the threshold's
`id` as its text, on the day the condition has held `days` local days in a row (once
per run: it re-arms after a day that does not satisfy it).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Metrics measurable per community and local day (docs/metrics.md names).
WATCHABLE = (
    "members",  # members at the end of the day
    "joins",
    "leaves",
    "messages",
    "dau",
    "active_rate",  # dau / members at the end of the day
    "orders",
    "gmv",
)

Bound = float | Literal["goal"]


class Threshold(BaseModel):
    """metric below/above a value (or the community's goal for it) for `days` days."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: Literal[WATCHABLE]  # type: ignore[valid-type]
    below: Bound | None = None
    above: Bound | None = None
    days: int = Field(default=1, ge=1, le=90)

    @model_validator(mode="after")
    def _one_bound(self) -> Threshold:
        if (self.below is None) == (self.above is None):
            raise ValueError(
                "a threshold needs exactly one of below: or above: "
                "(a number, or goal for the community's target of that metric)"
            )
        return self

    @property
    def op(self) -> Literal["below", "above"]:
        return "below" if self.below is not None else "above"

    @property
    def bound(self) -> Bound:
        value = self.below if self.below is not None else self.above
        assert value is not None
        return value

    @property
    def id(self) -> str:
        """Canonical text: `active_rate<0.3x3d`, `gmv>goalx1d`; the event's text."""
        sign = "<" if self.op == "below" else ">"
        bound = self.bound if self.bound == "goal" else f"{float(self.bound):g}"
        return f"{self.metric}{sign}{bound}x{self.days}d"
