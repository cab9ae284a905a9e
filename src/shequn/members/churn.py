"""Churn risk: P(an active member goes silent or leaves in the next N days).

Features are figures as of an instant (shequn.members.figures): recency, frequency,
engagement. The label of a member active at a cut-off is 1 when they have no
activity in the `horizon` days after it (or left). `fit_default` trains on the
workspace's own history (cut-off = now - horizon, label observed by now) and scores
every member as of now; shequn.members.evaluate compares it with the hiatus rule and
BG/NBD on a time split (docs/members.md has the figures).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

FEATURES: tuple[str, ...] = (
    "idle_days",
    "days_last_14",
    "days_prev_14",
    "days_last_90",
    "messages_window",
    "replies_received",
    "reactions_received",
    "tenure_days",
    "orders",
)


def feature_matrix(frame: pl.DataFrame) -> np.ndarray:
    """The model's inputs, one row per member (log-scaled counts)."""
    return frame.select(_feature(name) for name in FEATURES).to_numpy()


def _feature(name: str) -> pl.Expr:
    """One input of the model: a count or a number of days, log-scaled (missing: 0)."""
    return pl.col(name).cast(pl.Float64).fill_null(0).clip(lower_bound=0).log1p()


def active_at_cut(frame: pl.DataFrame, silent_days: int) -> pl.Expr:
    """Members who count as active at the cut-off (those whose churn we predict)."""
    return (
        pl.col("last_active").is_not_null()
        & (pl.col("idle_days") < silent_days)
        & ~pl.col("has_left")
    )


def labels(cut: pl.DataFrame, later: pl.DataFrame, horizon_us: int, cut_us: int) -> np.ndarray:
    """1 where a member of `cut` had no activity in (cut, cut + horizon] or left by then."""
    joined = cut.select("member").join(
        later.select("member", "last_active", "has_left"), on="member", how="left"
    )
    stayed = (pl.col("last_active") > cut_us) & (pl.col("last_active") <= cut_us + horizon_us)
    gone = ~stayed.fill_null(False) | pl.col("has_left").fill_null(False)
    return joined.select(gone.cast(pl.Int8)).to_series().to_numpy()


def hiatus_score(frame: pl.DataFrame, silent_days: int) -> np.ndarray:
    """The simple rule as a score: the share of `silent_days` already spent idle."""
    return frame.select(_hiatus(silent_days)).to_series().to_numpy()


def _hiatus(silent_days: int) -> pl.Expr:
    idle = pl.col("idle_days").fill_null(float(silent_days))
    return (idle / silent_days).clip(0.0, 1.0)


@dataclass(frozen=True)
class Logistic:
    """A fitted scaled logistic regression, as plain numbers (kept in the copy as JSON).

    Attributes:
        mean, scale: the standard scaler's per-feature centre and scale.
        coef, intercept: the regression's weights on the scaled features.
    """

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def proba(self, x: np.ndarray) -> np.ndarray:
        """P(class 1) for each row of `x`, vectorised."""
        from scipy.special import expit  # imported when used: a command starts faster

        z = ((x - np.array(self.mean)) / np.array(self.scale)) @ np.array(self.coef)
        return np.asarray(expit(z + self.intercept))


def fit_logistic(x: np.ndarray, y: np.ndarray) -> Logistic | None:
    """A scaled logistic regression, or None when the labels hold one class only."""
    if len(np.unique(y)) < 2:
        return None
    # Imported when fitting (a refit or an evaluation), not by every command that scores
    # with the kept model: scikit-learn takes a second to import.
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    fitted = LogisticRegression(max_iter=500).fit(scaler.transform(x), y)
    return Logistic(
        mean=tuple(float(v) for v in scaler.mean_),
        scale=tuple(float(v) for v in scaler.scale_),
        coef=tuple(float(v) for v in fitted.coef_[0]),
        intercept=float(fitted.intercept_[0]),
    )


# The features time alone moves. A member's score is the logistic of a part their other
# figures fix (`base`, kept with their profile while those stay) plus these features'.
TIMED: tuple[str, ...] = ("idle_days", "tenure_days")
# The column of a profile holding `base` (null without a model).
BASE = "churn_base"


def _terms(model: Logistic, names: tuple[str, ...]) -> pl.Expr:
    """The sum of the weighted, scaled features `names` (as `feature_matrix` scales them)."""
    total = pl.lit(0.0)
    for name, mean, scale, coef in zip(FEATURES, model.mean, model.scale, model.coef, strict=True):
        if name in names:
            total = total + (_feature(name) - mean) / scale * coef
    return total


def base(model: Logistic | None) -> pl.Expr:
    """The column `BASE`: the intercept and the terms of the features time does not move."""
    if model is None:
        return pl.lit(None, pl.Float64).alias(BASE)
    fixed = tuple(name for name in FEATURES if name not in TIMED)
    return (_terms(model, fixed) + model.intercept).alias(BASE)


def risk(model: Logistic | None, silent_days: int, *, based: bool = False) -> pl.Expr:
    """P(churn) of each row of a profile frame, as an expression; the hiatus rule when
    there is no model.

    `based`: the frame has the column `BASE` (rows whose other figures are as they were
    when it was computed), so only the features time moves are read again.
    """
    if model is None:
        return _hiatus(silent_days)
    fixed = pl.col(BASE) if based else base(model)
    z = fixed + _terms(model, TIMED)
    return 1.0 / (1.0 + (-z).exp())


def score(model: Logistic | None, frame: pl.DataFrame, silent_days: int) -> np.ndarray:
    """`risk` for each member of `frame`, reading `BASE` when the frame has it."""
    expr = risk(model, silent_days, based=BASE in frame.columns)
    return frame.select(expr).to_series().to_numpy()
