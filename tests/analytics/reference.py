"""A plain-Python reading of docs/metrics.md, line by line, to check the engine against.

Deliberately simple and slow: a list of event dicts in, the same dict of figures as
`shequn.analytics.compute` out. Each block quotes the rule it implements. Events are
dicts with the copy's columns: id, ts (UTC microseconds), community, member, type,
channel, inviter, visitor, content_id, order_id, amount (Decimal or None); empty is None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from shequn.clock import from_micros, to_micros

FOREVER = float("inf")
ACTIVE = ("message", "reaction", "checkin")


def ratio(num: int | Fraction, den: int | Fraction) -> float | None:
    """A ratio whose denominator is 0 is null, never 0 and never an error."""
    return None if den == 0 else float(Fraction(num) / Fraction(den))


def money_ratio(num: Decimal, den: int) -> Decimal | None:
    # aov and arpu are shown to the cent, half to even.
    return None if den == 0 else (num / Decimal(den)).quantize(Decimal("0.01"), ROUND_HALF_EVEN)


@dataclass
class Interval:
    community: str
    member: str
    start: int
    end: float  # FOREVER while open
    iid: Any
    invited_by: Interval | None = None  # the inviter's covering interval

    def covers(self, t: int) -> bool:
        # Intervals are half-open [join, leave): join <= t < leave.
        return self.start <= t < self.end


class Log:
    """The event log with persons resolved and membership intervals built."""

    def __init__(self, events: list[dict], persons: dict[str, str], zone: ZoneInfo) -> None:
        self.zone = zone
        self.events = sorted((self._resolve(e, persons) for e in events), key=_order)
        self.communities = sorted({e["community"] for e in self.events})
        self.intervals = [iv for c in self.communities for iv in self._intervals(c)]
        self._link_invitations()

    @staticmethod
    def _resolve(event: dict, persons: dict[str, str]) -> dict:
        # Merged member keys count once: everything is about the person.
        out = dict(event)
        for field in ("member", "inviter"):
            if out.get(field) is not None:
                out[field] = persons.get(out[field], out[field])
        return out

    def day(self, ts: int) -> date:
        return from_micros(ts).astimezone(self.zone).date()

    def instant(self, day: date) -> int:
        return to_micros(datetime.combine(day, time(0), self.zone))

    def _intervals(self, community: str) -> list[Interval]:
        events = [e for e in self.events if e["community"] == community]
        history_start = events[0]["ts"]
        by_member: dict[str, list[dict]] = {}
        for e in events:
            if e["type"] in ("join", "leave", "message", "reaction") and e["member"] is not None:
                by_member.setdefault(e["member"], []).append(e)
        out: list[Interval] = []
        for member, mine in by_member.items():
            current: Interval | None = None
            # History start: a first membership event that is a message or reaction opens
            # an interval at the earliest ts of any event in that community.
            if mine[0]["type"] in ("message", "reaction"):
                current = Interval(community, member, history_start, FOREVER, ("hist", member))
                out.append(current)
            for e in mine:
                if e["type"] == "join" and current is None:
                    current = Interval(community, member, e["ts"], FOREVER, e["id"])
                    out.append(current)
                elif e["type"] == "leave" and current is not None:
                    current.end = e["ts"]
                    current = None
                # A join while a member opens nothing, a leave while not a member closes
                # nothing; a message after a leave does not reopen one.
        return out

    def covering(self, community: str, member: str, t: int) -> Interval | None:
        for iv in self.intervals:
            if iv.community == community and iv.member == member and iv.covers(t):
                return iv
        return None

    def invited_joins(self) -> list[tuple[dict, Interval]]:
        """An invited join has a non-empty inviter, not the joining member, who is a
        member of the same community at the join's instant."""
        out = []
        for e in self.events:
            if e["type"] == "join" and e["inviter"] and e["inviter"] != e["member"]:
                parent = self.covering(e["community"], e["inviter"], e["ts"])
                if parent is not None:
                    out.append((e, parent))
        return out

    def _link_invitations(self) -> None:
        by_iid = {iv.iid: iv for iv in self.intervals}
        for event, parent in self.invited_joins():
            if event["id"] in by_iid:
                by_iid[event["id"]].invited_by = parent

    @staticmethod
    def root(iv: Interval) -> Interval | None:
        """The generation-0 interval an invitation chain leads up to (None: a cycle)."""
        seen = set()
        while iv.invited_by is not None:
            if id(iv) in seen:
                return None
            seen.add(id(iv))
            iv = iv.invited_by
        return iv


def _order(e: dict) -> tuple[int, int]:
    return (e["ts"], e["id"])


def in_scope(scope: str, community: str) -> bool:
    # The workspace `*`: member sets are distinct across communities; counts are summed.
    return scope == "*" or community == scope


class Scope:
    """The figures of one scope (a community, or `*`) for one period."""

    def __init__(self, log: Log, scope: str, start: date, end: date, cohort_days: int) -> None:
        self.log, self.scope = log, scope
        self.ps, self.pe = log.instant(start), log.instant(end)
        self.days = [start + timedelta(days=i) for i in range((end - start).days)]
        self.cohort_us = cohort_days * 86_400_000_000
        self.events = [e for e in log.events if in_scope(scope, e["community"])]
        self.p_events = [e for e in self.events if self.ps <= e["ts"] < self.pe]
        self.intervals = [iv for iv in log.intervals if in_scope(scope, iv.community)]

    def of_type(self, kind: str, events: list[dict] | None = None) -> list[dict]:
        return [e for e in (self.p_events if events is None else events) if e["type"] == kind]

    # Membership ------------------------------------------------------------------
    def members_at(self, t: int) -> set[str]:
        return {iv.member for iv in self.intervals if iv.covers(t)}

    def members_during(self) -> set[str]:
        # Intervals with max(start, P.start) < min(end, P.end).
        return {iv.member for iv in self.intervals if max(iv.start, self.ps) < min(iv.end, self.pe)}

    # Activity --------------------------------------------------------------------
    def active_on(self, days: list[date]) -> set[str]:
        # Active on day d: at least one message, reaction or checkin on local day d.
        wanted = set(days)
        return {
            e["member"]
            for e in self.events
            if e["type"] in ACTIVE and e["member"] and self.log.day(e["ts"]) in wanted
        }

    def window(self, last: date, n: int) -> list[date]:
        return [last - timedelta(days=i) for i in range(n)]

    # Orders ----------------------------------------------------------------------
    def orders(self, rows: list[dict]) -> list[dict]:
        """Orders: rows with the same (community, order_id) (an empty order_id is an
        order by itself); the member of the earliest row owns it."""
        groups: dict[Any, list[dict]] = {}
        for e in sorted(rows, key=_order):
            key = (e["community"], e["order_id"]) if e["order_id"] else ("solo", e["id"])
            groups.setdefault(key, []).append(e)
        return [
            {
                "member": g[0]["member"],
                "ts": g[0]["ts"],
                "net": sum((e["amount"] or Decimal(0) for e in g), Decimal(0)),
            }
            for g in groups.values()
        ]

    # Referral --------------------------------------------------------------------
    def is_seed(self, iv: Interval) -> bool:
        """Generation-0 interval covering P's start or opened in P."""
        generation_0 = iv.invited_by is None
        return generation_0 and (iv.covers(self.ps) or self.ps <= iv.start < self.pe)

    def fission(self) -> tuple[set[str], set[str]]:
        seeds = {iv.member for iv in self.intervals if self.is_seed(iv)}
        reached = set(seeds)
        for iv in self.intervals:
            opened_in_p = self.ps <= iv.start < self.pe
            root = Log.root(iv)
            if iv.invited_by is not None and opened_in_p and root and self.is_seed(root):
                reached.add(iv.member)
        return seeds, reached

    # Funnel ----------------------------------------------------------------------
    def visits_by_channel(self) -> dict[str, int]:
        """Distinct visitor keys (an empty key is a visitor of its own); visits with
        no channel are ignored."""
        keys: dict[str, set] = {}
        for e in self.of_type("visit"):
            if e["channel"]:
                visitor = ("v", e["visitor"]) if e["visitor"] else ("e", e["id"])
                keys.setdefault(e["channel"], set()).add(visitor)
        return {ch: len(v) for ch, v in keys.items()}

    def by_channel(self, buyers: set[str], spent: dict[str, Decimal]) -> dict[str, dict]:
        visits = self.visits_by_channel()
        joins = [e for e in self.of_type("join") if e["channel"]]
        channels = sorted(set(visits) | {e["channel"] for e in joins})
        out = {}
        for ch in channels:
            joined = {e["member"] for e in joins if e["channel"] == ch}
            cj = sum(1 for e in joins if e["channel"] == ch)
            out[ch] = {
                "visits": visits.get(ch, 0),
                "channel_joins": cj,
                "traffic_conversion": ratio(cj, visits.get(ch, 0)),
                "joins": len(joined),
                "buyers": len(joined & buyers),
                "gmv": sum((spent.get(m, Decimal(0)) for m in joined), Decimal(0)),
            }
        return out

    def content_ctr(self) -> dict[str, float | None]:
        """Distinct members with a content_click on x / members_at the time x was first
        sent (items first sent in P)."""
        first: dict[str, int] = {}
        for e in self.of_type("content_sent", self.events):
            if e["content_id"] and e["content_id"] not in first:
                first[e["content_id"]] = e["ts"]
        out = {}
        for item, sent in sorted(first.items()):
            if self.ps <= sent < self.pe:
                clickers = {
                    e["member"]
                    for e in self.of_type("content_click", self.events)
                    if e["content_id"] == item and e["member"]
                }
                out[item] = ratio(len(clickers), len(self.members_at(sent)))
        return out

    # Everything ------------------------------------------------------------------
    def figures(self) -> dict[str, Any]:
        at_start, at_end = self.members_at(self.ps), self.members_at(self.pe)
        during = self.members_during()
        last = self.days[-1]
        dau_sum = sum(len(self.active_on([d])) for d in self.days)
        mau = len(self.active_on(self.window(last, 30)))
        active = self.active_on(self.days)
        speakers = {e["member"] for e in self.of_type("message") if e["member"]}
        messages = len(self.of_type("message"))
        # churn: distinct members with >= 1 leave in P who were members at P's start.
        churned = {e["member"] for e in self.of_type("leave")} & at_start
        orders = self.orders(self.of_type("order"))
        paid = [o for o in orders if o["net"] > 0]
        per_buyer: dict[str, int] = {}
        spent: dict[str, Decimal] = {}
        for o in paid:
            per_buyer[o["member"]] = per_buyer.get(o["member"], 0) + 1
        for o in orders:
            spent[o["member"]] = spent.get(o["member"], Decimal(0)) + o["net"]
        buyers = set(per_buyer)
        gmv = sum((e["amount"] or Decimal(0) for e in self.of_type("order")), Decimal(0))
        visits = self.visits_by_channel()
        channel_joins = [e for e in self.of_type("join") if e["channel"]]
        visit_joins = sum(1 for e in channel_joins if visits.get(e["channel"], 0) > 0)
        invited = [e for e, _ in self.log.invited_joins() if in_scope(self.scope, e["community"])]
        invited_p = [e for e in invited if self.ps <= e["ts"] < self.pe]
        seeds, reached = self.fission()
        cohort, converted = self.join_cohort()
        return {
            "members_at_start": len(at_start),
            "members_at_end": len(at_end),
            "members_during": len(during),
            "joins": len(self.of_type("join")),
            "leaves": len(self.of_type("leave")),
            "net_growth": len(at_end) - len(at_start),
            "growth_rate": ratio(len(at_end) - len(at_start), len(at_start)),
            "churn_rate": ratio(len(churned), len(at_start)),
            "dau": len(self.active_on([last])),
            "wau": len(self.active_on(self.window(last, 7))),
            "mau": mau,
            "active_members": len(active),
            "active_rate": ratio(len(active), len(during)),
            "speaking_rate": ratio(len(speakers), len(during)),
            "stickiness": ratio(Fraction(dau_sum, len(self.days)), mau),
            "messages": messages,
            "messages_per_active": ratio(messages, len(active)),
            "visits": sum(visits.values()),
            "channel_joins": len(channel_joins),
            "traffic_conversion": ratio(visit_joins, sum(visits.values())),
            "by_channel": self.by_channel(buyers, spent),
            "buyers": len(buyers),
            "purchase_conversion": ratio(len(buyers), len(during)),
            "repurchase_rate": ratio(sum(1 for n in per_buyer.values() if n >= 2), len(buyers)),
            "orders": len(paid),
            "gmv": gmv,
            "aov": money_ratio(gmv, len(paid)),
            "arpu": money_ratio(gmv, len(during)),
            "join_cohort_conversion": ratio(converted, cohort),
            "k_factor": ratio(len(invited_p), len(at_start)),
            "fission_multiplier": ratio(len(reached), len(seeds)),
            "content_ctr": self.content_ctr(),
            # No SOP task events exist yet: nothing is due, so the rate is null.
            "sop_on_time_rate": None,
        }

    def join_cohort(self) -> tuple[int, int]:
        """Of members whose first join is in P, those whose first order with net amount
        > 0 (orders of the whole log) has ts < first join ts + N days."""
        first_join: dict[str, int] = {}
        for e in self.of_type("join", self.events):
            first_join.setdefault(e["member"], e["ts"])
        first_paid: dict[str, int] = {}
        for o in sorted(self.orders(self.of_type("order", self.events)), key=lambda o: o["ts"]):
            if o["net"] > 0:
                first_paid.setdefault(o["member"], o["ts"])
        cohort = [m for m, t in first_join.items() if self.ps <= t < self.pe]
        converted = [
            m for m in cohort if m in first_paid and first_paid[m] < first_join[m] + self.cohort_us
        ]
        return len(cohort), len(converted)


def compute(
    events: list[dict],
    start: date,
    end: date,
    zone: ZoneInfo,
    persons: dict[str, str] | None = None,
    cohort_days: int = 30,
) -> dict[str, dict[str, Any]]:
    """Every metric per community and `*`, as the engine returns them."""
    log = Log(events, persons or {}, zone)
    return {
        scope: Scope(log, scope, start, end, cohort_days).figures()
        for scope in [*log.communities, "*"]
    }


def daily(events: list[dict], start: date, end: date, zone: ZoneInfo) -> dict[str, list[dict]]:
    """Per scope and local day: dau, joins, leaves, messages, gmv."""
    log = Log(events, {}, zone)
    out: dict[str, list[dict]] = {}
    for scope in [*log.communities, "*"]:
        rows = []
        for i in range((end - start).days):
            day = start + timedelta(days=i)
            s = Scope(log, scope, day, day + timedelta(days=1), 30)
            rows.append(
                {
                    "day": day,
                    "dau": len(s.active_on([day])),
                    "joins": len(s.of_type("join")),
                    "leaves": len(s.of_type("leave")),
                    "messages": len(s.of_type("message")),
                    "gmv": sum((e["amount"] or Decimal(0) for e in s.of_type("order")), Decimal(0)),
                }
            )
        out[scope] = rows
    return out
