"""The simulator: deterministic, valid by the METRICS.md rules, scaled, and structured."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest

from shequn.errors import InputError
from shequn.importers.frame import FRAME_SCHEMA, validate
from shequn.simulate import (
    Campaign,
    Channel,
    CommunitySpec,
    Product,
    SimulationSpec,
    count_events,
    default_spec,
    simulate,
)

ACTIVE = ("message", "reaction", "checkin")
MONEY = re.compile(r"^-?\d+\.\d{2}$")


def small_spec(seed: int = 7, chunk_rows: int = 500_000) -> SimulationSpec:
    """Three small communities over five weeks (about 20k events)."""
    spec = default_spec(n_communities=3, days=35, seed=seed)
    communities = tuple(replace(c, scale=0.25) for c in spec.communities)
    return replace(spec, communities=communities, chunk_rows=chunk_rows)


@pytest.fixture(scope="module")
def small() -> pl.DataFrame:
    return pl.concat(list(simulate(small_spec())))


@pytest.fixture(scope="module")
def large() -> pl.DataFrame:
    """Ten weeks of the default communities, about 150k events."""
    return pl.concat(list(simulate(default_spec(days=70, target_events=150_000))))


# -- determinism and form -------------------------------------------------------------


def test_same_seed_gives_identical_frames_and_another_seed_does_not() -> None:
    first = list(simulate(small_spec(seed=7, chunk_rows=4_000)))
    again = list(simulate(small_spec(seed=7, chunk_rows=4_000)))
    other = pl.concat(list(simulate(small_spec(seed=8, chunk_rows=4_000))))
    assert len(first) == len(again) > 3
    assert all(a.equals(b) for a, b in zip(first, again, strict=True))
    assert not pl.concat(first).drop("source_id").equals(other.drop("source_id"))
    assert pl.concat(first)["source_id"][0] == "7:tea-shop:0"
    assert other["source_id"][0] == "8:tea-shop:0"


def test_frames_follow_the_schema_validate_and_come_in_time_order() -> None:
    frames = list(simulate(small_spec(chunk_rows=3_000)))
    for frame in frames:
        assert frame.schema == pl.Schema(FRAME_SCHEMA)
        assert frame.height <= 3_000
        assert validate(frame, "<simulated>").equals(frame)  # nothing to clean either
        assert frame["source"].null_count() == frame["_line"].null_count() == frame.height
    everything = pl.concat(frames)
    # Communities come one after the other; each is in time order; chunks are full
    # except each community's last.
    communities = everything["community"]
    assert communities.unique(maintain_order=True).to_list() == ["tea-shop", "data-camp", "hiking"]
    assert communities.rle_id().max() == 2
    for (community,), events in everything.group_by("community"):
        assert events["ts"].is_sorted()
        sizes = [f.height for f in frames if f["community"][0] == community]
        assert all(size == 3_000 for size in sizes[:-1])
    assert everything["source_id"].n_unique() == everything.height
    assert (
        everything["message_id"].drop_nulls().n_unique() == (everything["type"] == "message").sum()
    )


def test_count_events_matches_the_frames(small: pl.DataFrame) -> None:
    by_type = dict(small.group_by("type").len().iter_rows())
    assert count_events(small_spec()) == by_type


# -- the METRICS.md rules, checked with plain Python -----------------------------------


class Checker:
    """Replays one community's events and asserts the membership rules."""

    def __init__(self, community: str) -> None:
        self.community = community
        self.members: set[str] = set()
        self.visits: dict[str, str] = {}  # visitor -> channel
        self.messages: dict[str, str] = {}  # message id -> author
        self.orders: dict[str, tuple[str, Decimal]] = {}
        self.refunded: set[str] = set()
        self.contents: set[str] = set()
        self.signups: set[tuple[str, str]] = set()
        self.founder: str | None = None

    def row(self, e: dict) -> None:
        kind, member = e["type"], e["member"]
        if kind == "visit":
            assert member is None and e["visitor"] and e["channel"]
            self.visits[e["visitor"]] = e["channel"]
            return
        assert member and member.startswith(f"sim:{self.community}:")
        assert e["member_name"]
        if kind == "join":
            self.join(e)
        elif kind == "leave":
            self.leave(e)
        elif kind == "order":
            self.order(e)
        else:
            # Everything else is done by current members (refunds excepted above).
            assert member in self.members, e
            getattr(self, kind, lambda _: None)(e)

    def join(self, e: dict) -> None:
        member = e["member"]
        assert member not in self.members, "a join while already a member"
        if e["channel"] is None and e["inviter"] is None:
            # Only the operator who founds the group joins with neither.
            assert self.founder is None and member.endswith(":0")
            self.founder = member
        if e["inviter"] is not None:
            assert e["inviter"] in self.members and e["inviter"] != member
            assert e["inviter_name"]
        if e["channel"] is not None:
            assert self.visits.get(e["visitor"]) == e["channel"], "join without its visit"
        self.members.add(member)

    def leave(self, e: dict) -> None:
        assert e["member"] in self.members, "a leave that closes nothing"
        self.members.remove(e["member"])
        if e["meta"]:
            assert json.loads(e["meta"])["removed_by"] in self.members

    def message(self, e: dict) -> None:
        assert e["message_id"] not in self.messages
        if e["reply_to"] is not None:
            assert e["reply_to"] in self.messages
        if e["meta"] and "mentions" in e["meta"]:
            assert json.loads(e["meta"])["mentions"] == [self.messages[e["reply_to"]]]
        self.messages[e["message_id"]] = e["member"]

    def reaction(self, e: dict) -> None:
        assert self.messages[e["reply_to"]] != e["member"], "a reaction to one's own message"
        assert json.loads(e["meta"])["emoji"]

    def order(self, e: dict) -> None:
        amount = Decimal(e["amount"])
        assert MONEY.match(e["amount"]) and amount != 0
        if amount > 0:
            assert e["member"] in self.members and e["order_id"] not in self.orders
            self.orders[e["order_id"]] = (e["member"], amount)
        else:
            assert self.orders[e["order_id"]] == (e["member"], -amount), "refund of no order"
            assert e["order_id"] not in self.refunded
            self.refunded.add(e["order_id"])

    def content_sent(self, e: dict) -> None:
        assert e["member"] == self.founder
        self.contents.add(e["content_id"])

    def content_click(self, e: dict) -> None:
        assert e["content_id"] in self.contents

    def activity_signup(self, e: dict) -> None:
        self.signups.add((e["member"], json.loads(e["meta"])["activity"]))

    def activity_attend(self, e: dict) -> None:
        assert (e["member"], json.loads(e["meta"])["activity"]) in self.signups

    def feedback(self, e: dict) -> None:
        assert 0 <= int(e["amount"]) <= 10
        about = json.loads(e["meta"])
        assert "activity" in about or about["order_id"] in self.orders


def test_every_event_follows_the_membership_rules(small: pl.DataFrame) -> None:
    checkers: dict[str, Checker] = {}
    start = datetime(2025, 8, 31, 16, tzinfo=UTC)  # 2025-09-01 00:00 in Shanghai
    end = datetime(2025, 10, 5, 16, tzinfo=UTC)
    for e in small.iter_rows(named=True):
        assert start <= e["ts"] < end
        checker = checkers.setdefault(e["community"], Checker(e["community"]))
        checker.row(e)
    for checker in checkers.values():
        assert checker.founder is not None
        assert checker.signups and checker.contents and checker.orders
    assert any(checker.refunded for checker in checkers.values())


# -- scaling ---------------------------------------------------------------------------


@pytest.mark.parametrize(("communities", "target"), [(1, 1_000), (3, 10_000), (3, 200_000)])
def test_target_events_scales_the_total(communities: int, target: int) -> None:
    spec = default_spec(n_communities=communities, target_events=target)
    total = sum(count_events(spec).values())
    assert 0.8 * target <= total <= 1.2 * target
    assert len(spec.communities) == communities


def test_default_spec_has_three_kinds_of_community_with_their_channels() -> None:
    spec = default_spec()
    assert [(c.key, c.kind, c.platform) for c in spec.communities] == [
        ("tea-shop", "brand", "wechat"),
        ("data-camp", "training", "qq"),
        ("hiking", "interest", "telegram"),
    ]
    channels = {ch.name for c in spec.communities for ch in c.channels}
    assert channels == {"公众号", "抖音", "小红书", "offline_qr", "invite_link"}
    assert [c.key for c in default_spec(n_communities=4).communities][-1] == "tea-shop-2"


# -- structure the analysis can find ----------------------------------------------------


def test_a_few_members_write_most_messages_and_get_most_replies(large: pl.DataFrame) -> None:
    for (community,), events in large.group_by("community"):
        messages = events.filter(pl.col("type") == "message")
        members = events.filter(pl.col("type") == "join")["member"].n_unique()
        top = members // 10
        per_member = messages.group_by("member").len().sort("len", descending=True)
        assert per_member["len"].head(top).sum() > 0.4 * messages.height, community
        author = messages.select(pl.col("message_id").alias("reply_to"), "member")
        replied = messages.join(author, on="reply_to", suffix="_replied")
        per_target = replied.group_by("member_replied").len().sort("len", descending=True)
        assert per_target["len"].head(top).sum() > 0.5 * replied.height, community
        assert 0.2 < replied.height / messages.height < 0.6


def test_activity_fades_after_joining(large: pl.DataFrame) -> None:
    start = datetime(2025, 8, 31, 16, tzinfo=UTC)
    week = ((pl.col("ts") - start).dt.total_days() // 7).alias("week")
    for (community,), events in large.group_by("community"):
        first = events.filter(pl.col("type") == "join").group_by("member").agg(week.min())
        cohort = first.filter(pl.col("week") == 1)["member"]
        active = (
            events.filter(pl.col("type").is_in(ACTIVE) & pl.col("member").is_in(cohort.implode()))
            .select("member", week)
            .unique()
            .group_by("week")
            .len()
        )
        by_week = dict(active.iter_rows())
        assert by_week[9] < 0.85 * by_week[2], (community, by_week)  # week 8 vs week 1


def test_members_leave_rejoin_and_spammers_are_removed(large: pl.DataFrame) -> None:
    leaves = large.filter(pl.col("type") == "leave")
    joins = large.filter(pl.col("type") == "join").group_by("community", "member").len()
    removed = leaves.filter(pl.col("meta").is_not_null())
    assert leaves.height > 0.05 * joins.height
    assert (joins["len"] >= 2).sum() >= 10  # rejoined after leaving
    assert removed.height > 0
    assert set(removed["meta"].str.json_path_match("$.removed_by")) <= {
        "sim:tea-shop:0",
        "sim:data-camp:0",
        "sim:hiking:0",
    }


def test_referral_chains_run_several_generations_deep(large: pl.DataFrame) -> None:
    joins = large.filter(pl.col("type") == "join")
    for (community,), events in joins.group_by("community"):
        generation: dict[str, int] = {}
        for member, inviter in events.select("member", "inviter").iter_rows():
            generation.setdefault(member, 0 if inviter is None else generation[inviter] + 1)
        depth = Counter(generation.values())
        assert max(depth) >= 3, (community, depth)
        assert 0.05 < sum(n for g, n in depth.items() if g > 0) / len(generation) < 0.5


def test_orders_repeat_refund_and_differ_by_channel(large: pl.DataFrame) -> None:
    orders = large.filter(pl.col("type") == "order")
    bought = orders.filter(~pl.col("amount").str.starts_with("-"))
    per_buyer = bought.group_by("community", "member").len()
    assert (per_buyer["len"] >= 2).sum() > 0.1 * per_buyer.height
    assert orders.height - bought.height > 0.02 * bought.height  # refunds
    shop = large.filter(pl.col("community") == "tea-shop")
    joined = shop.filter(pl.col("type") == "join").group_by("member").agg(pl.col("channel").first())
    buyers = set(shop.filter(pl.col("type") == "order")["member"])
    rate = {
        channel: sum(m in buyers for m in group["member"]) / group.height
        for (channel,), group in joined.group_by("channel")
    }
    # Offline QR and 公众号 bring better buyers than 抖音.
    assert min(rate["offline_qr"], rate["公众号"]) > 1.3 * rate["抖音"], rate


def test_daily_rhythm_follows_local_hours_and_weekdays(large: pl.DataFrame) -> None:
    local = pl.col("ts").dt.convert_time_zone("Asia/Shanghai")
    messages = large.filter(pl.col("type") == "message").with_columns(
        local.dt.hour().alias("hour"), local.dt.weekday().alias("weekday")
    )
    by_hour = Counter(messages["hour"].to_list())
    assert by_hour[21] > 10 * by_hour[4]
    assert by_hour[8] > 3 * by_hour[4]
    hiking = messages.filter(pl.col("community") == "hiking")
    days = Counter(hiking["weekday"].to_list())
    assert days[6] > 1.3 * days[2]  # the hiking group is busiest on Saturdays


def test_checkins_content_activities_and_feedback_are_there(large: pl.DataFrame) -> None:
    counts = dict(large.group_by("type").len().iter_rows())
    camp = large.filter(pl.col("community") == "data-camp")
    checkers = camp.filter(pl.col("type") == "checkin")["member"].n_unique()
    assert checkers > 0.25 * camp.filter(pl.col("type") == "join")["member"].n_unique()
    assert counts["content_click"] > 10 * counts["content_sent"]
    assert counts["activity_attend"] < counts["activity_signup"]
    scores = large.filter(pl.col("type") == "feedback")["amount"].cast(pl.Int64)
    assert scores.min() >= 0 and scores.max() == 10 and 6.5 < scores.mean() < 8.5


# -- bad specs -------------------------------------------------------------------------


def _community(**changes: object) -> CommunitySpec:
    base = {
        "key": "c1",
        "kind": "brand",
        "platform": "wechat",
        "name": "群",
        "channels": (Channel("公众号", 10, 0.1),),
        "prices": (Product("茶", Decimal("9.90")),),
    }
    return CommunitySpec(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"key": "tea shop"}, "key"),
        ({"kind": "casino"}, "kind"),
        ({"platform": "myspace"}, "platform"),
        ({"channels": (Channel("x", 10, 1.5),)}, "channels"),
        ({"channels": ()}, "channels"),
        ({"channels": (Channel("x", 10, 0.1, engagement=0),)}, "channels"),
        ({"prices": (Product("茶", Decimal("9.999")),)}, "prices"),
        ({"campaigns": (Campaign("traffic", 0, 3, 2.0, channel="抖音"),)}, "campaigns"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
    ],
)
def test_a_bad_community_spec_names_the_field(changes: dict, field: str) -> None:
    with pytest.raises(InputError) as error:
        _community(**changes)
    assert error.value.field == field
    assert error.value.hint


def test_a_bad_simulation_spec_names_the_field() -> None:
    with pytest.raises(InputError, match="days"):
        SimulationSpec(seed=1, start=date(2026, 1, 1), days=0)
    with pytest.raises(InputError, match="before the simulation"):
        SimulationSpec(
            seed=1,
            start=date(2026, 1, 1),
            days=10,
            communities=(_community(start=date(2025, 12, 1)),),
        )


def test_a_community_opening_later_starts_then() -> None:
    spec = SimulationSpec(
        seed=3,
        start=date(2026, 1, 1),
        days=20,
        communities=(_community(start=date(2026, 1, 11), seed_members=5),),
    )
    events = pl.concat(list(simulate(spec)))
    assert events["ts"].min() == datetime(2026, 1, 11, 1, tzinfo=UTC)  # 09:00 in Shanghai
    assert events["ts"].max() < datetime(2026, 1, 20, 16, tzinfo=UTC)
