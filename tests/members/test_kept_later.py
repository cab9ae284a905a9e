"""A refresh at a later instant equals a full decision at that instant.

Time alone moves every member's tenure and idle days, so their lifecycle state, churn
risk and any tier with a minimum tenure; the windows and the grace instants move too.
The kept profiles decide again only the persons the new events (or the moved windows)
touch and those whose tenure reached a tier's minimum, then derive what time moves for
everyone: the result must equal deciding every row anew.
"""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from shequn.analytics.copy import append, memory_copy
from shequn.config import Settings, Tier
from shequn.members import kept_profiles, tiers
from shequn.members.profiles import Pick, assemble, pick_from
from tests.analytics.helpers import SHANGHAI, to_arrow
from tests.members.test_stored import AFTER, BEFORE, _at, _figures_cold_model_kept, _log, record


def _settings(graced_first: bool = False) -> Settings:
    tiers = [
        Tier(name="regular", min_days_active=3, window_days=30),
        Tier(name="veteran", min_tenure_days=60),
        Tier(name="buyer", min_orders=2, window_days=30, grace_days=14),
    ]
    # The buyer lowest: a grace evaluation then reads every tier's figures 14 days back.
    if graced_first:
        tiers = [tiers[2], tiers[0], tiers[1]]
    return Settings.model_validate({"tiers": tiers, "member_states": {"churn_refit_days": 30}})


@pytest.mark.parametrize("graced_first", [False, True], ids=["buyer highest", "buyer lowest"])
@pytest.mark.parametrize("held", [True, False], ids=["held in the process", "read back"])
@pytest.mark.parametrize("more", [(), AFTER], ids=["same recorded", "recorded changed"])
@pytest.mark.parametrize(
    "later", ["2026-06-11 15:00", "2026-06-14 09:30"], ids=["hours later", "days later"]
)
def test_a_refresh_at_a_later_instant_equals_a_full_decision(
    later: str, more: tuple, held: bool, graced_first: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _log(8, 2000, keys=200).events
    settings = _settings(graced_first)
    con = memory_copy(to_arrow(events[:1970]), SHANGHAI)
    record(con, _at("2026-06-11 09:00"), *BEFORE)
    first = assemble(con, settings, _at("2026-06-11 09:00"))
    append(con, to_arrow(events[1970:]), SHANGHAI)
    # Between the two refreshes, one more: the kept table's rows are appended twice
    # (the first refresh's then rewritten anew, sorted, once they pass a tenth).
    monkeypatch.setattr(kept_profiles, "TAIL_SHARE", 1.0)
    assemble(con, settings, _at("2026-06-11 12:00"))
    monkeypatch.setattr(kept_profiles, "TAIL_SHARE", 0.1)
    if not held:  # as another process would: the kept profiles read from the copy
        kept_profiles._held.clear()
    # Records at the later instant; BEFORE's 14 days back pass under its grace instant.
    record(con, _at(later), *more)
    again = assemble(con, settings, _at(later))
    [(changed,)] = con.execute("SELECT COUNT(*) FROM member_profiles_changed").fetchall()
    assert 0 < changed < again.height  # not every row was decided again
    assert_frame_equal(again, _figures_cold_model_kept(con, settings, later))
    # Time moved what the new events did not touch: idle days for everyone.
    idle = first.join(again, on="member", suffix="_later").filter(
        pl.col("idle_days_later") > pl.col("idle_days")
    )
    assert idle.height > again.height / 2


def test_tenure_reached_after_the_kept_instant_moves_an_untouched_tier() -> None:
    # k3 and k4 are first seen on 04-12 and 04-14: 60 days of tenure (the veteran
    # minimum) on 06-11 and 06-13. No event after 05-01 touches them.
    from tests.analytics.helpers import LogBuilder

    b = LogBuilder()
    b.add("2026-04-12 10:00", "message", "k3", message_id="m1")
    b.add("2026-04-14 10:00", "message", "k4", message_id="m2")
    b.add("2026-05-01 10:00", "message", "k5", message_id="m3")
    con = memory_copy(to_arrow(b.events), SHANGHAI)
    settings = _settings()
    first = assemble(con, settings, _at("2026-06-10 12:00"))
    assert first["tier"].to_list() == [None, None, None]
    append(con, to_arrow([b.add("2026-06-12 08:00", "checkin", "k5")]), SHANGHAI)
    again = assemble(con, settings, _at("2026-06-13 12:00"))
    assert again["tier"].to_list() == ["veteran", "veteran", None]
    assert again["tier_reason"].to_list() == ["meets veteran", "meets veteran", ""]
    assert_frame_equal(again, _figures_cold_model_kept(con, settings, "2026-06-13 12:00"))


def test_a_grace_ending_with_time_alone_drops_an_untouched_tier() -> None:
    # k9 is recorded as a buyer (two orders in 30 days, a 14-day grace). On 06-01 its
    # orders (04-20, 04-25) have left the window, but 14 days before they were both in
    # it: kept in the grace period. On 06-10 the grace instant (05-27) sees only one:
    # it drops, though no new event is k9's.
    from tests.analytics.helpers import LogBuilder

    b = LogBuilder()
    b.add("2026-04-20 10:00", "order", "k9", order_id="o1", amount="50")
    b.add("2026-04-25 10:00", "order", "k9", order_id="o2", amount="50")
    b.add("2026-05-01 10:00", "message", "k5", message_id="m1")
    con = memory_copy(to_arrow(b.events), SHANGHAI)
    settings = _settings()
    record(con, _at("2026-06-01 12:00"), (0, "k9", "tier_changed", "buyer", None))
    first = assemble(con, settings, _at("2026-06-01 12:00"))
    assert first.filter(pl.col("member") == "k9")["tier_reason"].item() == (
        "kept in the grace period"
    )
    append(con, to_arrow([b.add("2026-06-09 08:00", "checkin", "k5")]), SHANGHAI)
    again = assemble(con, settings, _at("2026-06-10 12:00"))
    k9 = again.filter(pl.col("member") == "k9")
    assert k9.select("tier", "tier_reason").row(0) == (None, "no longer meets buyer")
    assert_frame_equal(again, _figures_cold_model_kept(con, settings, "2026-06-10 12:00"))


@pytest.mark.parametrize("shuffled", [False, True], ids=["head and runs", "any order"])
def test_kept_profiles_are_read_back_in_member_order(shuffled: bool) -> None:
    import random

    import duckdb

    # As refreshes leave the table: a sorted head with holes, then runs appended.
    keys = [f"k{i:04d}" for i in range(900)]
    head, runs = keys[::3], [sorted(random.Random(1).sample(keys[1::3], 200)), keys[2::3]]
    batches = [random.Random(2).sample(keys, 900)] if shuffled else [head, *runs]
    con = duckdb.connect()
    con.execute(f"CREATE TABLE {kept_profiles.TABLE} (member VARCHAR, x INTEGER)")
    for rows in batches:
        con.executemany(
            f"INSERT INTO {kept_profiles.TABLE} VALUES (?, ?)", [(k, int(k[1:])) for k in rows]
        )
        con.execute(f"DELETE FROM {kept_profiles.TABLE} WHERE member IN ('k0003', 'k0301')")
    frame = kept_profiles._read_sorted(con)
    expected = sorted({k for rows in batches for k in rows} - {"k0003", "k0301"})
    assert frame["member"].to_list() == expected
    assert frame["x"].to_list() == [int(k[1:]) for k in expected]
    assert frame.n_chunks() == 1


def test_records_time_passes_under_enter_the_recorded_state() -> None:
    # A record already in the copy but dated after the first refresh (a clock ahead, an
    # import) counts once the later instant reaches it: k3's tier. k7's points, of
    # 05-29 08:00, counted at the first instant; 14 days before the later one (the
    # grace instant moved from 05-28 09:00 to 05-29 10:00) they count too.
    settings = _settings()
    con = memory_copy(to_arrow(_log(8, 2000, keys=200).events), SHANGHAI)
    later = "2026-06-12 10:00"
    record(con, _at(later), (0, "k3", "tier_changed", "buyer", None))
    record(con, _at("2026-05-29 08:00"), (0, "k7", "points_added", None, 30))
    first = assemble(con, settings, _at("2026-06-11 09:00"))
    by_member = first.filter(pl.col("member").is_in(["k3", "k7"])).sort("member")
    assert by_member.select("recorded_tier", "points").rows() == [(None, None), (None, 30)]
    again = assemble(con, settings, _at(later))
    decided = {p for (p,) in con.execute("FROM member_profiles_changed").fetchall()}
    assert {"k3", "k7"} <= decided and len(decided) < again.height
    by_member = again.filter(pl.col("member").is_in(["k3", "k7"])).sort("member")
    assert by_member.select("recorded_tier", "points").rows() == [("buyer", None), (None, 30)]
    assert_frame_equal(again, _figures_cold_model_kept(con, settings, later))


@pytest.mark.parametrize("anew", [False, True], ids=["rows appended", "table written anew"])
def test_a_pick_in_a_new_process_reads_back_only_what_it_compares(
    anew: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As `shequn members refresh` in a new process: of every kept row only what deciding
    # and the condition read is read back; the other asked columns only for the rows
    # meeting it. The table still gets every column of the rows decided again (sorted by
    # DuckDB when it is written anew).
    events = _log(8, 2000, keys=200).events
    settings = _settings()
    con = memory_copy(to_arrow(events[:1970]), SHANGHAI)
    record(con, _at("2026-06-11 09:00"), *BEFORE)
    assemble(con, settings, _at("2026-06-11 09:00"))
    append(con, to_arrow(events[1970:]), SHANGHAI)
    record(con, _at("2026-06-12 10:00"), *AFTER)
    kept_profiles._held.clear()
    monkeypatch.setattr(kept_profiles, "TAIL_SHARE", 0.0 if anew else 1.0)
    read_late = []
    read_rows = kept_profiles.read_rows

    def spy(con, rows, columns):  # type: ignore[no-untyped-def]
        read_late.append((rows.height, list(columns)))
        return read_rows(con, rows, columns)

    monkeypatch.setattr(kept_profiles, "read_rows", spy)
    ranked = []
    readers = tiers.readers

    def ranking(frame, tiers):  # type: ignore[no-untyped-def]
        ranked.append(frame)
        return readers(frame, tiers)

    monkeypatch.setattr(tiers, "readers", ranking)
    columns = ("member", "communities", "tier", "recorded_tier", "state", "churn_risk")
    pick = Pick(pl.col("state") != "active", columns)
    assert not {"communities", "state", "churn_risk", *tiers.READS} & set(pick.reads())
    found = pick_from(con, settings, _at("2026-06-12 10:00"), pick)
    assert found.frame.columns == list(columns)
    assert kept_profiles._held == {}  # read back for a pick: nothing held
    stored = [m for (m,) in con.execute(f"SELECT member FROM {kept_profiles.TABLE}").fetchall()]
    assert (stored == sorted(stored)) is anew  # appended rows follow the sorted head
    wide = assemble(con, settings, _at("2026-06-12 10:00"))  # every column read back
    full = _figures_cold_model_kept(con, settings, "2026-06-12 10:00")
    expected = full.filter(pick.where).select(columns)
    assert 0 < expected.height < full.height and found.total == full.height
    assert read_late == [(expected.height, ["communities"])]
    # What tiers read is read back only for those recorded in a tier with a grace
    # period: k7, a buyer with no order in the window, whose grace figures are then read.
    assert ranked[0].columns == list(tiers.HELD_READS)
    assert ranked[0]["member"].to_list() == ["k7"]
    assert readers(ranked[0], settings.tiers).to_list() == ["k7"]
    assert_frame_equal(found.frame.sort("member"), expected)
    assert_frame_equal(wide, full)
