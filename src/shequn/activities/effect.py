"""An activity's effect: participants' activity and orders after it, against a baseline.

Participants are the members who attended (who signed up, when nobody's attendance was
recorded). For each member of the community we count messages, orders and GMV in the
`days` before the start and the `days` after the end. The effect is a difference in
differences: the participants' change (after − before) minus the change of similar
non-participants — members matched on how much they wrote before (strata of 0, 1–2,
3–5, 6–10, 11+ messages), each stratum weighted by its share of participants. GMV
attributed = the GMV effect per participant × participants; ROI = (attributed GMV −
actual cost) ÷ actual cost, with a bootstrap interval (members resampled within their
group and stratum, 1,000 times, vectorised).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

STRATA = [0, 1, 3, 6, 11]  # lower bounds of the before-messages strata
MEASURES = ("messages", "orders", "gmv")


@dataclass(frozen=True)
class Effect:
    participants: int
    matched: int  # non-participants in the participants' strata
    before: dict[str, float]  # participants' mean per member before
    after: dict[str, float]
    did: dict[str, float]  # difference in differences per participant
    attributed_gmv: float
    roi: float | None
    roi_low: float | None
    roi_high: float | None


def per_member(
    members: list[str],
    events: pl.DataFrame,
    before: tuple[int, int],
    after: tuple[int, int],
) -> pl.DataFrame:
    """Per member: messages, orders, gmv in `before` and in `after` ([lo, hi) µs).

    `events` has member, type (message/order), ts and amount (a float; 0 for messages).
    """
    base = pl.DataFrame({"member": members}, schema={"member": pl.String})

    def window(lo: int, hi: int, suffix: str) -> pl.DataFrame:
        inside = events.filter((pl.col("ts") >= lo) & (pl.col("ts") < hi))
        return inside.group_by("member").agg(
            (pl.col("type") == "message").sum().cast(pl.Float64).alias(f"messages_{suffix}"),
            (pl.col("type") == "order").sum().cast(pl.Float64).alias(f"orders_{suffix}"),
            pl.col("amount").filter(pl.col("type") == "order").sum().alias(f"gmv_{suffix}"),
        )

    table = base.join(window(*before, "before"), on="member", how="left").join(
        window(*after, "after"), on="member", how="left"
    )
    table = table.fill_null(0.0)
    stratum = np.searchsorted(STRATA, table["messages_before"].to_numpy(), side="right") - 1
    return table.with_columns(pl.Series("stratum", stratum, dtype=pl.Int64))


def _did(
    table: pl.DataFrame, weights: np.ndarray, strata: np.ndarray, part: np.ndarray
) -> dict[str, np.ndarray]:
    """Difference in differences per measure, for (boot × member) weight matrices."""
    out = {}
    n_strata = len(STRATA)
    for m in MEASURES:
        change = (table[f"{m}_after"] - table[f"{m}_before"]).to_numpy()
        w_part = weights * part
        w_ctrl = weights * ~part
        mean_part = (w_part @ change) / w_part.sum(axis=1)
        # Controls' mean change per stratum, weighted by the participants' strata.
        control = np.zeros(weights.shape[0])
        for s in range(n_strata):
            in_s = strata == s
            share = w_part[:, in_s].sum(axis=1) / w_part.sum(axis=1)
            ctrl_w = w_ctrl[:, in_s]
            with np.errstate(invalid="ignore", divide="ignore"):
                ctrl_mean = np.where(
                    ctrl_w.sum(axis=1) > 0, (ctrl_w @ change[in_s]) / ctrl_w.sum(axis=1), 0.0
                )
            control += share * ctrl_mean
        out[m] = mean_part - control
    return out


def estimate(
    table: pl.DataFrame,
    participants: set[str],
    cost: float | None,
    seed: int = 0,
    boots: int = 1000,
) -> Effect:
    """The effect from `per_member`'s table, the participants and the actual cost."""
    part = table["member"].is_in(list(participants)).to_numpy()
    strata = table["stratum"].to_numpy().astype(int)
    n = table.height
    ones = np.ones((1, n))
    point = (
        {m: float(v[0]) for m, v in _did(table, ones, strata, part).items()}
        if part.any()
        else dict.fromkeys(MEASURES, 0.0)
    )
    matched = int((~part & np.isin(strata, np.unique(strata[part]))).sum())
    count = int(part.sum())
    attributed = point["gmv"] * count
    roi = low = high = None
    if cost and count and matched:
        roi = (attributed - cost) / cost
        rng = np.random.default_rng(seed)
        # The weight matrix is boots × members: fewer draws for a very large community.
        boots = max(200, min(boots, 5_000_000 // n))
        weights = _resample_weights(rng, part, strata, boots)
        boot = _did(table, weights, strata, part)["gmv"] * count
        low, high = (float(q) for q in np.nanquantile((boot - cost) / cost, [0.025, 0.975]))
    mine = table.filter(pl.Series(part))
    return Effect(
        participants=count,
        matched=matched,
        before={m: _mean(mine[f"{m}_before"]) for m in MEASURES},
        after={m: _mean(mine[f"{m}_after"]) for m in MEASURES},
        did=point,
        attributed_gmv=attributed,
        roi=roi,
        roi_low=low,
        roi_high=high,
    )


def _resample_weights(
    rng: np.random.Generator, part: np.ndarray, strata: np.ndarray, boots: int
) -> np.ndarray:
    """Bootstrap weights (boots × members): each group and stratum resampled with replacement."""
    weights = np.zeros((boots, part.size))
    for group in (True, False):
        for s in np.unique(strata):
            idx = np.flatnonzero((part == group) & (strata == s))
            if idx.size:
                weights[:, idx] = rng.multinomial(
                    idx.size, np.full(idx.size, 1 / idx.size), size=boots
                )
    return weights


def _mean(column: pl.Series) -> float:
    """A numeric column's mean; 0 for an empty one."""
    value = column.mean()
    return float(value) if isinstance(value, int | float) else 0.0
