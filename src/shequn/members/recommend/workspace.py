"""Recommendations for a workspace's members, as of an instant.

Reads the store: clicks, sign-ups and sends of the last HISTORY_DAYS, what members
wrote in the last WRITING_DAYS (member keys resolved to persons), the content library
(`content/`: an item's title and body describe it) and the activities (an upcoming one
is offered in its community before anyone signs up). Candidates are the items seen in
a member's communities in the last FRESH_DAYS, and upcoming activities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from sqlalchemy import Connection, func, or_, select

from shequn.activities.loader import scan
from shequn.clock import to_micros
from shequn.members.recommend.data import ITEMS, build, log_of
from shequn.members.recommend.evaluate import Judgement, evaluate
from shequn.members.recommend.model import fit, scorer
from shequn.members.recommend.rank import top_k
from shequn.sop.content import FOLDER, SUFFIXES, ContentError, read_item
from shequn.store.engine import read_transaction
from shequn.store.members import find
from shequn.store.schema import events, members
from shequn.workspace import Workspace

DAY_US = 86_400_000_000
HISTORY_DAYS = 180
WRITING_DAYS = 30
FRESH_DAYS = 14
_CHUNK = 500  # keys per lookup (SQLite's parameter limit)
_TYPES = ("content_sent", "content_click", "activity_signup", "message", "join")
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


@dataclass(frozen=True)
class Recommendation:
    item: str  # the content item's name (content_id) or the activity's name
    kind: str  # content | activity
    title: str  # what to show a member: the item's title, else its name


def _events(conn: Connection, now: int, until: int | None = None) -> pl.DataFrame:
    """The events the models read: HISTORY_DAYS before `now` up to `until` (default
    now), messages from WRITING_DAYS before `now`."""
    since, wrote = now - HISTORY_DAYS * DAY_US, now - WRITING_DAYS * DAY_US
    person = func.coalesce(members.c.person, events.c.member).label("member")
    query = (
        select(events.c.ts, events.c.community, person, events.c.type, events.c.content_id)
        .add_columns(events.c.text)
        .select_from(events.outerjoin(members, members.c.key == events.c.member))
        .where(events.c.type.in_(_TYPES), events.c.ts >= since, events.c.ts < (until or now))
        .where(or_(events.c.type != "message", events.c.ts >= wrote))
    )
    schema = {"ts": pl.Int64, "community": pl.String, "member": pl.String, "type": pl.String}
    schema |= {"content_id": pl.String, "text": pl.String}
    return pl.DataFrame(conn.execute(query).all(), schema=schema, orient="row")


def _library(root: Path) -> list[tuple[str, str, str]]:
    """(name, title, title and body) of every readable content item."""
    folder, out = root / FOLDER, []
    names = sorted({p.stem for s in SUFFIXES for p in folder.glob(f"*{s}")})
    for name in names:
        try:
            item = read_item(folder, name)
        except ContentError:
            continue  # reported by `sop validate`; a broken item is just not described
        out.append((name, item.title, f"{item.title} {_TEMPLATE.sub(' ', item.body)}"))
    return out


def catalogue(
    root: Path, zone: ZoneInfo, now: int
) -> tuple[pl.DataFrame, dict[str, tuple[str, str]]]:
    """Items the events may not show (schema ITEMS), and each known item's kind and title."""
    rows: list[tuple[str, str | None, int | None, str]] = []
    about: dict[str, tuple[str, str]] = {}
    for name, title, text in _library(root):
        rows.append((name, None, None, text))
        about[name] = ("content", title or name)
    found, _problems = scan(root)  # an invalid activity file is `activities`' to report
    for activity in found:
        start, _end = activity.window(zone)
        upcoming = to_micros(start) > now
        place = (activity.community, now) if upcoming else (None, None)
        rows.append((activity.name, *place, activity.title))
        about[activity.name] = ("activity", activity.title)
    return pl.DataFrame(rows, schema=ITEMS, orient="row"), about


def recommend(
    ws: Workspace, when: datetime, keys: list[str] | None = None, k: int = 5
) -> dict[str, list[Recommendation]]:
    """The top `k` items of each member key (default: every person with events)."""
    with read_transaction(ws.engine) as conn:
        return recommend_in(conn, ws.root, ws.settings.zone, to_micros(when), keys, k)


def recommend_in(
    conn: Connection,
    root: Path,
    zone: ZoneInfo,
    now: int,
    keys: list[str] | None = None,
    k: int = 5,
) -> dict[str, list[Recommendation]]:
    """`recommend` inside the caller's transaction (the SOP tick's), `now` in UTC µs;
    a merged key gets its person's items, an unknown key none."""
    frame = _events(conn, now)
    extra, about = catalogue(root, zone, now)
    built = build(log_of(frame, extra), now, (now - FRESH_DAYS * DAY_US, now + 1))
    at = {m: i for i, m in enumerate(built.members)}
    person_of = _persons(conn, keys) if keys is not None else {m: m for m in built.members}
    wanted = [key for key, person in person_of.items() if person in at]
    rows = np.array([at[person_of[key]] for key in wanted], dtype=np.int64)
    top = top_k(built.data, scorer(fit(built.data), built.data), k, rows)
    signed = set(frame.filter(pl.col("type") == "activity_signup")["content_id"].to_list())
    sent = frame.filter(pl.col("type") == "content_sent", pl.col("text").is_not_null())
    titles = dict(sent.select("content_id", "text").iter_rows())
    out: dict[str, list[Recommendation]] = {key: [] for key in keys or []}
    for key, picks in zip(wanted, top.tolist(), strict=True):
        items = [built.items[i] for i in picks if i >= 0]
        out[key] = [_described(item, about, signed, titles) for item in items]
    return out


def _persons(conn: Connection, keys: list[str]) -> dict[str, str]:
    """The person of each known key (unknown keys are absent)."""
    found: dict[str, str] = {}
    for i in range(0, len(keys), _CHUNK):
        rows = find(conn, keys[i : i + _CHUNK])
        found.update({key: str(row["person"]) for key, row in rows.items()})
    return found


def _described(
    item: str, about: dict[str, tuple[str, str]], signed: set[str], titles: dict[str, str]
) -> Recommendation:
    if item in about:
        return Recommendation(item, *about[item])
    kind = "activity" if item in signed else "content"
    return Recommendation(item, kind, titles.get(item) or item)


def evaluate_workspace(ws: Workspace, cut: datetime, horizon_days: int = 28) -> list[Judgement]:
    """The recommender and its baselines on the workspace's own history, split at `cut`
    (shequn.members.recommend.evaluate)."""
    start = to_micros(cut)
    with read_transaction(ws.engine) as conn:
        frame = _events(conn, start, start + horizon_days * DAY_US)
    extra, _about = catalogue(ws.root, ws.settings.zone, start)
    return evaluate(log_of(frame, extra), start, horizon_days)
