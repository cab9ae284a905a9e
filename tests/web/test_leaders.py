"""The opinion leaders and seed members page: ranked from the interactions of the
communities a user sees, as of now or a chosen day, member text escaped."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

from shequn.clock import FrozenClock
from shequn.services.imports import import_path
from shequn.services.users import add_user
from shequn.services.workspace import init_workspace
from shequn.web import create_app
from shequn.workspace import Workspace
from tests.web.conftest import HOSTILE, NOW, PASSWORD, leaders_ready, members_ready, sign_in

HOSTILE_KEY = f"wx:{HOSTILE}"
# book-club: alice writes, bob and the hostile key answer her; bob is answered once.
# tea: carol writes, dave answers. Everyone's first day is in the community's first
# week, and the history is October 2026 (NOW is 3 November).
MESSAGES = [
    ("2026-10-01T09:00:00+08:00", "book-club", "wx:alice", "m1", None),
    ("2026-10-02T09:00:00+08:00", "book-club", "wx:bob", "m2", "m1"),
    ("2026-10-03T09:00:00+08:00", "book-club", HOSTILE_KEY, "m3", "m1"),
    ("2026-10-04T09:00:00+08:00", "book-club", "wx:alice", "m4", "m2"),
    ("2026-10-12T09:00:00+08:00", "book-club", "wx:alice", "m5", None),
    ("2026-10-13T09:00:00+08:00", "book-club", "wx:bob", "m6", "m5"),
    ("2026-10-01T10:00:00+08:00", "tea", "wx:carol", "t1", None),
    ("2026-10-02T10:00:00+08:00", "tea", "wx:dave", "t2", "t1"),
]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("leaders")
    ws = init_workspace(root / "ws", name="leaders-test")
    rows = [
        {"ts": ts, "community": c, "member": m, "type": "message", "message_id": mid,
         "text": "hi", "source_id": mid, **({"reply_to": to} if to else {})}
        for ts, c, m, mid, to in MESSAGES
    ]  # fmt: skip
    export = root / "events.jsonl"
    export.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    clock = FrozenClock(NOW)
    import_path(ws, export, clock=clock)
    for role in ("analyst", "viewer"):
        add_user(ws, role, PASSWORD, role, clock=clock)
    add_user(ws, "scoped", PASSWORD, "operator", ("tea",), clock=clock)
    try:
        yield ws
    finally:
        ws.close()


def _leaders(text: str) -> list[str]:
    table = text[text.index('class="data leaders"') :].split("</table>")[0]
    return re.findall(r"<small>([^<]+)</small>", table)


def _seeds(text: str) -> list[str]:
    table = text[text.index('class="data seeds"') :].split("</table>")[0]
    return re.findall(r"<small>([^<]+)</small>", table)


def test_leaders_ranked_from_every_community_the_user_sees(ws: Workspace) -> None:
    client = sign_in(create_app(ws, FrozenClock(NOW)), "analyst")
    text = leaders_ready(client, "lang=en")
    ranked = _leaders(text)
    # alice is answered three times by two people; carol once; bob once.
    assert ranked[0] == "wx:alice" and {"wx:carol", "wx:bob"} <= set(ranked)
    assert HOSTILE not in text and "&lt;script&gt;" in text  # the key, escaped
    assert 'id="history-end"' not in text  # the history ended 14 days ago
    # Seeds, two weeks into October: active from the start, and in most weeks since.
    seeds = _seeds(leaders_ready(client, "at=2026-10-14&lang=en"))
    assert {"wx:alice", "wx:bob", "wx:carol"} <= set(seeds)
    # One community: its interactions alone.
    tea = leaders_ready(client, "community=tea&lang=en")
    assert set(_leaders(tea)) == {"wx:carol", "wx:dave"}
    assert "wx:alice" not in _seeds(leaders_ready(client, "community=tea&at=2026-10-14"))
    # The Members page leads here.
    assert 'href="/members/leaders"' in members_ready(client, "lang=en")


def test_a_scoped_user_sees_only_their_communities(ws: Workspace) -> None:
    client = sign_in(create_app(ws, FrozenClock(NOW)), "scoped")
    text = leaders_ready(client, "lang=en")
    assert set(_leaders(text)) == {"wx:carol", "wx:dave"}  # not who leads book-club
    assert client.get("/members/leaders?community=book-club").status_code == 403
    viewer = sign_in(create_app(ws, FrozenClock(NOW)), "viewer")
    assert viewer.get("/members/leaders").status_code == 403


def test_as_of_a_day_and_a_history_that_ended_long_ago(ws: Workspace) -> None:
    # Before any answer: nobody leads yet, and the page says so.
    client = sign_in(create_app(ws, FrozenClock(NOW)), "analyst")
    early = leaders_ready(client, "at=2026-10-02&lang=en")
    assert _leaders(early) == [] and "No reply, reaction or mention" in early
    assert client.get("/members/leaders?at=2026-13-01").status_code == 400
    # Two years on, the window holds none of the history: the page names its end and
    # links to the day after it, which ranks as on 3 November.
    later = sign_in(create_app(ws, FrozenClock(NOW + timedelta(days=730))), "analyst")
    text = leaders_ready(later, "lang=en")
    assert _leaders(text) == []
    note = text[text.index('id="history-end"') :].split("</p>")[0]
    assert "last event is of 2026-10-13" in note
    assert 'href="/members/leaders?at=2026-10-14"' in note
    assert _leaders(leaders_ready(later, "at=2026-10-14"))[0] == "wx:alice"


def test_leaders_page_fits_a_phone_in_chinese(ws: Workspace) -> None:
    client = sign_in(create_app(ws, FrozenClock(NOW)), "analyst")
    text = leaders_ready(client, "lang=zh_CN")
    assert "意见领袖与种子用户" in text and "种子用户" in text
    assert text.count('<div class="table-wrap">') == 2  # each table scrolls on a phone


def test_the_ranking_is_computed_in_the_background_and_kept(ws: Workspace) -> None:
    import fcntl

    from shequn.analytics.sync import COPY_NAME, copy_path
    from tests.web.conftest import poll_until_reload

    clock = FrozenClock(NOW)
    client = sign_in(create_app(ws, clock), "analyst")
    # A day no other test asks about: nothing kept for it yet, so no table in the request.
    first = client.get("/members/leaders?at=2026-10-20&lang=en").text
    assert 'id="leaders-job"' in first and 'class="data leaders"' not in first
    assert "replies, reactions and mentions between them" in first
    poll_until_reload(client, first, "/members/leaders/job/")
    assert _leaders(leaders_ready(client, "at=2026-10-20"))[0] == "wx:alice"
    # Past the 15 minutes it is kept, the last ranking is served while it is refreshed
    # (holding the copy's lock keeps the refresh from finishing meanwhile).
    clock.at = NOW + timedelta(minutes=16)
    with copy_path(ws).with_name(COPY_NAME + ".lock").open("a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        try:
            stale = client.get("/members/leaders?at=2026-10-20&lang=en").text
        finally:
            fcntl.flock(held.fileno(), fcntl.LOCK_UN)
    assert 'id="leaders-refreshing"' in stale and _leaders(stale)[0] == "wx:alice"
    assert _leaders(leaders_ready(client, "at=2026-10-20"))[0] == "wx:alice"
    gone = client.get("/members/leaders/job/gone", headers={"HX-Request": "true"})
    assert (gone.headers.get("HX-Refresh"), gone.text) == ("true", "")
