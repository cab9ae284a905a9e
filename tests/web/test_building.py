"""A dashboard over a copy far behind the log shows the build's progress, then itself."""

from __future__ import annotations

import importlib
import re

from shequn.analytics.sync import behind, copy_path
from tests.web.conftest import members_ready, poll_until_reload, sign_in

sync_module = importlib.import_module("shequn.analytics.sync")
OCTOBER = "?community=book-club&from=2026-10-01&to=2026-11-01"


def test_a_copy_far_behind_is_built_in_the_background(fresh, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ws, app = fresh
    monkeypatch.setattr(sync_module, "LARGE_CATCH_UP", 5)  # the log's 11 events are "far behind"
    copy_path(ws).unlink(missing_ok=True)
    assert behind(ws) == 11
    client = sign_in(app, "viewer")
    first = client.get("/" + OCTOBER)
    assert first.status_code == 200
    assert 'data-metric="joins"' not in first.text  # no figures yet: the progress page
    poll_until_reload(client, first.text, "/dashboard/build/")
    assert behind(ws) == 0  # the background job built the copy
    board = client.get("/" + OCTOBER)
    # October: wx:alice, wx:bob and the hostile name joined
    joins = re.search(r'data-metric="joins">.*?class="value">([^<]*)<', board.text, re.S)
    assert joins is not None and joins.group(1).strip() == "3", board.text[:3000]


def test_a_copy_close_behind_is_brought_up_to_date_in_the_request(fresh) -> None:  # type: ignore[no-untyped-def]
    ws, app = fresh
    copy_path(ws).unlink(missing_ok=True)
    board = sign_in(app, "viewer").get("/" + OCTOBER)
    assert 'data-metric="joins"' in board.text and "/dashboard/build/" not in board.text
    assert behind(ws) == 0


def test_an_unknown_build_reloads_the_page(fresh) -> None:  # type: ignore[no-untyped-def]
    _ws, app = fresh
    answer = sign_in(app, "viewer").get("/dashboard/build/gone", headers={"HX-Request": "true"})
    assert (answer.status_code, answer.headers.get("HX-Refresh"), answer.text) == (200, "true", "")


def test_the_members_page_waits_for_the_copy_the_same_way(fresh, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ws, app = fresh
    monkeypatch.setattr(sync_module, "LARGE_CATCH_UP", 5)
    copy_path(ws).unlink(missing_ok=True)
    client = sign_in(app, "analyst")
    first = client.get("/members?lang=en")
    assert "<h1>Members</h1>" in first.text and "Updating the figures" in first.text
    poll_until_reload(client, first.text, "/dashboard/build/")
    assert behind(ws) == 0
    assert "<small>wx:alice</small>" in members_ready(client, "lang=en")


def test_a_copy_another_process_holds_is_waited_for(fresh) -> None:  # type: ignore[no-untyped-def]
    """While another process holds the copy (a `shequn members refresh`), the page cannot
    tell how far behind it is: it says it waits, then reloads once the copy is free."""
    ws, app = fresh
    lock = copy_path(ws).with_name(sync_module.COPY_NAME + ".lock")
    client = sign_in(app, "viewer")
    with sync_module._exclusive(lock):
        first = client.get("/?lang=en")
        assert "Waiting for another update of the figures to finish" in first.text
        assert 'data-count="total"' not in first.text  # no 0 / 0
    poll_until_reload(client, first.text, "/dashboard/build/")
    assert behind(ws) == 0
    board = client.get("/" + OCTOBER)
    assert 'data-metric="joins"' in board.text
