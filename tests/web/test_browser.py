"""The console in a real browser: Debian's Chromium driven by Playwright.

`shequn serve` runs in a subprocess on a free loopback port. Screenshots of every page
at 1280 px and 390 px (a phone) go to the folder printed at the start (SHEQUN_SCREENSHOTS,
default build/screenshots). Without Chromium the tests skip, except under CI=true,
where they fail: CI installs it (`.ci/run`: apt-get install chromium).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from shequn.clock import FrozenClock
from shequn.platforms.console import ConsolePlatform
from shequn.services.imports import import_path
from shequn.services.sop import tick
from shequn.services.users import ROLES, add_user
from shequn.services.workspace import init_workspace
from shequn.sop.dispatch import Dispatcher
from shequn.workspace import Workspace
from tests.helpers.gaps import known_gap
from tests.helpers.ports import free_port
from tests.sop.helpers import add_events, at, write_playbook
from tests.web.conftest import HOSTILE, PASSWORD, _events

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("SHEQUN_SCREENSHOTS", ROOT / "build" / "screenshots"))
OCTOBER = "from=2026-10-01&to=2026-11-01"
CALL = """
    name: call-newcomer
    applies_to:
      communities: [book-club]
    trigger:
      type: member_joined
    steps:
      - id: call
        at: "+1h"
        action:
          type: create_task
          title: "call {{ member.key }}"
          text: "欢迎 {{ member.key }}，这是本周书单"
          checklist: [call, note]
          due: "+2h"
        owner: operator
        emergency: {do: "lead calls", alert: owner}
"""

BOOK_CLUB = """
[[communities]]
key = "book-club"
name = "读书会"

[[communities.long_term_goals]]
text = "十月入群 5 人"
metric = "joins"
target = 5
direction = "at_least"
"""
UPLOAD = (
    "ts,community,member,type,channel,inviter,visitor,message_id,reply_to,content_id,"
    "order_id,amount,text,source_id\n"
    "2026-10-10T09:00:00+08:00,upload-club,wx:dora,join,,,,,,,,,,u1\n"
    "2026-10-10T10:00:00+08:00,upload-club,wx:dora,message,,,,,,,,,hi,u2\n"
)

if not CHROMIUM.exists():
    known_gap("no /usr/bin/chromium here (apt-get install chromium)", module_level=True)


def _workspace(root: Path) -> Path:
    clock = FrozenClock(datetime(2026, 11, 1, 0, 0, tzinfo=UTC))
    ws = init_workspace(root, name="browser")
    settings = root / "shequn.toml"
    settings.write_text(settings.read_text() + BOOK_CLUB, encoding="utf-8")
    ws = Workspace.open(root)
    export = root.parent / "events.jsonl"
    export.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in _events()) + "\n")
    import_path(ws, export, clock=clock)
    write_playbook(ws, "call", CALL)
    tick(ws, clock)
    add_events(ws, [("2026-11-01T09:00:00+08:00", "book-club", "wx:carol", "join", "")], "new")
    tick(ws, at(clock, "2026-11-01T03:00:00+00:00"))
    console = ConsolePlatform(ws.root / "data" / "c.jsonl")
    Dispatcher(ws.engine, {"console": console}, clock, "a").drain_once()
    for role in ROLES:
        add_user(ws, role, PASSWORD, role, clock=clock)
    ws.close()
    return root


@contextmanager
def _serve(root: Path) -> Iterator[str]:
    """`shequn serve` on a free loopback port over the workspace at root."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "shequn", "serve", "--port", str(port), "-w", str(root)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(url + "/login", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError("shequn serve did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _serve(_workspace(tmp_path_factory.mktemp("browser") / "ws")) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {SHOTS}")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


def _page(browser, server: str, role: str, width: int = 1280):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + "/login")
    page.fill("input[name=name]", role)
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_load_state("networkidle")
    page.errors = errors  # type: ignore[attr-defined]
    return page


def _shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _wait(page, expression: str, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    """Poll a JS expression from outside (wait_for_function evals in the page: CSP says no)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({expression})"):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.1)


def _chart_points(page, chart: str) -> int:  # type: ignore[no-untyped-def]
    return page.evaluate(
        "id => echarts.getInstanceByDom(document.getElementById(id))"
        ".getOption().series[0].data.length",
        f"chart-{chart}",
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_dashboard_draws_its_charts(browser, server, width) -> None:  # type: ignore[no-untyped-def]
    page = _page(browser, server, "owner", width)
    page.goto(f"{server}/?community=book-club&{OCTOBER}")
    _wait(
        page,
        "typeof echarts !== 'undefined' && "
        "echarts.getInstanceByDom(document.getElementById('chart-active'))",
    )
    for chart in ("active", "growth", "messages", "sales"):
        assert _chart_points(page, chart) == 31  # the days of October
    page.wait_for_selector("#chart-funnel")  # the goals part, loaded by HTMX
    _wait(page, "echarts.getInstanceByDom(document.getElementById('chart-funnel'))", 60)
    assert page.locator("[data-metric=joins] .value").inner_text() == "3"
    assert page.errors == []  # no CSP violation, no script error
    _shoot(page, f"dashboard-{width}")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_its_menu_and_is_refused_elsewhere(browser, server, role) -> None:  # type: ignore[no-untyped-def]
    page = _page(browser, server, role)
    links = set(page.locator("header nav a").all_inner_texts())
    expected = {
        "owner": {
            "数据看板",
            "成员",
            "任务",
            "SOP",
            "复盘",
            "导入",
            "社群",
            "活动",
            "报名链接",
            "用户",
        },
        "operator": {"数据看板", "成员", "任务", "SOP", "社群", "活动", "报名链接", "复盘", "导入"},
        "analyst": {"数据看板", "成员", "任务", "SOP", "社群", "活动", "复盘"},
        "viewer": {"数据看板"},
    }[role]
    assert links == expected
    response = page.goto(f"{server}/settings/users")
    assert response.status == (200 if role == "owner" else 403)
    if role != "owner":
        assert "不允许" in page.content()
        _shoot(page, f"refused-{role}")


@pytest.mark.parametrize("width", [1280, 390])
def test_filter_members_and_open_one(browser, server, width) -> None:  # type: ignore[no-untyped-def]
    page = _page(browser, server, "operator", width)
    page.goto(f"{server}/members")
    page.select_option("select[name=bought]", "yes")
    page.click("#member-filters button")
    page.wait_for_url(re.compile(r"bought=yes"))
    rows = page.locator("table.members tbody tr")
    assert rows.count() == 2
    # The table scrolls sideways on a phone, the page does not; squeezed instead, a
    # heading stood one character per line (生命周期状态 six lines tall).
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    lines = page.evaluate(
        """() => [...document.querySelectorAll('table.members thead th')].map(th =>
            th.getBoundingClientRect().height / parseFloat(getComputedStyle(th).fontSize))"""
    )
    assert lines and max(lines) < 2.5, lines  # one line of text and the padding
    _shoot(page, f"members-{width}")
    page.click("text=wx:alice >> nth=0")
    page.wait_for_url(re.compile(r"/member/wx(:|%3A)alice"))
    assert "o1" in page.locator("body").inner_text()
    assert HOSTILE not in page.content()
    _shoot(page, f"member-{width}")


def test_mark_a_task_done(browser, server) -> None:  # type: ignore[no-untyped-def]
    page = _page(browser, server, "operator")
    page.goto(f"{server}/tasks?view=mine")
    cards = page.locator("section.task")
    assert cards.count() == 1
    assert "欢迎 wx:carol" in page.locator("pre.content").inner_text()
    _shoot(page, "tasks-1280")
    page.fill("section.task input[name=note]", "已电话联系")
    page.click("section.task button.primary")
    page.wait_for_url(re.compile(r"done="))
    assert page.locator("section.task").count() == 0
    assert page.locator(".notice").count() == 1


def test_pages_at_phone_width(browser, server) -> None:  # type: ignore[no-untyped-def]
    page = _page(browser, server, "owner", 390)
    for path, name in (
        ("/sop", "sop"),
        ("/reviews?community=book-club&period=2026-10", "review"),
        ("/settings/users", "users"),
        ("/members/leaders", "leaders"),
    ):
        page.goto(server + path)
        if name == "leaders":  # ranked in the background: HTMX reloads the page when done
            page.wait_for_selector("table.data.leaders", timeout=60_000)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390 + 1, (path, width)  # nothing wider than the phone
        _shoot(page, f"{name}-390")
        page.set_viewport_size({"width": 1280, "height": 900})
        _shoot(page, f"{name}-1280")
        page.set_viewport_size({"width": 390, "height": 900})


def test_upload_an_export_and_see_the_counts(browser, server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    export = tmp_path / "events.csv"
    export.write_text(UPLOAD, encoding="utf-8")
    page = _page(browser, server, "operator")
    page.goto(f"{server}/imports")
    page.set_input_files("input[type=file]", str(export))
    _shoot(page, "imports-1280")
    page.click("button.primary")
    page.wait_for_selector("[data-count=added]", timeout=60_000)  # HTMX polled the job
    assert page.locator("[data-count=read]").inner_text() == "2"
    assert page.locator("[data-count=added]").inner_text() == "2"
    _shoot(page, "import-done-1280")


def test_edit_a_goal_and_see_the_review_change(browser, server) -> None:  # type: ignore[no-untyped-def]
    page = _page(browser, server, "owner")
    review = f"{server}/reviews?community=book-club&period=2026-10"
    page.goto(review)
    row = page.locator("table.goals tbody tr", has_text="十月入群 5 人")
    assert row.locator("td").last.inner_text() == "未达成"  # 3 joins in October
    page.goto(f"{server}/communities")
    _shoot(page, "communities-1280")
    page.fill("#c-book-club input[name='target:long_term_goals:0']", "3")
    page.locator("#c-book-club button.primary").click()
    page.wait_for_url(re.compile(r"saved=book-club"))
    page.goto(review)
    assert row.locator("td").last.inner_text() == "达成"
    _shoot(page, "review-after-edit-1280")


@pytest.mark.parametrize("width", [1280, 390])
def test_members_filtered_by_lifecycle_state(browser, server, width) -> None:  # type: ignore[no-untyped-def]
    page = _page(browser, server, "analyst", width)
    page.goto(f"{server}/members")
    page.select_option("select[name=state]", "churned")
    page.click("#member-filters button")
    page.wait_for_url(re.compile(r"state=churned"))
    # bob left the group on 20 October: churned whatever today is (the server's clock).
    rows = page.locator("table.members tbody tr")
    keys = [rows.nth(i).locator("td small").inner_text() for i in range(rows.count())]
    assert "wx:bob" in keys
    states = page.locator("table.members tbody tr td:nth-child(8)").all_inner_texts()
    assert states and set(states) == {"已流失"}
    _shoot(page, f"members-churned-{width}")
    page.click("text=wx:bob >> nth=0")
    page.wait_for_url(re.compile(r"/member/wx(:|%3A)bob"))
    assert "已流失" in page.locator("#member-standing").inner_text()


@pytest.mark.parametrize("width", [1280, 390])
def test_replay_a_week_from_the_sop_page(browser, server, width) -> None:  # type: ignore[no-untyped-def]
    page = _page(browser, server, "operator", width)
    page.goto(f"{server}/sop")
    page.click("a[href='/sop/replay']")
    page.wait_for_url(re.compile(r"/sop/replay"))
    page.fill("#replay-filters input[name=from]", "2026-10-01")
    page.fill("#replay-filters input[name=to]", "2026-10-08")
    page.click("#replay-filters button")
    page.wait_for_url(re.compile(r"from=2026-10-01&to=2026-10-08"))
    # Three joins in book-club that week (alice, bob, the hostile name): three calls.
    counts = page.locator("#replay-counts tbody tr td").all_inner_texts()
    assert counts == ["call-newcomer", "call", "create_task", "3", "3", "0"]  # none held out
    assert page.locator("#replay-actions tbody tr").count() == 3
    assert HOSTILE not in page.content()
    _shoot(page, f"replay-{width}")
    page.fill("#replay-filters input[name=member]", "wx:alice")
    page.click("#replay-filters button")
    page.wait_for_url(re.compile(r"member=wx%3Aalice"))
    assert page.locator("#replay-actions tbody tr").count() == 1
    assert page.errors == []


def test_members_first_show_the_profiles_progress_then_the_list(browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # A console of its own: the profiles are computed at the first Members page only.
    with _serve(_workspace(tmp_path / "ws")) as url:
        page = _page(browser, url, "analyst", 390)
        page.goto(f"{url}/members")
        assert page.locator("#profiles progress").count() == 1  # the progress page
        assert page.locator("table.members").count() == 0
        _shoot(page, "members-computing-390")
        page.wait_for_selector("table.members", timeout=60_000)  # HTMX reloaded the page
        assert "分钟前" in page.locator("#decided-age").inner_text()
        assert page.locator("table.members tbody tr").count() == 4
        _shoot(page, "members-computed-390")
        assert page.errors == []  # type: ignore[attr-defined]
