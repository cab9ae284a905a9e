"""What the bot remembers between events, folded from what it saw and recorded.

The runner folds every event it decides on (`observe`) and every record of the
decision (`apply_record`); at start it rebuilds the state by folding the recorded
events of the store with the same `apply_record`, so the state is a replay of the
log, like a member's tags and points are.

Times are epoch seconds (floats). Memory is bounded: recent message timestamps and
texts live only as long as the flood and repeat windows, authors of the last
`AUTHORS` messages per group are kept for "a reply received" points.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

AUTHORS = 5000
WINDOW = 3600.0  # the longest flood / raid / repeat window kept in memory


@dataclass
class MemberState:
    """One member in one community."""

    joined: float | None = None
    strikes: list[float] = field(default_factory=list)  # when each counted violation was
    recent: deque[float] = field(default_factory=deque)  # message times, for flood
    last_message_points: float = float("-inf")
    checkin_day: int | None = None  # local date ordinal of the last check-in
    streak: int = 0
    muted_until: float | None = None
    points: int = 0  # earned in this community (for /rank)
    name: str = ""


@dataclass(frozen=True)
class Challenge:
    """A join request waiting for its answer."""

    community: str
    request_id: str
    deadline: float


@dataclass
class GroupState:
    """One community."""

    joins: deque[float] = field(default_factory=deque)
    raid_until: float | None = None  # raid mode while set: greet once when it has passed
    raid_joins: int = 0
    raid_key: str = ""
    faq_last: dict[str, float] = field(default_factory=dict)
    authors: OrderedDict[str, str] = field(default_factory=OrderedDict)
    week_points: dict[str, int] = field(default_factory=dict)
    leaderboard_week: str = ""


@dataclass
class BotState:
    """Everything the decision core reads; changed only by `observe` and `apply_record`."""

    members: dict[tuple[str, str], MemberState] = field(default_factory=dict)
    groups: dict[str, GroupState] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)  # workspace points per member
    posts: dict[bytes, deque[tuple[str, float]]] = field(default_factory=dict)  # text_key →
    challenges: dict[str, Challenge] = field(default_factory=dict)  # by member key
    signups: set[tuple[str, str]] = field(default_factory=set)  # (activity, member)

    def member(self, community: str, member: str) -> MemberState:
        """The member's state, empty if never seen (not stored until changed)."""
        return self.members.get((community, member)) or MemberState()

    def group(self, community: str) -> GroupState:
        return self.groups.get(community) or GroupState()

    def _member(self, community: str, member: str) -> MemberState:
        return self.members.setdefault((community, member), MemberState())

    def _group(self, community: str) -> GroupState:
        return self.groups.setdefault(community, GroupState())


def text_key(text: str) -> bytes:
    """What the repeat rule compares: a 16-byte digest, so a 1 MB message costs 16 bytes."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _trim(times: deque[Any], now: float, window: float, at: Any = lambda t: t) -> None:
    while times and now - at(times[0]) > window:
        times.popleft()


def observe(
    state: BotState, community: str, kind: str, member: str, now: float, **facts: Any
) -> None:
    """Fold an incoming event: a join, or a message (`message_id`, `text`, `name`)."""
    group = state._group(community)
    if kind == "join":
        state._member(community, member).joined = now
        group.joins.append(now)
        _trim(group.joins, now, WINDOW)
        return
    if kind != "message" or not member:
        return
    mine = state._member(community, member)
    mine.name = facts.get("name") or mine.name
    mine.recent.append(now)
    _trim(mine.recent, now, WINDOW)
    if facts.get("message_id"):
        group.authors[facts["message_id"]] = member
        if len(group.authors) > AUTHORS:
            group.authors.popitem(last=False)
    if facts.get("text"):
        posts = state.posts.setdefault(text_key(facts["text"]), deque())
        posts.append((community, now))
        _trim(posts, now, WINDOW, lambda p: p[1])
    if len(state.posts) > 20 * AUTHORS:  # keep memory bounded: drop texts gone quiet
        for text in [t for t, p in state.posts.items() if not p or now - p[-1][1] > WINDOW]:
            del state.posts[text]


def apply_record(
    state: BotState,
    community: str,
    kind: str,
    member: str,
    amount: int | None,
    meta: dict[str, Any],
    now: float,
) -> None:
    """Fold one recorded event (live, or read back from the store at start)."""
    fold = _FOLDS.get(kind)
    if fold is not None:
        fold(state, community, member, amount or 0, meta, now)


Fold = Callable[[BotState, str, str, int, dict[str, Any], float], None]


def _violation(s: BotState, c: str, m: str, _a: int, meta: dict[str, Any], now: float) -> None:
    if not meta.get("dry_run"):
        s._member(c, m).strikes.append(now)


def _pardoned(s: BotState, c: str, m: str, _a: int, _meta: dict[str, Any], _now: float) -> None:
    s._member(c, m).strikes.clear()


def _muted(s: BotState, c: str, m: str, amount: int, _meta: dict[str, Any], now: float) -> None:
    s._member(c, m).muted_until = now + amount


def _unmuted(s: BotState, c: str, m: str, _a: int, _meta: dict[str, Any], _now: float) -> None:
    s._member(c, m).muted_until = None


def _checked_in(s: BotState, c: str, m: str, amount: int, meta: dict[str, Any], _n: float) -> None:
    mine = s._member(c, m)
    mine.checkin_day, mine.streak = int(meta["day"]), amount


def _points(s: BotState, c: str, m: str, amount: int, meta: dict[str, Any], now: float) -> None:
    s.totals[m] = s.totals.get(m, 0) + amount
    mine = s._member(c, m)
    mine.points += amount
    week = s._group(c).week_points
    week[m] = week.get(m, 0) + amount
    if meta.get("reason") == "message":
        mine.last_message_points = now


def _faq(s: BotState, c: str, _m: str, _a: int, meta: dict[str, Any], now: float) -> None:
    if meta.get("replied"):
        s._group(c).faq_last[meta["entry"]] = now


def _raid(s: BotState, c: str, _m: str, _a: int, meta: dict[str, Any], _now: float) -> None:
    group = s._group(c)
    group.raid_until, group.raid_joins, group.raid_key = meta["until"], 0, meta["key"]


def _welcomed(s: BotState, c: str, _m: str, _a: int, meta: dict[str, Any], _now: float) -> None:
    group = s._group(c)
    if meta.get("raid"):
        group.raid_joins += 1
        group.raid_until = max(group.raid_until or 0.0, meta["until"])


def _raid_over(s: BotState, c: str, _m: str, _a: int, _meta: dict[str, Any], _n: float) -> None:
    group = s._group(c)
    group.raid_until, group.raid_joins = None, 0


def _challenged(s: BotState, c: str, m: str, _a: int, meta: dict[str, Any], _n: float) -> None:
    s.challenges[m] = Challenge(c, meta["request_id"], meta["deadline"])


def _decided(s: BotState, _c: str, m: str, _a: int, _meta: dict[str, Any], _n: float) -> None:
    s.challenges.pop(m, None)


def _leaderboard(s: BotState, c: str, _m: str, _a: int, meta: dict[str, Any], _n: float) -> None:
    group = s._group(c)
    group.leaderboard_week, group.week_points = meta["week"], {}


def _signed_up(s: BotState, _c: str, m: str, _a: int, meta: dict[str, Any], _n: float) -> None:
    s.signups.add((str(meta.get("activity", "")), m))


_FOLDS: dict[str, Fold] = {
    "violation": _violation,
    "pardoned": _pardoned,
    "muted": _muted,
    "unmuted": _unmuted,
    "removed": _unmuted,
    "banned": _unmuted,
    "checked_in": _checked_in,
    "points_added": _points,
    "faq_answered": _faq,
    "raid_started": _raid,
    "welcomed": _welcomed,
    "raid_welcome": _raid_over,
    "join_challenged": _challenged,
    "join_approved": _decided,
    "join_declined": _decided,
    "leaderboard_posted": _leaderboard,
    "activity_signup": _signed_up,
}
