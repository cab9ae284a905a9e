"""The Members page never computes the profiles or the directory in the request: the
first time it shows their computation's progress, then itself; stale ones are refreshed
in the background while the kept ones are served with their age."""

from __future__ import annotations

import fcntl
import re
from datetime import timedelta

from shequn.analytics.sync import COPY_NAME, copy_path
from shequn.clock import FrozenClock
from shequn.web import create_app
from tests.web.conftest import NOW, members_ready, poll_until_reload, sign_in


def test_first_members_page_shows_progress_then_the_list(fresh) -> None:  # type: ignore[no-untyped-def]
    _ws, app = fresh
    client = sign_in(app, "analyst")
    first = client.get("/members?lang=en")
    assert first.status_code == 200
    assert "<table" not in first.text  # no list yet: the progress page
    assert "tier, lifecycle state and churn risk from their history" in first.text
    export = client.get("/members.json")
    assert (export.status_code, export.headers["Retry-After"]) == (503, "30")
    standing = client.get("/member/wx:alice?lang=en").text
    assert "being computed" in standing  # a member's page does not wait either
    poll_until_reload(client, first.text, "/members/profiles/")
    listing = client.get("/members?lang=en").text
    if "<table" not in listing:  # then the directory (each at most once)
        assert "join, channel, activity and orders" in listing
        poll_until_reload(client, listing, "/members/profiles/")
        listing = client.get("/members?lang=en").text
    # The three members, newest join first, with their state (test_members has why).
    assert re.findall(r"<small>(wx:[a-z]+)</small>", listing) == ["wx:bob", "wx:alice"]
    age = listing[listing.index('id="decided-age"') :].split("</p>")[0]
    assert "as of 2026-11-03 12:00 (0 min ago)" in age and 'data-refreshing="no"' in age
    assert [r["state"] for r in client.get("/members.json").json()] == [
        "at_risk",
        "churned",
        "silent",
    ]


def test_stale_profiles_are_served_while_refreshed_in_the_background(fresh) -> None:  # type: ignore[no-untyped-def]
    ws, _app = fresh
    clock = FrozenClock(NOW)
    client = sign_in(create_app(ws, clock), "analyst")
    members_ready(client)
    clock.at = NOW + timedelta(minutes=16)  # past the 15 minutes they are kept
    lock = copy_path(ws).with_name(COPY_NAME + ".lock")
    with lock.open("a") as held:
        # The refresh reads the copy: holding its lock keeps the refresh running.
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        try:
            stale = client.get("/members?lang=en").text
        finally:
            fcntl.flock(held.fileno(), fcntl.LOCK_UN)
    age = stale[stale.index('id="decided-age"') :].split("</p>")[0]
    assert 'data-refreshing="yes"' in age and "2026-11-03 12:00 (16 min ago)" in age
    assert "being refreshed in the background" in age
    assert "<small>wx:alice</small>" in stale  # the kept list, not a progress page
    fresh_page = members_ready(client, "lang=en")
    assert "as of 2026-11-03 12:16 (0 min ago)" in fresh_page


def test_an_unknown_computation_reloads_the_page(fresh) -> None:  # type: ignore[no-untyped-def]
    _ws, app = fresh
    answer = sign_in(app, "analyst").get("/members/profiles/gone", headers={"HX-Request": "true"})
    assert (answer.status_code, answer.headers.get("HX-Refresh"), answer.text) == (200, "true", "")


def test_after_new_events_the_previous_list_shows_while_the_directory_is_rebuilt(fresh) -> None:  # type: ignore[no-untyped-def]
    from tests.sop.helpers import add_events

    ws, app = fresh
    client = sign_in(app, "analyst")
    members_ready(client)
    add_events(ws, [("2026-11-02T09:00:00+08:00", "book-club", "wx:dave", "join", "")], "new")
    # The rebuild starts with this request, which answers the list it had.
    stale = client.get("/members?lang=en").text
    assert 'data-refreshing="yes"' in stale and "wx:alice" in stale and "wx:dave" not in stale
    assert "<small>wx:dave</small>" in members_ready(client, "lang=en")


def test_a_history_that_ended_long_ago_is_named(fresh) -> None:  # type: ignore[no-untyped-def]
    # The events end on 2026-10-20. Sixty days on, the profiles (decided as of now) show
    # everyone idle since: the page names the history's end and the day to ask about.
    ws, _app = fresh
    later = sign_in(create_app(ws, FrozenClock(NOW + timedelta(days=60))), "analyst")
    text = members_ready(later, "lang=en")
    note = text[text.index('id="history-end"') :].split("</p>")[0]
    assert "last event is of 2026-10-20" in note and 'href="/members?at=2026-10-21"' in note
    assert "最后一条事件在 2026-10-20" in members_ready(later, "lang=zh_CN")
    # Two weeks on (the other tests' instant) the group may just be quiet: no note.
    now = sign_in(create_app(ws, FrozenClock(NOW)), "analyst")
    assert 'id="history-end"' not in members_ready(now, "lang=en")


def test_the_members_as_of_a_day_and_now_side_by_side(fresh) -> None:  # type: ignore[no-untyped-def]
    from shequn.members.profiles import profiles
    from shequn.periods import day_start

    ws, app = fresh
    client = sign_in(app, "analyst")
    members_ready(client)
    now_rows = client.get("/members.json").json()
    page = members_ready(client, "at=2026-10-10&lang=en")
    assert '<time id="as-of">2026-10-10 00:00</time>' in page
    assert 'value="2026-10-10"' in page and 'id="history-end"' not in page
    rows = client.get("/members.json?at=2026-10-10").json()
    # Who had been seen by then, with the profiles of that instant.
    expected = profiles(ws, day_start("2026-10-10", "at", ws.settings.zone))
    states = dict(zip(expected["member"], expected["state"], strict=True))
    assert rows
    assert {r["key"]: r["state"] for r in rows} == {r["key"]: states.get(r["key"]) for r in rows}
    assert all(r["joined"] < "2026-10-10" for r in rows if r["joined"])
    assert [r["state"] for r in rows] != [r["state"] for r in now_rows if r["key"] in states]
    # Now is as it was: the past day has figures of its own.
    assert client.get("/members.json").json() == now_rows
    malformed = client.get("/members?at=2026-13-01&lang=en")
    assert malformed.status_code == 400 and "2026-13-01" in malformed.text
    later = client.get("/members?at=2026-11-04&lang=en")  # NOW is 2026-11-03
    assert later.status_code == 400 and "after today" in later.text
