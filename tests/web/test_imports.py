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


def _low_limit(tmp_path):  # type: ignore[no-untyped-def]
    """A workspace whose console accepts uploads up to 1 MB, and an operator signed in."""
    from shequn.clock import FrozenClock
    from shequn.web import create_app
    from shequn.workspace import Workspace
    from tests.web.conftest import NOW, make_workspace

    make_workspace(tmp_path / "ws", "operator").close()
    with (tmp_path / "ws" / "shequn.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n[console]\nupload_limit_mb = 1\n")
    ws = Workspace.open(tmp_path / "ws")
    return ws, sign_in(create_app(ws, FrozenClock(NOW)), "operator")


def _uploads(ws) -> list[str]:  # type: ignore[no-untyped-def]
    folder = ws.root / "data" / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_an_upload_over_the_limit_is_refused_with_the_cli_way(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ws, client = _low_limit(tmp_path)
    try:
        page = client.get("/imports?lang=en").text
        assert "Up to 1 MB" in page
        token = csrf_of(client, "/imports")
        big = CSV + "x" * (1 << 20)  # a little over 1 MB, declared in Content-Length
        answer = client.post(
            "/imports",
            data={"csrf": token},
            files={"file": ("big.csv", big.encode(), "text/csv")},
            follow_redirects=False,
        )
        assert answer.status_code == 413
        assert "upload limit of 1 MB" in answer.text and "shequn import PATH" in answer.text
        assert answer.headers["x-frame-options"] == "DENY"
        assert _uploads(ws) == []
        # Under the limit the same form imports as before.
        assert _count(_run(client, "events.csv", CSV), "added") == 2
    finally:
        ws.close()


def test_a_streamed_upload_is_cut_at_the_limit(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ws, client = _low_limit(tmp_path)
    try:
        token = csrf_of(client, "/imports")
        boundary = "limit-test-boundary"

        def body():  # type: ignore[no-untyped-def]
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{token}\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                'filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n'
            )
            yield head.encode()
            # 4 MB in 64 KB chunks: httpx sends a generator chunked, without Content-Length,
            # so only the count of the bytes read can stop it.
            for _ in range(64):
                yield b"y" * (64 << 10)
            yield f"\r\n--{boundary}--\r\n".encode()

        answer = client.post(
            "/imports",
            content=body(),
            headers={"content-type": f"multipart/form-data; boundary={boundary}"},
            follow_redirects=False,
        )
        assert answer.status_code == 413 and "upload limit of 1 MB" in answer.text
        assert _uploads(ws) == []
    finally:
        ws.close()
