"""The Members pages: filters in the URL, downloads, a member's page, bulk tag, merge."""

from __future__ import annotations

import csv
import io
import json
import re
import time

import pytest

from tests.web.conftest import HOSTILE, TEMPLATE_INJECTION, csrf_of, members_ready, sign_in

HOSTILE_KEY = f"wx:{HOSTILE}"


def keys(client, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    answer = client.get(f"/members.json?{query}")
    assert answer.status_code == 200, answer.text
    return [row["key"] for row in answer.json()]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [HOSTILE_KEY, "wx:bob", "wx:alice"]),  # newest join first
        ("channel=公众号", [HOSTILE_KEY, "wx:alice"]),
        ("bought=no", [HOSTILE_KEY]),
        ("bought=yes", ["wx:bob", "wx:alice"]),
        ("joined_from=2026-10-02", [HOSTILE_KEY, "wx:bob"]),
        ("joined_to=2026-10-02", ["wx:alice"]),
        ("q=ALI", ["wx:alice"]),
        ("activity=silent", []),
        ("activity=active&channel=朋友圈", ["wx:bob"]),
        ("community=nowhere", []),
    ],
)
def test_filters(clients, query, expected) -> None:  # type: ignore[no-untyped-def]
    assert keys(clients["analyst"], query) == expected


def test_csv_download_has_the_filtered_rows(clients) -> None:  # type: ignore[no-untyped-def]
    answer = clients["owner"].get("/members.csv?bought=yes")
    assert answer.headers["content-disposition"] == 'attachment; filename="members.csv"'
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [(r["key"], r["orders"], r["spent"]) for r in rows] == [
        ("wx:bob", "1", "20.0"),
        ("wx:alice", "1", "99.5"),
    ]


def test_xlsx_download_opens(clients) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    answer = clients["analyst"].get("/members.xlsx?channel=朋友圈")
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert [c.value for c in sheet[2]][:2] == ["book-club", "wx:bob"]


def test_operator_may_not_export(clients) -> None:  # type: ignore[no-untyped-def]
    assert clients["operator"].get("/members.csv").status_code == 403
    assert clients["viewer"].get("/members").status_code == 403


def test_hostile_text_is_escaped_everywhere(clients) -> None:  # type: ignore[no-untyped-def]
    client = clients["owner"]
    listing = members_ready(client)
    assert HOSTILE not in listing
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing
    page = client.get("/member/wx:<script>alert(1)</script>").text
    assert HOSTILE not in page and "&lt;script&gt;" in page
    bob = client.get("/member/wx:bob").text
    # `{{7*7}}` shown as written, never rendered (the page's random CSRF tokens aside).
    shown = re.sub(r"[A-Za-z0-9_-]{32,}", "", bob.split("Timeline")[-1])
    assert TEMPLATE_INJECTION in bob and "49" not in shown
    data = json_ready(client, "/members.json").text
    assert "<script>" not in data and json.loads(data)[0]["key"] == HOSTILE_KEY


def test_member_page_shows_orders_and_timeline(clients) -> None:  # type: ignore[no-untyped-def]
    page = clients["operator"].get("/member/wx:alice").text
    assert "o1" in page and "99.5" in page
    assert page.count("<td>message</td>") == 2 and "<td>join</td>" in page


def test_unknown_member_is_a_clear_error(clients) -> None:  # type: ignore[no-untyped-def]
    answer = clients["owner"].get("/member/wx:nobody")
    assert answer.status_code == 400 and "unknown member" in answer.text


def test_bulk_tag_then_filter_by_tag(clients) -> None:  # type: ignore[no-untyped-def]
    client = clients["operator"]
    token = csrf_of(client, "/members")
    answer = client.post(
        "/members/tag",
        data={
            "csrf": token,
            "tag": "高意向",
            "community": "book-club",
            "keys": ["wx:alice", "wx:bob"],
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert keys(clients["owner"], "tag=高意向") == ["wx:bob", "wx:alice"]
    assert "高意向" in client.get("/member/wx:alice").text
    client.post(
        "/members/tag",
        data={
            "csrf": token,
            "tag": "高意向",
            "community": "book-club",
            "keys": ["wx:bob"],
            "remove": "1",
        },
    )
    assert keys(clients["owner"], "tag=高意向") == ["wx:alice"]
    audit = clients["owner"].get("/settings/audit").text
    assert "members.tag" in audit and "operator" in audit


def test_merge_two_identities(fresh) -> None:  # type: ignore[no-untyped-def]
    client = sign_in(fresh[1], "operator")
    token = csrf_of(client, "/members")
    answer = client.post(
        "/members/merge",
        data={"csrf": token, "target": "wx:alice", "other": "wx:bob"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    page = client.get("/member/wx:alice").text
    assert "o1" in page and "o2" in page  # both accounts' orders on one page


def json_ready(client, path: str):  # type: ignore[no-untyped-def]
    """The answer to `path` once the profiles behind it are computed: an export answers
    503 with Retry-After while they are being computed in the background."""
    deadline = time.monotonic() + 60
    while (answer := client.get(path)).status_code == 503:
        assert answer.headers["Retry-After"], answer.text
        assert time.monotonic() < deadline, "the profiles were not computed in a minute"
        time.sleep(0.05)
    return answer


def decided(client, query: str) -> list[tuple[str, str | None, str | None]]:  # type: ignore[no-untyped-def]
    answer = json_ready(client, f"/members.json?{query}")
    assert answer.status_code == 200, answer.text
    return [(row["key"], row["state"], row["tier"]) for row in answer.json()]


def test_lifecycle_state_and_churn_risk_filters(clients) -> None:  # type: ignore[no-untyped-def]
    # Now is 3 Nov 12:00 (+08:00). bob left on 20 Oct: churned, so no churn risk. alice
    # last spoke on 6 Oct (28 days idle: silent, 14 ≤ idle < 30); the hostile member on
    # 4 Oct (30 days: at_risk). No tiers are declared.
    client = clients["owner"]
    assert decided(client, "") == [
        (HOSTILE_KEY, "at_risk", None),
        ("wx:bob", "churned", None),
        ("wx:alice", "silent", None),
    ]
    assert decided(client, "state=silent") == [("wx:alice", "silent", None)]
    assert decided(client, "state=churned&bought=yes") == [("wx:bob", "churned", None)]
    assert [k for k, _s, _t in decided(client, "risk=0")] == [HOSTILE_KEY, "wx:alice"]
    risks = {r["key"]: r["churn_risk"] for r in json_ready(client, "/members.json").json()}
    assert risks["wx:bob"] is None and 0 <= risks["wx:alice"] <= 1
    above = [k for k, r in risks.items() if r is not None and r >= 0.5]
    assert sorted(k for k, _s, _t in decided(client, "risk=0.5")) == sorted(above)
    assert decided(client, "tier=gold") == []
    page = members_ready(client, "state=at_risk&lang=en")  # the list, not a progress page
    assert "<th>Lifecycle state</th>" in page and '<option value="at_risk" selected>' in page
    assert client.get("/members?state=sleepy").status_code == 400
    assert "a number 0 to 1" in client.get("/members?risk=2").text


def test_member_page_shows_state_and_risk(clients) -> None:  # type: ignore[no-untyped-def]
    page = clients["analyst"].get("/member/wx:alice?lang=en").text
    standing = page[page.index('id="member-standing"') :].split("</p>")[0]
    assert "silent" in standing and "Churn risk" in standing
    bob = clients["analyst"].get("/member/wx:bob?lang=en").text
    assert "churned" in bob[bob.index('id="member-standing"') :].split("</p>")[0]


def test_tier_filter_and_column(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from shequn.clock import FrozenClock
    from shequn.web import create_app
    from shequn.workspace import Workspace
    from tests.web.conftest import NOW, make_workspace

    make_workspace(tmp_path / "ws", "analyst").close()
    with (tmp_path / "ws" / "shequn.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[[tiers]]\nname = "buyer"\nmin_orders = 1\n')
    ws = Workspace.open(tmp_path / "ws")
    try:
        client = sign_in(create_app(ws, FrozenClock(NOW)), "analyst")
        members_ready(client)
        # alice and bob ordered once each; the hostile member never did.
        assert decided(client, "tier=buyer") == [
            ("wx:bob", "churned", "buyer"),
            ("wx:alice", "silent", "buyer"),
        ]
        page = client.get("/members?lang=en").text
        assert '<option value="buyer">buyer</option>' in page
        assert "buyer" in client.get("/member/wx:alice").text
    finally:
        ws.close()


def test_an_answer_is_kept_until_stale_then_served_while_recomputed(console_ws) -> None:  # type: ignore[no-untyped-def]
    import time
    from datetime import timedelta

    from shequn.web.background import Refreshing
    from tests.web.conftest import NOW

    kept: Refreshing[int] = Refreshing("test", timedelta(minutes=15))
    calls: list[object] = []

    def compute(at: object) -> int:
        calls.append(at)
        return len(calls)

    def ask(minutes: int, version: int):  # type: ignore[no-untyped-def]
        return kept.get(console_ws, "u", NOW + timedelta(minutes=minutes), version, compute)

    def settle(found) -> None:  # type: ignore[no-untyped-def]
        while not found.job.finished:
            time.sleep(0.01)

    first = ask(0, 1)
    assert first.kept is None and first.running
    settle(first)
    assert (ask(14, 1).kept.value, ask(14, 1).running) == (1, False)
    stale = ask(15, 1)  # 15 minutes old: served, and recomputed as of now
    assert (stale.kept.value, stale.running) == (1, True)
    settle(stale)
    assert ask(15, 1).kept.value == 2 and ask(15, 1).kept.at == NOW + timedelta(minutes=15)
    changed = ask(15, 2)  # another version of what it depends on
    assert (changed.kept.value, changed.running) == (2, True)
    settle(changed)
    assert ask(15, 2).kept.value == 3
    assert calls == [NOW, NOW + timedelta(minutes=15), NOW + timedelta(minutes=15)]
