"""Kept figures and the kept churn model equal a cold recompute, column for column.

A random log (seeded) is split in two: the first part is appended to a copy and its
figures kept; the rest (new ids, some of them older in time, replies to messages not yet
written, refunds of earlier orders, duplicate message ids) is appended, and the kept
figures are brought up to a later instant. They must equal the figures of a fresh copy
of the whole log computed from scratch, for every column.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from shequn.analytics.copy import append, memory_copy
from shequn.config import Settings, Tier
from shequn.members import kept_profiles
from shequn.members.figures import AsOf, figures
from shequn.members.profiles import assemble
from shequn.members.recorded import last_id
from shequn.members.stored import NONE_AHEAD, bring_up, read_kept
from tests.analytics.helpers import SHANGHAI, LogBuilder, persons_table, to_arrow

START = datetime(2026, 1, 1)
MERGED = persons_table({"k2": "k1", "k7": "k5"})
# A record of a member: days back from the instant, member, type, text, amount.
Record = tuple[int, str, str, str | None, int | None]


def _log(seed: int, events: int = 900, keys: int = 12) -> LogBuilder:
    rng = random.Random(seed)
    b = LogBuilder()
    kinds = ["message"] * 5 + ["reaction"] * 2 + ["checkin", "join", "leave", "order", "order"]
    for i in range(events):
        when = START + timedelta(minutes=rng.randrange(0, 200 * 24 * 60))
        kind = rng.choice([*kinds, "content_click"])
        fields: dict = {"community": rng.choice(["c1", "c2"])}
        if kind == "message":
            fields["message_id"] = f"m{rng.randrange(events) if rng.random() < 0.05 else i}"
        if kind in ("message", "reaction") and rng.random() < 0.5:
            fields["reply_to"] = f"m{rng.randrange(events)}"
        if kind == "message" and rng.random() < 0.1:
            fields["meta"] = json.dumps({"mentions": [f"k{rng.randrange(keys + 3)}"]})
        if kind == "join":
            fields.update(channel=rng.choice(["qr", "poster"]), inviter=f"k{rng.randrange(keys)}")
        if kind == "order":
            fields.update(order_id=f"o{rng.randrange(60)}", amount=str(rng.randint(-20, 90)))
        b.add(when.strftime("%Y-%m-%d %H:%M"), kind, f"k{rng.randrange(keys)}", **fields)
    return b


def kept_figures(con, at: AsOf) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    """The kept set `now` brought up to `at` (returns after 60 days' gaps), read."""
    return read_kept(con, bring_up(con, at, 60, "now"))


def _at(day: str) -> AsOf:
    return AsOf.of(datetime.fromisoformat(day).replace(tzinfo=SHANGHAI), SHANGHAI)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    ("first", "then", "now", "keys"),
    [
        (600, "2026-05-01", "2026-05-01", 12),  # new events, same instant
        (600, "2026-04-01", "2026-06-10 15:30", 12),  # new events and the windows moved
        (900, "2026-03-01", "2026-05-20", 12),  # no new events: time passed only
        (870, "2026-06-10 15:30", "2026-06-12", 60),  # a few new events, many untouched
    ],
)
def test_kept_figures_equal_a_cold_recompute(
    seed: int, first: int, then: str, now: str, keys: int
) -> None:
    events = _log(seed, keys=keys).events
    con = memory_copy(to_arrow(events[:first]), SHANGHAI, members=MERGED)
    kept_figures(con, _at(then))
    append(con, to_arrow(events[first:]), SHANGHAI)
    kept = kept_figures(con, _at(now))
    cold = figures(memory_copy(to_arrow(events), SHANGHAI, members=MERGED), _at(now), 60)
    assert kept.height > 5
    assert_frame_equal(kept.sort("member"), cold)


@pytest.mark.parametrize("writer", ["k1", "k2"])
def test_a_refreshed_person_counts_the_rows_of_their_merged_keys(writer: str) -> None:
    # k2 is merged into k1. Before the mark, k2 joined c1 by a poster z shared (before
    # k1 joined c2 by QR), left both communities, wrote in the window, bought, and
    # reacted long ago; z wrote once. A new check-in by `writer` puts k1 (only) in
    # scope: the figures read from compact tables must count k2's rows too.
    b = LogBuilder()
    b.add("2026-03-01 10:00", "join", "k2", community="c1", channel="poster", inviter="z")
    b.add("2026-03-05 10:00", "join", "k1", community="c2", channel="qr")
    b.add("2026-03-10 10:00", "reaction", "k2", reply_to="m0")
    b.add("2026-04-10 10:00", "message", "z", message_id="m0")
    b.add("2026-04-20 10:00", "leave", "k2", community="c1")
    b.add("2026-04-21 10:00", "leave", "k2", community="c2")
    b.add("2026-04-25 10:00", "message", "k2", message_id="m1")
    b.add("2026-04-26 10:00", "order", "k2", order_id="o1", amount="50")
    merged = persons_table({"k2": "k1"})
    con = memory_copy(to_arrow(b.events), SHANGHAI, members=merged)
    kept_figures(con, _at("2026-05-01"))
    append(con, to_arrow([b.add("2026-04-30 10:00", "checkin", writer)]), SHANGHAI)
    update = bring_up(con, _at("2026-05-01"), 60, "now")
    assert update.start is not None  # brought up, not recomputed cold
    changed = con.execute(f"SELECT member FROM {update.table}_changed").fetchall()
    assert changed == [("k1",)]
    kept = read_kept(con, update).sort("member")
    names = ["join_channel", "inviter", "has_left", "messages_window", "orders", "gmv"]
    names += ["days_active", "days_active_window", "checkins"]
    assert kept.filter(pl.col("member") == "k1").select(names).row(0) == (
        "poster",  # k2's join came first
        "z",
        True,  # k2 left c1 and c2, k1's only community
        1,  # k2's message of 04-25
        1,  # k2's order
        50.0,
        3,  # 03-10 (k2), 04-25 (k2), 04-30 (the check-in)
        2,
        1,
    )
    cold = figures(memory_copy(to_arrow(b.events), SHANGHAI, members=merged), _at("2026-05-01"))
    assert_frame_equal(kept, cold)


def test_a_changed_merge_or_window_recomputes_everyone() -> None:
    events = _log(4).events
    con = memory_copy(to_arrow(events), SHANGHAI)
    kept_figures(con, _at("2026-05-01"))
    con.execute("INSERT INTO members VALUES ('k3', 'k4')")  # k3 merged into k4
    at = AsOf(_at("2026-05-01").now, _at("2026-05-01").today, window_days=7)
    kept = kept_figures(con, at)
    merged = memory_copy(to_arrow(events), SHANGHAI, members=persons_table({"k3": "k4"}))
    assert "k3" not in kept["member"].to_list()
    assert_frame_equal(kept.sort("member"), figures(merged, at, 60))


def _settings(refit_days: int) -> Settings:
    return Settings.model_validate(
        {
            "tiers": [
                Tier(name="regular", min_days_active=3, window_days=30),
                Tier(name="buyer", min_orders=2, window_days=30, grace_days=14),
            ],
            "member_states": {"churn_refit_days": refit_days},
        }
    )


def test_profiles_after_new_events_equal_a_cold_run() -> None:
    events = _log(5, 1500).events
    settings = _settings(refit_days=30)
    con = memory_copy(to_arrow(events[:1000]), SHANGHAI)
    first = assemble(con, settings, _at("2026-06-01"))
    append(con, to_arrow(events[1000:]), SHANGHAI)
    # 10 days later: the kept model (fitted on 06-01) still scores.
    kept = assemble(con, settings, _at("2026-06-11"))
    whole = memory_copy(to_arrow(events), SHANGHAI)
    cold = assemble(whole, settings, _at("2026-06-11"))
    assert_frame_equal(kept.drop("churn_risk"), cold.drop("churn_risk"))
    assert kept["churn_risk"].null_count() < kept.height
    # The kept model is the first run's: scoring the cold figures with it gives the
    # kept risks (a copy whose model is the first one, refreshed cold for the figures).
    again = memory_copy(to_arrow(events[:1000]), SHANGHAI)
    assemble(again, settings, _at("2026-06-01"))
    append(again, to_arrow(events[1000:]), SHANGHAI)
    assert_frame_equal(kept, _figures_cold_model_kept(again, settings))
    # Past the model's age it is refitted: then every column equals the cold run.
    refit = assemble(con, _settings(refit_days=5), _at("2026-06-11"))
    assert_frame_equal(refit, cold)
    assert not kept["churn_risk"].equals(refit["churn_risk"])  # the kept model was older
    assert first["member"].is_in(kept["member"].implode()).all()


def _figures_cold_model_kept(  # type: ignore[no-untyped-def]
    con, settings: Settings, day: str = "2026-06-11"
) -> pl.DataFrame:
    from shequn.members import stored

    for name in ("now", "back_14"):
        con.execute(f"DELETE FROM {stored.STATE_TABLE} WHERE name = '{name}'")
    return assemble(con, settings, _at(day))


def record(con, at: AsOf, *rows: Record) -> None:  # type: ignore[no-untyped-def]
    """Append records of members to the copy `con`, each at `at` or the days before it
    that it names, with ids after the last (as a sync brings the store's new ones)."""
    top = last_id(con)
    if not rows:
        return
    con.executemany(
        "INSERT INTO member_records VALUES (?, ?, ?, ?, ?, ?)",
        [
            (top + i, at.back(days).now, member, kind, text, amount)
            for i, (days, member, kind, text, amount) in enumerate(rows, start=1)
        ],
    )


# Records before a refresh: k3's points and state, k7's tag and tier, k5's points 14
# days back (which the grace evaluation reads).
BEFORE: tuple[Record, ...] = (
    (0, "k3", "points_added", None, 40),
    (0, "k3", "state_changed", "active", None),
    (0, "k7", "tag_added", "vip", None),
    (0, "k7", "tier_changed", "buyer", None),
    (14, "k5", "points_added", None, 10),
)
# Records after it: k3's tier, k7's tag removed, k40 recorded for the first time, more
# points for k5 14 days back.
AFTER: tuple[Record, ...] = (
    (0, "k3", "tier_changed", "buyer", None),
    (0, "k7", "tag_removed", "vip", None),
    (0, "k40", "points_added", None, 5),
    (0, "k40", "churn_risk_crossed", "0.9", None),
    (14, "k5", "points_added", None, 890),
)


@pytest.mark.parametrize("held", [True, False], ids=["held in the process", "read back"])
@pytest.mark.parametrize("more", [(), AFTER], ids=["same recorded", "recorded changed"])
def test_a_refresh_at_the_same_instant_equals_a_full_decision(more: tuple, held: bool) -> None:
    # 200 keys, the last 30 events appended: new persons, late events (before the
    # grace instant 14 days back), events after the instant, refunds.
    events = _log(8, 2000, keys=200).events
    settings = _settings(refit_days=30)
    con = memory_copy(to_arrow(events[:1970]), SHANGHAI)
    record(con, _at("2026-06-11"), *BEFORE)
    assemble(con, settings, _at("2026-06-11"))
    append(con, to_arrow(events[1970:]), SHANGHAI)
    record(con, _at("2026-06-11"), *more)
    if not held:  # as another process would: the kept profiles read from the copy
        kept_profiles._held.clear()
    again = assemble(con, settings, _at("2026-06-11"))
    [(changed,)] = con.execute("SELECT COUNT(*) FROM member_profiles_changed").fetchall()
    assert 0 < changed < again.height / 3  # only some rows were decided again
    # The persons whose records entered are among them.
    decided = {p for (p,) in con.execute("FROM member_profiles_changed").fetchall()}
    assert {m for _days, m, *_rest in more} <= decided
    assert_frame_equal(again, _figures_cold_model_kept(con, settings))
    k3 = again.filter(pl.col("member") == "k3")
    assert k3.select("points", "recorded_tier").row(0) == (40, "buyer" if more else None)


def test_profiles_held_for_another_copy_are_not_used() -> None:
    # The process holds the profiles it last wrote, those of `other`; a refresh of `con`
    # (same settings, instant and shape of events) must read its own from the copy.
    events = _log(8, 2000, keys=200).events
    settings = _settings(refit_days=30)
    con = memory_copy(to_arrow(events[:1970]), SHANGHAI)
    assemble(con, settings, _at("2026-06-11"))
    other = memory_copy(to_arrow(_log(5, 1970, keys=200).events), SHANGHAI)
    assemble(other, settings, _at("2026-06-11"))
    append(con, to_arrow(events[1970:]), SHANGHAI)
    again = assemble(con, settings, _at("2026-06-11"))
    assert_frame_equal(again, _figures_cold_model_kept(con, settings))


def test_changed_settings_decide_every_row_again() -> None:
    events = _log(7, 1500, keys=60).events
    con = memory_copy(to_arrow(events[:1460]), SHANGHAI)
    assemble(con, _settings(refit_days=30), _at("2026-06-11"))
    append(con, to_arrow(events[1460:]), SHANGHAI)
    stricter = _settings(refit_days=30)
    stricter.tiers[0] = Tier(name="regular", min_days_active=6, window_days=30)
    again = assemble(con, stricter, _at("2026-06-11"))
    assert_frame_equal(again, _figures_cold_model_kept(con, stricter))
    assert (
        again["tier"].to_list() != assemble(con, _settings(30), _at("2026-06-11"))["tier"].to_list()
    )


def test_time_alone_moves_windowed_figures() -> None:
    b = LogBuilder()
    b.add("2026-04-05 10:00", "message", "q", message_id="m1")
    b.add("2026-04-06 10:00", "order", "q", order_id="o1", amount="50")
    b.add("2026-04-10 10:00", "message", "r", message_id="m2", meta='{"mentions": ["z"]}')
    b.add("2026-04-20 10:00", "checkin", "q")
    b.add("2026-05-08 10:00", "checkin", "z")  # z's first event, after the mention
    con = memory_copy(to_arrow(b.events), SHANGHAI)
    names = ["messages_window", "days_active_window", "days_last_14", "days_prev_14"]
    names += ["orders_window", "gmv_window", "messages"]
    before = kept_figures(con, _at("2026-05-01")).sort("member")
    assert before["member"].to_list() == ["q", "r"]
    assert before.select(names).row(0) == (1, 2, 1, 1, 1, 50.0, 1)
    # Nine days on, no new event: the message and the order left the 30-day window,
    # the check-in moved from the last fortnight to the one before; z's check-in
    # entered, and the mention of z before it counts.
    after = kept_figures(con, _at("2026-05-10")).sort("member")
    assert after.select(names).row(0) == (0, 1, 0, 1, 0, 0.0, 1)
    assert after["member"].to_list() == ["q", "r", "z"]
    assert after["mentions_received"].to_list() == [0, 0, 1]
    assert_frame_equal(after, figures(memory_copy(to_arrow(b.events), SHANGHAI), _at("2026-05-10")))
    # A new event later today: no sum counts it yet, but today is an active day.
    late = b.add("2026-05-10 18:00", "checkin", "q")
    append(con, to_arrow([late]), SHANGHAI)
    again = kept_figures(con, _at("2026-05-10")).sort("member")
    assert again["days_active"].to_list() == [3, 1, 1]  # 04-05, 04-20, 05-10
    assert_frame_equal(again, figures(memory_copy(to_arrow(b.events), SHANGHAI), _at("2026-05-10")))


def _ahead(con) -> int | None:  # type: ignore[no-untyped-def]
    [(ahead,)] = con.execute("SELECT ahead FROM member_figures_state WHERE name = 'now'").fetchall()
    return ahead


def test_events_ahead_of_the_instant_enter_when_time_passes_them() -> None:
    # The kept figures remember the earliest event they saw but have not counted (its
    # time at or after their instant); the older events are read for time alone only
    # once an instant passes it. Each step equals a cold recompute.
    b = LogBuilder()
    b.add("2026-04-05 10:00", "message", "q", message_id="m1")
    b.add("2026-05-20 10:00", "checkin", "r")
    b.add("2026-06-01 10:00", "checkin", "q")
    con = memory_copy(to_arrow(b.events), SHANGHAI)

    def step(day: str) -> pl.DataFrame:
        kept = kept_figures(con, _at(day)).sort("member")
        assert_frame_equal(kept, figures(memory_copy(to_arrow(b.events), SHANGHAI), _at(day)))
        return kept

    assert step("2026-05-01")["member"].to_list() == ["q"]
    assert _ahead(con) == _at("2026-05-20 10:00").now
    step("2026-05-10")  # nothing passed: the same one, found among the new events alone
    assert _ahead(con) == _at("2026-05-20 10:00").now
    append(con, to_arrow([b.add("2026-05-15 09:00", "checkin", "z")]), SHANGHAI)
    assert step("2026-05-12")["member"].to_list() == ["q"]
    assert _ahead(con) == _at("2026-05-15 09:00").now  # a new one, earlier
    assert step("2026-05-25")["member"].to_list() == ["q", "r", "z"]
    assert _ahead(con) == _at("2026-06-01 10:00").now  # the next after both entered
    assert step("2026-06-05")["checkins"].to_list() == [1, 1, 1]
    assert _ahead(con) == NONE_AHEAD
    # Kept before this was recorded (no value): every event's time is read again.
    con.execute("UPDATE member_figures_state SET ahead = NULL")
    append(con, to_arrow([b.add("2026-06-10 08:00", "checkin", "r")]), SHANGHAI)
    assert step("2026-06-07")["checkins"].to_list() == [1, 1, 1]
    assert _ahead(con) == _at("2026-06-10 08:00").now
    assert step("2026-06-11")["checkins"].to_list() == [1, 2, 1]


def test_an_id_written_again_recomputes_cold() -> None:
    b = LogBuilder()
    b.add("2026-04-05 10:00", "message", "a", message_id="m1")
    b.add("2026-04-06 10:00", "message", "c", message_id="m2", reply_to="m1")
    con = memory_copy(to_arrow(b.events), SHANGHAI)
    before = kept_figures(con, _at("2026-05-01")).sort("member")
    assert before["replies_received"].to_list() == [1, 0]  # a wrote m1
    # A bad export writes m1 again, by b: the first writer by id is still a.
    again = b.add("2026-04-01 10:00", "message", "b", message_id="m1")
    append(con, to_arrow([again]), SHANGHAI)
    after = kept_figures(con, _at("2026-05-01")).sort("member")
    assert after["replies_received"].to_list() == [1, 0, 0]
    assert_frame_equal(after, figures(memory_copy(to_arrow(b.events), SHANGHAI), _at("2026-05-01")))


def test_grace_figures_are_read_only_for_who_no_longer_meets_a_graced_tier() -> None:
    from shequn.members.stored import mark

    events = _log(9, 2000, keys=200).events
    # One order in 30 days makes a buyer, kept 14 days after (grace).
    settings = Settings(
        tiers=[
            Tier(name="regular", min_days_active=3, window_days=30),
            Tier(name="buyer", min_orders=1, window_days=30, grace_days=14),
        ]
    )
    con = memory_copy(to_arrow(events[:1950]), SHANGHAI)
    assemble(con, settings, _at("2026-06-11"))
    grace = mark(con, "back_14")
    # No one holds `buyer` (the tier with a grace period): the figures 14 days back are
    # not read, so they are left as they were.
    append(con, to_arrow(events[1950:1975]), SHANGHAI)
    first = assemble(con, settings, _at("2026-06-11"))
    assert mark(con, "back_14") == grace
    expected = _figures_cold_model_kept(con, settings)
    assert_frame_equal(first, expected)
    # A buyer recorded as one, who still meets it: their tier reads nothing 14 days back,
    # so the grace figures are still left alone.
    holder = first.filter(pl.col("tier") == "buyer")["member"][0]
    record(con, _at("2026-06-11"), (0, holder, "tier_changed", "buyer", None))
    grace = mark(con, "back_14")  # as the full decision of `expected` left them
    append(con, to_arrow(events[1975:1976]), SHANGHAI)
    again = assemble(con, settings, _at("2026-06-11"))
    [(changed,)] = con.execute("SELECT COUNT(*) FROM member_profiles_changed").fetchall()
    assert 0 < changed < 5 and mark(con, "back_14") == grace
    assert_frame_equal(again, _figures_cold_model_kept(con, settings))
    # k36 is recorded as a buyer: its order (04-28 to 05-12) left the 30-day window by
    # 06-11 but was in it 14 days before, so it keeps the tier. Its figures 14 days
    # back are read for it alone (figures.qualifying): the grace set is left as it was.
    grace = mark(con, "back_14")
    append(con, to_arrow(events[1976:]), SHANGHAI)
    record(con, _at("2026-06-11"), (0, "k36", "tier_changed", "buyer", None))
    second = assemble(con, settings, _at("2026-06-11"))
    [(changed,)] = con.execute("SELECT COUNT(*) FROM member_profiles_changed").fetchall()
    assert 0 < changed < second.height / 3 and mark(con, "back_14") == grace
    assert_frame_equal(second, _figures_cold_model_kept(con, settings))
    k36 = second.filter(pl.col("member") == "k36")
    assert k36.select("tier", "tier_reason").row(0) == ("buyer", "kept in the grace period")


@pytest.mark.parametrize(
    ("rows", "persons", "expected"),
    [
        # Every changed person held and decided again: written in place.
        ({"member": ["b", "d"], "x": [20, 40]}, ["b", "d"], [1, 20, 3, 40]),
        # A new person: merged in order.
        ({"member": ["b", "c2"], "x": [20, 25]}, ["b", "c2"], [1, 20, 3, 25, 4]),
        # A changed person with no row any more: theirs leaves.
        ({"member": ["b"], "x": [20]}, ["b", "d"], [1, 20, 3]),
        # All three, new persons first and last.
        ({"member": ["0", "c", "e"], "x": [0, 30, 50]}, ["0", "a", "c", "e"], [0, 2, 30, 4, 50]),
        # New persons in runs at the same place, none held decided again.
        (
            {"member": ["b1", "b2", "e", "f"], "x": [21, 22, 50, 60]},
            ["b1", "b2", "e", "f"],
            [1, 2, 21, 22, 3, 4, 50, 60],
        ),
        # Nobody decided again.
        ({"member": [], "x": []}, [], [1, 2, 3, 4]),
    ],
    ids=["in place", "new person", "row gone", "all three", "runs of new", "none"],
)
def test_held_profiles_take_the_changed_rows_in_member_order(
    rows: dict, persons: list, expected: list
) -> None:
    held = pl.DataFrame({"member": ["a", "b", "c", "d"], "x": [1, 2, 3, 4]})
    rows_frame = pl.DataFrame(rows, schema=held.schema)
    spliced = kept_profiles._spliced(held, rows_frame, pl.Series(persons, dtype=pl.String))
    # The held frame (another caller may still hold it) is left as it was.
    assert held.to_dict(as_series=False) == {"member": ["a", "b", "c", "d"], "x": [1, 2, 3, 4]}
    members = sorted(({"a", "b", "c", "d"} - set(persons)) | set(rows["member"]))
    assert spliced.to_dict(as_series=False) == {"member": members, "x": expected}
    # Profiles read back for some columns (unsorted, not held) take the same rows,
    # the kept ones first, those replaced still there but marked stale.
    unsorted = held.reverse()
    replaced = kept_profiles._replaced(unsorted, rows_frame, pl.Series(persons, dtype=pl.String))
    stale = replaced.filter(pl.col(kept_profiles.STALE))
    assert stale["member"].to_list() == [m for m in unsorted["member"] if m in persons]
    live = replaced.filter(~pl.col(kept_profiles.STALE)).drop(kept_profiles.STALE)
    assert live.sort("member").equals(spliced)
    kept = [m for m in unsorted["member"] if m not in persons]
    assert live["member"].to_list() == [*kept, *rows["member"]]
