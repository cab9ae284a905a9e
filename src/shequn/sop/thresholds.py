"""A metric threshold: "active_rate below 0.3 for 3 days running".

Used by the `metric_threshold` trigger, by a step's emergency plan and by lifecycle
stage entry conditions. The engine's daily watch (`shequn.sop.watch`) measures each
community's daily value and records a `metric_crossed` event, with the threshold's
`id` as its text, on the day the condition has held `days` local days in a row (once
per run: it re-arms after a day that does not satisfy it).

A threshold always reads a daily figure of the registry (`shequn.domain.metrics.DAILY`):
`metric: active_rate` is `daily_active_rate` (DAU ÷ members at the day's end), not the
period metric `active_rate` (active ÷ members during). Either name may be written; the
short one is kept (it is the threshold's id and the crossing event's `metric`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shequn.domain.metrics import DAILY, DAILY_BY_THRESHOLD, Metric

# What a threshold's `metric:` may say: the short names (docs/lifecycle.md).
WATCHABLE = tuple(m.threshold for m in DAILY)
_SHORT = {m.name: m.threshold for m in DAILY}

Bound = float | Literal["goal"]


class Threshold(BaseModel):
    """metric below/above a value (or the community's goal for it) for `days` days."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Built from the metric registry at import: pydantic reads it, mypy cannot.
    metric: Literal[WATCHABLE]  # type: ignore[valid-type]
    below: Bound | None = None
    above: Bound | None = None
    days: int = Field(default=1, ge=1, le=90)

    @model_validator(mode="before")
    @classmethod
    def _short_name(cls, data: Any) -> Any:
        """Accept a daily figure's registry name (`daily_active_rate`) for its short one."""
        if isinstance(data, dict) and (short := _SHORT.get(str(data.get("metric")))):
            return {**data, "metric": short}
        return data

    @model_validator(mode="after")
    def _one_bound(self) -> Threshold:
        if (self.below is None) == (self.above is None):
            raise ValueError(
                "a threshold needs exactly one of below: or above: "
                "(a number, or goal for the community's target of that metric)"
            )
        if self.bound == "goal" and self.figure.goal is None:
            raise ValueError(
                f"{self.metric} in a threshold is the {self.figure.english} of one day "
                f"({self.figure.name}), which no goal measures (the goal metric "
                f"{self.metric} is a figure of a whole period); write a number, "
                f"e.g. {self.op}: 0.3 (see docs/lifecycle.md)"
            )
        return self

    @property
    def figure(self) -> Metric:
        """The daily figure of the registry this threshold reads."""
        return DAILY_BY_THRESHOLD[self.metric]

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
