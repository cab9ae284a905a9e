"""Judging churn models honestly: train before a cut-off, predict after it.

Two evaluations, each a time split (features and fitting use only what happened
before the cut; labels come from the `horizon` days after it):

- `activity_split`: members active at the cut; label = no activity (or a leave) in
  the horizon. Models: the hiatus rule and the logistic model of shequn.members.churn
  (trained one horizon earlier, labels observed by the cut).
- `purchase_split`: buyers (first purchase before the cut); label = no purchase in the
  horizon. Models: the hiatus rule (days since last purchase), a logistic model over
  recency, frequency and age (trained one horizon earlier), and BG/NBD
  (shequn.members.bgnbd, fitted on purchases before the cut).

Each is scored by AUC, precision among the top 10% of scores, the Brier score and a
reliability table (mean prediction against the observed rate per score decile).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import numpy as np
import polars as pl
from sklearn.metrics import brier_score_loss, roc_auc_score

from shequn.config import Settings
from shequn.errors import InputError
from shequn.members import bgnbd, churn
from shequn.members.figures import DAY_US, AsOf, figures
from shequn.workspace import Workspace


@dataclass(frozen=True)
class Judgement:
    """How one model did on one split."""

    model: str
    n: int
    base_rate: float
    auc: float | None
    precision_top10: float
    brier: float
    reliability: tuple[tuple[float, float], ...]  # (mean predicted, observed) per decile


def judge(model: str, y: np.ndarray, p: np.ndarray) -> Judgement:
    """AUC, precision@top-10%, Brier and a reliability table of scores `p` for labels `y`."""
    order = np.argsort(-p, kind="stable")
    top = order[: max(1, len(p) // 10)]
    auc = float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else None
    deciles = np.array_split(np.argsort(p, kind="stable"), min(10, len(p)))
    table = tuple((float(p[d].mean()), float(y[d].mean())) for d in deciles if len(d))
    return Judgement(
        model=model,
        n=len(y),
        base_rate=float(y.mean()),
        auc=auc,
        precision_top10=float(y[top].mean()),
        brier=float(brier_score_loss(y, p)),
        reliability=table,
    )


def activity_split(
    con: duckdb.DuckDBPyConnection, settings: Settings, cut: AsOf
) -> list[Judgement]:
    """Hiatus rule and logistic model on members active at `cut`."""
    rules = settings.member_states
    horizon = rules.churn_horizon_days

    def sample(at: AsOf) -> tuple[pl.DataFrame, np.ndarray]:
        now = figures(con, at, rules.churned_days)
        now = now.filter(churn.active_at_cut(now, rules.silent_days))
        later = figures(
            con, AsOf(at.now + horizon * DAY_US, at.today + horizon), rules.churned_days
        )
        return now, churn.labels(now, later, horizon * DAY_US, at.now)

    train, y_train = sample(cut.back(horizon))
    test, y_test = sample(cut)
    if test.is_empty():
        raise InputError(
            "nobody was active at the cut: there is no one to judge",
            field="--cut",
            hint="cut on a day the community was active",
        )
    model = churn.fit_logistic(churn.feature_matrix(train), y_train)
    return [
        judge("hiatus", y_test, churn.hiatus_score(test, rules.silent_days)),
        judge("logistic", y_test, churn.score(model, test, rules.silent_days)),
    ]


def purchase_split(purchases: pl.DataFrame, cut: int, horizon: int) -> list[Judgement]:
    """Hiatus, logistic and BG/NBD on buyers before day `cut` (columns customer, day).

    Raises:
        ValueError: no buyer before the cut, or nothing to train on one horizon earlier.
    """
    test, y_test = _buyers(purchases, cut, horizon)
    if test.is_empty():
        raise ValueError("no purchase before the cut-off: move it later")
    train, y_train = _buyers(purchases, cut - horizon, horizon)
    fitted = bgnbd.fit(*_rfm(test))
    model = churn.fit_logistic(_rfm_matrix(train), y_train)
    if model is None:
        raise ValueError(
            "no churn or no repeat buyer one horizon before the cut-off, where the "
            "logistic model trains: move the cut-off later or shorten the horizon"
        )
    recency = test["big_t"] - test["t_x"]
    return [
        judge("hiatus", y_test, np.clip(recency.to_numpy() * 7 / horizon, 0.0, 1.0)),
        judge("logistic", y_test, model.proba(_rfm_matrix(test))),
        judge("bg/nbd", y_test, fitted.p_no_purchase(*_rfm(test), horizon / 7)),
    ]


def _buyers(purchases: pl.DataFrame, cut: int, horizon: int) -> tuple[pl.DataFrame, np.ndarray]:
    """Per customer with a purchase before `cut`: x, t_x, T in weeks; and the label."""
    days = purchases.select("customer", "day").unique()
    before = (
        days.filter(pl.col("day") < cut)
        .group_by("customer")
        .agg(
            (pl.len() - 1).alias("x"),
            ((pl.col("day").max() - pl.col("day").min()) / 7).alias("t_x"),
            ((cut - pl.col("day").min()) / 7).alias("big_t"),
        )
        .sort("customer")
    )
    bought = days.filter(pl.col("day") >= cut, pl.col("day") < cut + horizon)["customer"].unique()
    label = (~before["customer"].is_in(bought.implode())).cast(pl.Int8).to_numpy()
    return before, label


def _rfm(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        frame["x"].to_numpy().astype(float),
        frame["t_x"].to_numpy().astype(float),
        frame["big_t"].to_numpy().astype(float),
    )


def _rfm_matrix(frame: pl.DataFrame) -> np.ndarray:
    x, t_x, big_t = _rfm(frame)
    return np.column_stack([np.log1p(x), np.log1p(big_t - t_x), np.log1p(big_t), x / (big_t + 1)])


def order_days(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Purchases of the copy as (customer = person, day), for `purchase_split`."""
    from shequn.analytics.sql import PERSONS

    query = f"""WITH {PERSONS}
        SELECT COALESCE(p.person, o.member) AS customer, e.day
        FROM order_totals AS o JOIN events AS e ON e.id = o.first_id
        LEFT JOIN persons AS p ON p.key = o.member
        WHERE o.member IS NOT NULL AND o.net > 0"""
    frame = pl.from_arrow(con.sql(query).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


@dataclass(frozen=True)
class Evaluation:
    """Each split's judgements, and why a split was not judged (by split)."""

    splits: dict[str, list[Judgement]]
    skipped: dict[str, str]


def evaluate_workspace(ws: Workspace, cut: datetime) -> Evaluation:
    """Both splits on a workspace at `cut`. The purchase split is skipped, with the
    reason, when the buyers cannot be judged there (too few, or none before it).

    Raises:
        InputError: the history does not reach one horizon before and after the cut
            (labels after its end would count everyone as churned), or nobody was
            active at the cut.
    """
    from shequn.analytics.sync import open_copy

    at = AsOf.of(cut, ws.settings.zone)
    horizon = ws.settings.member_states.churn_horizon_days
    with open_copy(ws) as (con, _result):
        [(first, last)] = con.execute("SELECT MIN(ts), MAX(ts) FROM events").fetchall()
        _check_cut(ws, at, horizon, first, last)
        activity = activity_split(con, ws.settings, at)
        purchases = order_days(con)
    skipped = {}
    try:
        bought = purchase_split(purchases, at.today, horizon) if purchases.height else []
    except ValueError as exc:
        bought, skipped["purchase"] = [], str(exc)
    if not purchases.height:
        skipped["purchase"] = "the workspace holds no order"
    return Evaluation({"activity": activity, "purchase": bought}, skipped)


def _check_cut(ws: Workspace, at: AsOf, horizon: int, first: int | None, last: int | None) -> None:
    """Refuse a cut the history does not surround by one horizon on each side."""
    from shequn.clock import from_micros

    if first is None or last is None:
        raise InputError("the workspace has no events", hint="import some: shequn import")
    zone, span = ws.settings.zone, timedelta(days=horizon)
    start, end = (from_micros(t).astimezone(zone) for t in (first, last))
    setting = f"member_states.churn_horizon_days = {horizon}"
    if at.now + horizon * DAY_US > last:
        raise InputError(
            f"the history ends on {end:%Y-%m-%d}: the labels of a cut are the {horizon} "
            "days after it, and after the end nobody would be seen active again",
            field="--cut",
            hint=f"cut on {(end - span).date()} or earlier ({setting})",
        )
    if at.now - horizon * DAY_US <= first:
        raise InputError(
            f"the history starts on {start:%Y-%m-%d}: the model trains one horizon "
            f"({horizon} days) before the cut, on members active then",
            field="--cut",
            hint=f"cut after {(start + span).date()} ({setting})",
        )
