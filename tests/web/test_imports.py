"""Imports through the console: upload, poll the job, the counts or the error with line."""

from __future__ import annotations

import re
import time

from tests.web.conftest import csrf_of, sign_in

CSV = (
    "ts,community,member,type,channel,inviter,visitor,message_id,reply_to,content_id,"
    "order_id,amount,text,source_id\n"
    "2026-10-10T09:00:00+08:00,upload-club,wx:dora,join,,,,,,,,,,u1\n"
    "2026-10-10T10:00:00+08:00,upload-club,wx:dora,message,,,,,,,,,hi,u2\n"
)


def _run(client, name: str, body: str) -> str:  # type: ignore[no-untyped-def]
    token = csrf_of(client, "/imports")
    answer = client.post(
        "/imports",
        data={"csrf": token, "format": "auto"},
        files={"file": (name, body.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    job = answer.headers["location"]
    for _ in range(200):
        partial = client.get(job, headers={"HX-Request": "true"}).text
        if "hx-trigger" not in partial:
            return partial
        time.sleep(0.1)
    raise AssertionError("the import did not finish")


def _count(page: str, name: str) -> int:
    found = re.search(rf'data-count="{name}">(\d+)<', page)
    assert found, page
    return int(found.group(1))


def test_upload_shows_the_counts_then_nothing_new(fresh) -> None:  # type: ignore[no-untyped-def]
    client = sign_in(fresh[1], "operator")
    first = _run(client, "events.csv", CSV)
    assert (_count(first, "read"), _count(first, "added"), _count(first, "skipped")) == (2, 2, 0)
    again = _run(client, "events.csv", CSV)
    assert (_count(again, "added"), _count(again, "skipped")) == (0, 2)


def test_a_bad_file_shows_the_line_and_the_fix(fresh) -> None:  # type: ignore[no-untyped-def]
    bad = CSV + "not-a-time,upload-club,wx:dora,message,,,,,,,,,hi,u3\n"
    page = _run(sign_in(fresh[1], "owner"), "events.csv", bad)
    assert 'role="alert"' in page and "events.csv:4" in page


def test_analyst_may_not_import(clients) -> None:  # type: ignore[no-untyped-def]
    assert clients["analyst"].get("/imports").status_code == 403
