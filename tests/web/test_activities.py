"""The activity pages: the list, one activity with its results, and editing its YAML."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from shequn.clock import FrozenClock
from shequn.services.imports import import_path
from shequn.services.users import add_user
from shequn.store.schema import audit
from shequn.workspace import Workspace
from tests.web.conftest import HOSTILE, NOW, PASSWORD, TALK, add_activity, csrf_of, sign_in

ESCAPED = "读书分享 &lt;script&gt;alert(1)&lt;/script&gt;"
UPCOMING = TALK.replace("name: talk", "name: meetup").replace("2026-10-10", "2026-11-20")
OTHER = TALK.replace("name: talk", "name: elsewhere").replace(
    "community: book-club", "community: my-community"
)


def test_list_upcoming_first_and_hostile_text_escaped(clients) -> None:  # type: ignore[no-untyped-def]
    page = clients["analyst"].get("/activities?lang=en").text
    assert ESCAPED in page and HOSTILE not in page
    past = page.index("<h2>Past</h2>")
    # The ended talk is in the past part, with its results link, 0 sign-ups of 30.
    assert page.index('href="/activities/talk#results"') > past
    assert "2026-10-10 Sat" in page and "20:00–21:00" in page
    assert '<td class="num">0 / 30</td>' in page


def test_list_downloads(clients) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(clients["operator"].get("/activities.json").text)
    assert [(r["name"], r["status"], r["signups"], r["owner"]) for r in rows] == [
        ("talk", "ended", 0, "lin")
    ]
    assert rows[0]["title"] == f"读书分享 {HOSTILE}"  # JSON keeps the text (escaped as \u003c)
    table = list(csv.DictReader(io.StringIO(clients["operator"].get("/activities.csv").text)))
    assert table[0]["start"] == "2026-10-10 20:00:00+08:00"
    assert clients["scoped"].get("/activities.json").json() == []  # talk is in book-club


def test_scoped_user_sees_only_their_activities(clients) -> None:  # type: ignore[no-untyped-def]
    scoped = clients["scoped"]
    assert "talk" not in scoped.get("/activities").text
    assert scoped.get("/activities/talk").status_code == 403
    assert scoped.get("/activities/talk/edit").status_code == 403


def _events(ws: Workspace, tmp_path: Path) -> None:
    """alice and bob sign up for talk, alice attends and scores it 8."""
    rows = [
        ("2026-10-08T10:00:00+08:00", "wx:alice", "activity_signup", {}),
        ("2026-10-08T11:00:00+08:00", "wx:bob", "activity_signup", {}),
        ("2026-10-10T20:05:00+08:00", "wx:alice", "activity_attend", {}),
        ("2026-10-10T22:00:00+08:00", "wx:alice", "feedback", {"amount": "8", "text": "不错"}),
    ]
    path = tmp_path / "talk.jsonl"
    lines = [
        json.dumps(
            {"ts": ts, "community": "book-club", "type": kind, "member": member,
             "content_id": "talk", "source_id": f"t{i}", **extra},
            ensure_ascii=False,
        )
        for i, (ts, member, kind, extra) in enumerate(rows)
    ]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_path(ws, path, clock=FrozenClock(NOW))


def test_show_plan_and_results(fresh, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws, app = fresh
    add_activity(ws, "talk", TALK)
    _events(ws, tmp_path)
    page = sign_in(app, "viewer").get("/activities/talk")
    assert page.status_code == 403  # the viewer sees dashboards only
    page = sign_in(app, "analyst").get("/activities/talk?lang=en").text
    assert ESCAPED in page and HOSTILE not in page
    assert "2026-10-10 20:00 – 2026-10-10 21:00" in page
    assert "signups ≥ 30" in page
    assert '<td>场地</td><td class="num">200</td><td class="num">150</td>' in page
    # The plan: T-3d announcement, T-1d and T-1h reminders, feedback 1h after the end,
    # follow-up 1d after the end (docs/activities.md defaults).
    plan = [
        "2026-10-07 20:00</td><td>announce",
        "2026-10-09 20:00</td><td>remind-1",
        "2026-10-10 19:00</td><td>remind-2",
        "2026-10-10 22:00</td><td>feedback",
        "2026-10-11 21:00</td><td>follow-up",
    ]
    found = [page.index(p) for p in plan]
    assert found == sorted(found)
    # 2 signed up, 1 came (50%), 1 no-show; one score 8 (a passive: NPS 0); 150 / 1 attendee.
    assert "<dd>signups 2 / 30 (not met)</dd>" in page
    assert "<dd>1 (50.0%); no-shows 1</dd>" in page
    assert "<dd>1 · average 8 · NPS 0</dd>" in page
    assert "<dt>Cost per attendee</dt><dd>150</dd>" in page


def _post(client, url: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf": csrf_of(client, "/activities"), **data})


def _audit(ws: Workspace) -> list[tuple[str, str, dict]]:
    with ws.engine.connect() as conn:
        rows = conn.execute(select(audit.c.actor, audit.c.action, audit.c.detail)).all()
    return [(a, b, json.loads(c)) for a, b, c in rows if b.startswith("activity.")]


def test_invalid_edit_shows_the_line_and_leaves_the_file(fresh) -> None:  # type: ignore[no-untyped-def]
    ws, app = fresh
    path = add_activity(ws, "talk", TALK)
    operator = sign_in(app, "operator")
    form = operator.get("/activities/talk/edit")
    assert "读书分享 &lt;script&gt;" in form.text and HOSTILE not in form.text
    broken = TALK.replace("kind: sharing", "kind: party")
    answer = _post(operator, "/activities/talk/edit", source=broken)
    assert answer.status_code == 400
    # The same text as the loader's: file, line 4, field, and the fix.
    assert "activities/talk.yaml:4 (field &#39;kind&#39;)" in answer.text
    assert "修改建议: use &#39;sharing&#39;" in answer.text  # the hint, under its zh_CN label
    assert path.read_text(encoding="utf-8") == TALK
    unclosed = _post(operator, "/activities/talk/edit", source=TALK + "extra: [1, 2\n")
    assert unclosed.status_code == 400 and "activities/talk.yaml:" in unclosed.text
    assert path.read_text(encoding="utf-8") == TALK and _audit(ws) == []


def test_valid_edit_is_written_and_audited(fresh) -> None:  # type: ignore[no-untyped-def]
    ws, app = fresh
    path = add_activity(ws, "talk", TALK)
    operator = sign_in(app, "operator")
    edited = TALK.replace("target: 30", "target: 40")
    answer = _post(operator, "/activities/talk/edit", source=edited)
    assert answer.status_code == 200 and "signups ≥ 40" in answer.text  # redirected to the page
    assert path.read_text(encoding="utf-8") == edited
    assert not list(path.parent.glob(".*"))  # no temporary file left
    assert _audit(ws) == [
        (
            "operator",
            "activity.edit",
            {"activity": "talk", "community": "book-club", "file": "activities/talk.yaml"},
        )
    ]


def test_new_activity_file(fresh) -> None:  # type: ignore[no-untyped-def]
    ws, app = fresh
    add_activity(ws, "talk", TALK)
    owner = sign_in(app, "owner")
    for bad in ("../evil", "a/b", "talk", "Up"):
        answer = _post(owner, "/activities/new", file=bad, source=UPCOMING)
        assert answer.status_code == 400, bad
    assert sorted(p.name for p in (ws.root / "activities").iterdir()) == ["talk.yaml"]
    same_name = _post(owner, "/activities/new", file="other", source=TALK)
    assert same_name.status_code == 400 and "also used by activities/talk.yaml" in same_name.text
    created = _post(owner, "/activities/new", file="meetup", source=UPCOMING)
    assert created.status_code == 200
    assert (ws.root / "activities" / "meetup.yaml").read_text(encoding="utf-8") == UPCOMING
    assert [a[1] for a in _audit(ws)] == ["activity.create"]
    listing = owner.get("/activities?lang=en").text
    assert listing.index("/activities/meetup") < listing.index("<h2>Past</h2>")


def test_csrf_and_roles_guard_the_edit(fresh) -> None:  # type: ignore[no-untyped-def]
    ws, app = fresh
    path = add_activity(ws, "talk", TALK)
    operator = sign_in(app, "operator")
    forged = operator.post("/activities/talk/edit", data={"csrf": "x", "source": "name: x"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    missing = operator.post("/activities/talk/edit", data={"source": "name: x"})
    assert missing.status_code == 403
    for role in ("viewer", "analyst"):
        client = sign_in(app, role)
        assert client.get("/activities/talk/edit").status_code == 403
        token = csrf_of(client, "/")
        refused = client.post("/activities/talk/edit", data={"csrf": token, "source": OTHER})
        assert refused.status_code == 403, role
    assert path.read_text(encoding="utf-8") == TALK


@pytest.fixture
def scoped(fresh):  # type: ignore[no-untyped-def]
    ws, app = fresh
    add_user(ws, "scoped", PASSWORD, "operator", ("my-community",), clock=FrozenClock(NOW))
    return ws, sign_in(app, "scoped")


def test_scoped_operator_cannot_edit_or_move_into_another_community(scoped) -> None:  # type: ignore[no-untyped-def]
    ws, client = scoped
    talk = add_activity(ws, "talk", TALK)
    mine = add_activity(ws, "elsewhere", OTHER)
    token = csrf_of(client, "/activities")
    refused = client.post("/activities/talk/edit", data={"csrf": token, "source": TALK})
    assert refused.status_code == 403
    moved = OTHER.replace("community: my-community", "community: book-club")
    answer = client.post("/activities/elsewhere/edit", data={"csrf": token, "source": moved})
    assert answer.status_code == 400 and "outside the communities you may operate" in answer.text
    created = client.post(
        "/activities/new", data={"csrf": token, "file": "sneaky", "source": UPCOMING}
    )
    assert created.status_code == 400
    assert talk.read_text(encoding="utf-8") == TALK and mine.read_text(encoding="utf-8") == OTHER
    assert not (ws.root / "activities" / "sneaky.yaml").exists() and _audit(ws) == []
    ok = client.post("/activities/elsewhere/edit", data={"csrf": token, "source": OTHER + "\n"})
    assert ok.status_code == 200 and [a[1] for a in _audit(ws)] == ["activity.edit"]
