"""An activity's results from the event log: sign-ups, attendance, feedback, cost, effect.

Sign-ups, attendance and feedback are the canonical events `activity_signup`,
`activity_attend` and `feedback` whose `content_id` is the activity's name (a feedback's
`amount` is the 0–10 score, its `text` the comment).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import Connection, select

from shequn.activities.effect import Effect, estimate, per_member
from shequn.activities.model import Activity
from shequn.clock import to_micros
from shequn.store.schema import events

EFFECT_DAYS = 14
LOW_SCORE = 6  # 0–6: a detractor, and a follow-up task
_TYPES = ("activity_signup", "activity_attend", "feedback")


@dataclass(frozen=True)
class Results:
    activity: Activity
    signups: int
    attendees: int
    no_shows: int  # signed up, did not attend
    attendance_rate: float | None  # attendees among those signed up
    scores: list[float]
    average: float | None
    nps: float | None
    keywords: list[tuple[str, int]]
    low: list[tuple[str, float, str]]  # (member, score, comment) to follow up
    messages: int  # in the window, in the community
    orders: int
    gmv: float
    goal_value: float | None
    cost_per_attendee: float | None
    effect: Effect


def keywords(comments: list[str], top: int = 5) -> list[tuple[str, int]]:
    """The most frequent words of the comments (jieba; two characters or more)."""
    import jieba

    words: Counter[str] = Counter()
    for comment in comments:
        words.update(w for w in jieba.lcut(comment) if len(w.strip()) >= 2)
    return words.most_common(top)


def nps(scores: list[float]) -> float | None:
    """Promoters (9–10) minus detractors (0–6), in points of 100."""
    if not scores:
        return None
    promoters = sum(s >= 9 for s in scores)
    detractors = sum(s <= LOW_SCORE for s in scores)
    return 100 * (promoters - detractors) / len(scores)


def _own(conn: Connection, activity: Activity) -> pl.DataFrame:
    query = select(events.c.type, events.c.member, events.c.ts, events.c.amount, events.c.text)
    query = query.where(
        events.c.community == activity.community,
        events.c.type.in_(_TYPES),
        events.c.content_id == activity.name,
    )
    return pl.DataFrame(
        conn.execute(query).all(),
        schema={
            "type": pl.String,
            "member": pl.String,
            "ts": pl.Int64,
            "amount": pl.String,
            "text": pl.String,
        },
        orient="row",
    )


def _community(conn: Connection, community: str, lo: int, hi: int) -> pl.DataFrame:
    query = select(events.c.member, events.c.type, events.c.ts, events.c.amount).where(
        events.c.community == community,
        events.c.type.in_(("message", "order", "join")),
        events.c.ts >= lo,
        events.c.ts < hi,
        events.c.member.is_not(None),
    )
    frame = pl.DataFrame(
        conn.execute(query).all(),
        schema={"member": pl.String, "type": pl.String, "ts": pl.Int64, "amount": pl.String},
        orient="row",
    )
    return frame.with_columns(pl.col("amount").cast(pl.Float64, strict=False).fill_null(0.0))


def measure(conn: Connection, activity: Activity, zone: ZoneInfo, seed: int = 0) -> Results:
    """Every figure of one activity."""
    start_dt, end_dt = activity.window(zone)
    start, end = to_micros(start_dt), to_micros(end_dt)
    span = to_micros(start_dt + timedelta(days=EFFECT_DAYS)) - start
    own = _own(conn, activity)
    signed = set(own.filter(pl.col("type") == "activity_signup")["member"].to_list())
    came = set(own.filter(pl.col("type") == "activity_attend")["member"].to_list())
    fb = own.filter(pl.col("type") == "feedback").with_columns(
        pl.col("amount").cast(pl.Float64, strict=False)
    )
    scores = [s for s in fb["amount"].to_list() if s is not None]
    comments = [c for c in fb["text"].to_list() if c]
    low = [
        (m, s, c or "")
        for m, s, c in fb.select("member", "amount", "text").iter_rows()
        if s is not None and s <= LOW_SCORE
    ]
    around = _community(conn, activity.community, start - span, end + span)
    during = around.filter((pl.col("ts") >= start) & (pl.col("ts") < end))
    orders = during.filter(pl.col("type") == "order")
    members = sorted(set(around["member"].to_list()) | signed | came)
    table = per_member(members, around, (start - span, start), (end, end + span))
    cost = activity.actual_cost
    figures = {
        "signups": float(len(signed)),
        "attendance_rate": len(came & signed) / len(signed) if signed else None,
        "messages": float(during.filter(pl.col("type") == "message").height),
        "orders": float(orders.height),
        "gmv": float(orders["amount"].sum()),
    }
    return Results(
        activity=activity,
        signups=len(signed),
        attendees=len(came),
        no_shows=len(signed - came),
        attendance_rate=figures["attendance_rate"],
        scores=scores,
        average=sum(scores) / len(scores) if scores else None,
        nps=nps(scores),
        keywords=keywords(comments),
        low=sorted(low),
        messages=int(figures["messages"] or 0),
        orders=orders.height,
        gmv=figures["gmv"] or 0.0,
        goal_value=figures[activity.goal.metric],
        cost_per_attendee=float(cost) / len(came) if cost is not None and came else None,
        effect=estimate(table, came or signed, float(cost) if cost else None, seed=seed),
    )
