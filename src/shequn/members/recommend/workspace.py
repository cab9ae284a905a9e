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

import numpy as np
import polars as pl
from sqlalchemy import func, or_, select

from shequn.activities.loader import scan
from shequn.clock import to_micros
from shequn.members.recommend.data import ITEMS, build, log_of
from shequn.members.recommend.model import fit, scorer, top_k
from shequn.sop.content import FOLDER, SUFFIXES, ContentError, read_item
from shequn.store.engine import read_transaction
from shequn.store.schema import events, members
from shequn.workspace import Workspace

DAY_US = 86_400_000_000
HISTORY_DAYS = 180
WRITING_DAYS = 30
FRESH_DAYS = 14
_TYPES = ("content_sent", "content_click", "activity_signup", "message", "join")
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


@dataclass(frozen=True)
class Recommendation:
    item: str  # the content item's name (content_id) or the activity's name
    kind: str  # content | activity
    title: str  # what to show a member: the item's title, else its name


def _events(ws: Workspace, now: int) -> pl.DataFrame:
    since, wrote = now - HISTORY_DAYS * DAY_US, now - WRITING_DAYS * DAY_US
    person = func.coalesce(members.c.person, events.c.member).label("member")
    query = (
        select(events.c.ts, events.c.community, person, events.c.type, events.c.content_id)
        .add_columns(events.c.text)
        .select_from(events.outerjoin(members, members.c.key == events.c.member))
        .where(events.c.type.in_(_TYPES), events.c.ts >= since, events.c.ts < now)
        .where(or_(events.c.type != "message", events.c.ts >= wrote))
    )
    schema = {"ts": pl.Int64, "community": pl.String, "member": pl.String, "type": pl.String}
    schema |= {"content_id": pl.String, "text": pl.String}
    with read_transaction(ws.engine) as conn:
        return pl.DataFrame(conn.execute(query).all(), schema=schema, orient="row")


def _library(root: Path) -> list[tuple[str, str]]:
    """(name, title and body) of every readable content item."""
    folder, out = root / FOLDER, []
    names = sorted({p.stem for s in SUFFIXES for p in folder.glob(f"*{s}")})
    for name in names:
        try:
            item = read_item(folder, name)
        except ContentError:
            continue  # reported by `sop validate`; a broken item is just not described
        out.append((name, f"{item.title} {_TEMPLATE.sub(' ', item.body)}"))
    return out


def catalogue(ws: Workspace, now: int) -> tuple[pl.DataFrame, dict[str, tuple[str, str]]]:
    """Items the events may not show (schema ITEMS), and each known item's kind and title."""
    rows: list[tuple[str, str | None, int | None, str]] = []
    about: dict[str, tuple[str, str]] = {}
    for name, text in _library(ws.root):
        rows.append((name, None, None, text))
        about[name] = ("content", read_item(ws.root / FOLDER, name).title or name)
    found, _problems = scan(ws.root)  # an invalid activity file is `activities`' to report
    for activity in found:
        start, _end = activity.window(ws.settings.zone)
        upcoming = to_micros(start) > now
        place = (activity.community, now) if upcoming else (None, None)
        rows.append((activity.name, *place, activity.title))
        about[activity.name] = ("activity", activity.title)
    return pl.DataFrame(rows, schema=ITEMS, orient="row"), about


def recommend(
    ws: Workspace, when: datetime, persons: list[str] | None = None, k: int = 5
) -> dict[str, list[Recommendation]]:
    """The top `k` items of each person (default: every person with events)."""
    now = to_micros(when)
    frame = _events(ws, now)
    extra, about = catalogue(ws, now)
    built = build(log_of(frame, extra), now, (now - FRESH_DAYS * DAY_US, now + 1))
    at = {m: i for i, m in enumerate(built.members)}
    wanted = built.members if persons is None else [p for p in persons if p in at]
    rows = np.array([at[p] for p in wanted], dtype=np.int64)
    top = top_k(built.data, scorer(fit(built.data), built.data), k, rows)
    signed = set(frame.filter(pl.col("type") == "activity_signup")["content_id"].to_list())
    titles = dict(
        frame.filter(pl.col("type") == "content_sent", pl.col("text").is_not_null())
        .select("content_id", "text")
        .iter_rows()
    )
    out: dict[str, list[Recommendation]] = {p: [] for p in persons or []}
    for person, picks in zip(wanted, top.tolist(), strict=True):
        items = [built.items[i] for i in picks if i >= 0]
        out[person] = [_described(item, about, signed, titles) for item in items]
    return out


def _described(
    item: str, about: dict[str, tuple[str, str]], signed: set[str], titles: dict[str, str]
) -> Recommendation:
    if item in about:
        return Recommendation(item, *about[item])
    kind = "activity" if item in signed else "content"
    return Recommendation(item, kind, titles.get(item) or item)
