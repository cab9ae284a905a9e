"""A small console workspace: hand-written events (some hostile), one user per role."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shequn.clock import FrozenClock
from shequn.services.imports import import_path
from shequn.services.users import ROLES, add_user
from shequn.services.workspace import init_workspace
from shequn.web import create_app
from shequn.workspace import Workspace

PASSWORD = "correct horse battery"
HOSTILE = "<script>alert(1)</script>"
TEMPLATE_INJECTION = "{{7*7}}"
NOW = datetime(2026, 11, 3, 4, 0, tzinfo=UTC)
# An ended activity of book-club with a hostile title (tests/web/test_activities.py).
TALK = f"""name: talk
title: "读书分享 {HOSTILE}"
community: book-club
kind: sharing
start: 2026-10-10T20:00:00
end: 2026-10-10T21:00:00
owner: lin
goal: {{metric: signups, target: 30}}
budget:
  - {{item: 场地, planned: 200, actual: 150}}
"""


def add_activity(ws: Workspace, name: str, text: str) -> Path:
    """Write `activities/<name>.yaml`."""
    path = ws.root / "activities" / f"{name}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _events() -> list[dict]:
    """October 2026 in book-club: 3 joins (2 by visit), 1 leave, 4 messages, 2 orders."""
    rows = [
        ("2026-10-01T09:00:00+08:00", "visit", None, {"channel": "公众号", "visitor": "v1"}),
        ("2026-10-01T09:05:00+08:00", "join", "wx:alice", {"channel": "公众号", "visitor": "v1"}),
        ("2026-10-02T10:00:00+08:00", "join", "wx:bob", {"channel": "朋友圈"}),
        ("2026-10-03T11:00:00+08:00", "join", f"wx:{HOSTILE}", {"channel": "公众号"}),
        ("2026-10-03T12:00:00+08:00", "message", "wx:alice", {"text": "hello"}),
        ("2026-10-04T12:00:00+08:00", "message", f"wx:{HOSTILE}", {"text": HOSTILE}),
        ("2026-10-05T12:00:00+08:00", "message", "wx:bob", {"text": TEMPLATE_INJECTION}),
        ("2026-10-06T12:00:00+08:00", "message", "wx:alice", {"text": "again"}),
        ("2026-10-07T12:00:00+08:00", "order", "wx:alice", {"order_id": "o1", "amount": "99.5"}),
        ("2026-10-09T12:00:00+08:00", "order", "wx:bob", {"order_id": "o2", "amount": "20"}),
        ("2026-10-20T12:00:00+08:00", "leave", "wx:bob", {}),
    ]
    out = []
    for i, (ts, kind, member, extra) in enumerate(rows):
        row = {"ts": ts, "community": "book-club", "type": kind, "source_id": f"e{i}", **extra}
        if member:
            row["member"] = member
        out.append(row)
    return out


def make_workspace(root: Path, *users: str) -> Workspace:
    """A workspace holding `_events()`, with one user per name (the name is the role)."""
    ws = init_workspace(root, name="console-test")
    export = root.parent / "events.jsonl"
    export.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in _events()) + "\n")
    clock = FrozenClock(NOW)
    import_path(ws, export, clock=clock)
    for role in users:
        add_user(ws, role, PASSWORD, role, clock=clock)
    return ws


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[tuple[Workspace, object]]:
    """A workspace of its own (for tests that change it) and its app."""
    ws = make_workspace(tmp_path / "ws", *ROLES)
    try:
        yield ws, create_app(ws, FrozenClock(NOW))
    finally:
        ws.close()


@pytest.fixture(scope="session")
def console_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = make_workspace(tmp_path_factory.mktemp("console") / "ws", *ROLES)
    add_user(ws, "scoped", PASSWORD, "operator", ("my-community",), clock=FrozenClock(NOW))
    add_activity(ws, "talk", TALK)
    try:
        yield ws
    finally:
        ws.close()


@pytest.fixture(scope="session")
def app(console_ws: Workspace):  # type: ignore[no-untyped-def]
    return create_app(console_ws, FrozenClock(NOW))


def sign_in(app, name: str, password: str = PASSWORD) -> TestClient:  # type: ignore[no-untyped-def]
    client = TestClient(app, client=(f"127.0.0.{len(name) + 2}", 5000))
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token, form.text
    response = client.post(
        "/login",
        data={"name": name, "password": password, "csrf": token.group(1), "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def csrf_of(client: TestClient, path: str = "/") -> str:
    page = client.get(path)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


@pytest.fixture(scope="session")
def clients(app) -> dict[str, TestClient]:  # type: ignore[no-untyped-def]
    signed = {role: sign_in(app, role) for role in (*ROLES, "scoped")}
    members_ready(signed["owner"])
    return signed


def poll_until_reload(client: TestClient, page: str, progress: str) -> None:
    """Poll the progress part of a background job whose hx-get path starts with
    `progress` (found in `page`), as HTMX does, until it asks for a reload."""
    found = re.search(f'hx-get="({re.escape(progress)}[^"]+)"', page)
    assert found is not None, page[:2000]
    deadline = time.monotonic() + 60
    while True:
        polled = client.get(found.group(1), headers={"HX-Request": "true"})
        assert polled.status_code == 200
        if polled.headers.get("HX-Refresh") == "true":
            return
        assert "<progress" in polled.text and 'role="alert"' not in polled.text, polled.text
        assert time.monotonic() < deadline, f"{found.group(1)} did not finish in a minute"
        time.sleep(0.05)


def leaders_ready(client: TestClient, query: str = "") -> str:
    """The Leaders page once its ranking is computed and none is being refreshed (in
    the background, one at a time: a page may first show another scope's or day's
    computation, then its own)."""
    deadline = time.monotonic() + 60
    while True:
        answer = client.get(f"/members/leaders?{query}")
        assert answer.status_code == 200, answer.text[:2000]
        if 'id="leaders-job"' in answer.text:
            poll_until_reload(client, answer.text, "/members/leaders/job/")
        elif 'id="leaders-refreshing"' not in answer.text:
            return answer.text
        else:
            time.sleep(0.05)
        assert time.monotonic() < deadline, "the leaders were not ranked in a minute"


def members_ready(client: TestClient, query: str = "") -> str:
    """The Members page once the profiles behind it are computed and none is being
    refreshed (they are computed in the background: web/background.py). Meanwhile it
    may also be the copy's progress page: a refresh that records changes adds events,
    and while it holds the copy the page cannot tell how far behind it is
    (web/building.py)."""
    deadline = time.monotonic() + 60
    while True:
        text = client.get(f"/members?{query}").text
        if 'data-refreshing="no"' in text:
            assert 'class="error"' not in text, text[text.index('id="decided-age"') :][:1000]
            return text
        waiting = ('id="profiles"', 'data-refreshing="yes"', 'id="building"')
        assert any(w in text for w in waiting), text[:2000]
        assert 'role="alert"' not in text, text[:2000]
        assert time.monotonic() < deadline, "the profiles were not computed in a minute"
        time.sleep(0.05)


DATA_DIR = Path(__file__).parent
