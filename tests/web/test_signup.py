"""Sign-up links: the operator makes a member's link, the member opens it and signs up
(CSRF double submit, escaping, a tampered or foreign link refused), on the real store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shequn.activities.listing import get
from shequn.clock import FrozenClock
from shequn.services import bot as bot_service
from shequn.services.signups import sign_up
from shequn.services.users import add_user
from shequn.store.engine import read_transaction
from shequn.store.schema import events
from shequn.web import create_app
from tests.web.conftest import HOSTILE, NOW, PASSWORD, make_workspace, sign_in

SECRET = "a-test-secret-of-some-length-0123456789"
ACTIVITY = """
name: {name}
title: "{title}"
community: book-club
kind: sharing
start: {start}
end: {end}
owner: lin
goal: {{metric: signups, target: 30}}
"""


@pytest.fixture
def console(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SHEQUN_LINK_SECRET", SECRET)
    ws = make_workspace(tmp_path / "ws", "operator")
    add_user(ws, "scoped", PASSWORD, "operator", ("my-community",), clock=FrozenClock(NOW))
    folder = ws.root / "activities"
    folder.mkdir()
    for name, title, start, end in (
        ("talk", f"读书分享 {HOSTILE}", "2026-11-10T20:00:00", "2026-11-10T21:00:00"),
        ("past", "十月分享", "2026-10-10T20:00:00", "2026-10-10T21:00:00"),
    ):
        body = ACTIVITY.format(name=name, title=title, start=start, end=end)
        (folder / f"{name}.yaml").write_text(body, encoding="utf-8")
    app = create_app(ws, FrozenClock(NOW))
    try:
        yield ws, app
    finally:
        ws.close()


def link_of(client: TestClient, activity: str, member: str) -> str:
    page = client.get("/activities/signups", params={"activity": activity, "member": member})
    assert page.status_code == 200, page.text[:300]
    found = re.search(
        r'<code class="signup-link">http://testserver(/signup/[^<]+)</code>', page.text
    )
    assert found, page.text
    return found.group(1)


def open_form(member_client: TestClient, path: str) -> str:
    page = member_client.get(path)
    assert page.status_code == 200, page.text[:300]
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def signups(ws) -> list[tuple]:  # type: ignore[no-untyped-def]
    query = select(events.c.member, events.c.content_id, events.c.source, events.c.meta).where(
        events.c.type == "activity_signup"
    )
    with read_transaction(ws.engine) as conn:
        return [tuple(r) for r in conn.execute(query)]


def test_a_member_signs_up_through_their_link_once(console) -> None:  # type: ignore[no-untyped-def]
    ws, app = console
    operator = sign_in(app, "operator")
    listing = operator.get("/activities/signups")
    assert "读书分享 &lt;script&gt;alert(1)&lt;/script&gt;" in listing.text
    assert HOSTILE not in listing.text
    path = link_of(operator, "talk", "wx:alice")
    member = TestClient(app)  # no console account
    page = member.get(path)
    assert "确认报名" in page.text and "wx:alice" in page.text and HOSTILE not in page.text
    assert signups(ws) == []  # opening the link (a chat preview) signs nobody up
    token = open_form(member, path)
    done = member.post(path, data={"csrf": token})
    assert done.status_code == 200 and "报名成功" in done.text
    assert signups(ws) == [("wx:alice", "talk", "bot", '{"activity": "talk", "via": "link"}')]
    again = member.get(path)
    assert "您已经报过名了" in again.text and 'name="csrf"' not in again.text
    talk = get(ws, "talk")
    assert sign_up(ws, talk, "wx:alice", FrozenClock(NOW)) == "already"
    assert len(signups(ws)) == 1
    # The bot, replaying its events at start, knows she signed up.
    assert bot_service.load_state(ws, FrozenClock(NOW)).signups == {("talk", "wx:alice")}
    assert "1 / 30" in operator.get("/activities/signups").text


def test_forged_tampered_closed_and_foreign(console) -> None:  # type: ignore[no-untyped-def]
    ws, app = console
    operator = sign_in(app, "operator")
    path = link_of(operator, "talk", "wx:alice")
    member = TestClient(app)
    open_form(member, path)
    forged = member.post(path, data={"csrf": "forged"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    # Bob's id with Alice's signature, or Alice's link for another activity: refused.
    bob = "/signup/talk/d3g6Ym9i." + path.rsplit(".", 1)[1]
    assert member.get(bob).status_code == 404
    assert "not valid" in member.get(path.replace("/talk/", "/past/")).text
    past = link_of(operator, "past", "wx:alice")
    assert "活动已结束" in member.get(past).text
    # A form kept open from before its end: posted after, nothing is recorded.
    closed = member.post(past, data={"csrf": open_form(member, path)})
    assert "活动已结束" in closed.text and signups(ws) == []
    hostile = link_of(operator, "talk", f"wx:{HOSTILE}")
    assert HOSTILE not in member.get(hostile).text
    assert (
        "is not a member key"
        in operator.get("/activities/signups", params={"activity": "talk", "member": "alice"}).text
    )
    # An operator of another community sees none of these and makes no link for them.
    scoped = sign_in(app, "scoped")
    assert "talk" not in scoped.get("/activities/signups").text
    refused = scoped.get("/activities/signups", params={"activity": "talk", "member": "wx:a"})
    assert refused.status_code == 403


def test_without_the_secret_no_link_is_made_or_accepted(
    console, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    _ws, app = console
    operator = sign_in(app, "operator")
    path = link_of(operator, "talk", "wx:alice")
    monkeypatch.delenv("SHEQUN_LINK_SECRET")
    page = operator.get("/activities/signups", params={"activity": "talk", "member": "wx:a"})
    assert "$SHEQUN_LINK_SECRET is not set" in page.text
    assert TestClient(app).get(path).status_code == 404
