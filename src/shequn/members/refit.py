"""The churn model kept in the analytics copy, and when it is refitted.

Scoring every member is a vectorised predict over the stored features
(shequn.members.churn.Logistic); fitting needs the figures of every person one horizon
ago, a full pass over the copy. So the fitted model is kept in the copy's table
`member_churn_model` (its numbers as JSON, the instant it was fitted at, and the rules
it was fitted under) and refitted only when:

- the run is cold (`shequn members refresh --cold`), or no model is kept;
- the kept one is `churn_refit_days` old or more (measured at the profiles' instant),
  or was fitted at a later instant than this one;
- the rules it was fitted under (horizon, silent and churned days, window, features)
  changed.

"No model" (too little history: one class of labels) is kept too: the hiatus rule
scores until the next refit.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import duckdb
import polars as pl

from shequn.config import Settings
from shequn.members import churn
from shequn.members.figures import DAY_US, AsOf

TABLE = "member_churn_model"
_DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    fitted_now BIGINT NOT NULL, rules VARCHAR NOT NULL, params VARCHAR NOT NULL)"""


def refit_due(
    con: duckdb.DuckDBPyConnection, settings: Settings, at: AsOf, *, cold: bool = False
) -> bool:
    """Whether the churn model must be fitted anew at `at` (the rules above)."""
    con.execute(_DDL)
    rows = con.execute(f"SELECT fitted_now, rules FROM {TABLE}").fetchall()
    if cold or not rows:
        return True
    fitted_now, rules = rows[0]
    age = settings.member_states.churn_refit_days * DAY_US
    return rules != _rules(settings, at) or not 0 <= at.now - fitted_now < age


def kept_model(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    at: AsOf,
    now: pl.DataFrame,
    cut: pl.DataFrame | None,
    *,
    keep: bool = True,
) -> churn.Logistic | None:
    """The churn model to score with at `at`: a new fit when given the figures of the
    cut-off (one horizon before `at`; see `refit_due`), else the kept one. A new fit
    replaces the kept one unless `keep` is false (an instant before the kept figures':
    the model of the present stays for the next refresh).

    Args:
        con: the analytics copy.
        settings: the workspace settings (`member_states`).
        at: the profiles' instant.
        now: the figures of every person at `at` (the labels of a new fit).
        cut: the figures of every person one horizon before `at`, or None.
    """
    con.execute(_DDL)
    if cut is None:
        [(params_text,)] = con.execute(f"SELECT params FROM {TABLE}").fetchall()
        params = json.loads(params_text)
        if params is None:
            return None
        return churn.Logistic(
            mean=tuple(params["mean"]),
            scale=tuple(params["scale"]),
            coef=tuple(params["coef"]),
            intercept=float(params["intercept"]),
        )
    model = fit(settings, at, cut, now)
    if not keep:
        return model
    params_text = json.dumps(None if model is None else asdict(model))
    con.execute("BEGIN")
    con.execute(f"DELETE FROM {TABLE}")
    con.execute(
        f"INSERT INTO {TABLE} VALUES (?, ?, ?)", [at.now, _rules(settings, at), params_text]
    )
    con.execute("COMMIT")
    return model


def fit(
    settings: Settings, at: AsOf, cut: pl.DataFrame, now: pl.DataFrame
) -> churn.Logistic | None:
    """Fit on the copy's own history: features one horizon ago, labels observed by `at`."""
    rules = settings.member_states
    horizon = rules.churn_horizon_days
    cut = cut.filter(churn.active_at_cut(cut, rules.silent_days))
    if not cut.height:
        return None
    y = churn.labels(cut, now, horizon * DAY_US, at.back(horizon).now)
    return churn.fit_logistic(churn.feature_matrix(cut), y)


def _rules(settings: Settings, at: AsOf) -> str:
    rules = settings.member_states
    return json.dumps(
        {
            "horizon": rules.churn_horizon_days,
            "silent": rules.silent_days,
            "churned": rules.churned_days,
            "window": at.window_days,
            "features": churn.FEATURES,
        }
    )
