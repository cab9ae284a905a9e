"""The review of hand-built workspaces whose gaps are known: no orders, no leave events,
no channel, a period the data covers in part; and what a playbook did, from the log."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import BytesIO, StringIO
from pathlib import Path

from openpyxl import load_workbook
from rich.console import Console

from shequn.clock import to_micros
from shequn.reports.html import render_html
from shequn.reports.markdown import render_markdown
from shequn.reports.tables import heading
from shequn.reports.terminal import print_review
from shequn.reports.xlsx import render_xlsx
from shequn.review.playbook_runs import PlaybookRun, playbook_runs
from shequn.review.run import review_workspace
from shequn.services.imports import import_path
from shequn.sop import journal
from shequn.store.engine import read_transaction, write_transaction
from shequn.workspace import Workspace

SETTINGS = """
[[communities]]
key = "walkers"
name = "Walkers"

[[communities.long_term_goals]]
text = "30% buy"
metric = "purchase_conversion"
target = 0.3
period = "month"
"""
MONTH = 31 * 24 * 3600 * 1_000_000
HEADER = "ts,community,member,type,channel,inviter,source_id\n"


def _chat_only_log(path: Path) -> Path:
    """40 joins on 5 September (no channel), 12 of them speaking 1–20 October; no order,
    no leave."""
    rows = [f"2026-09-05T10:00:00+08:00,walkers,m{i},join,,,j{i}" for i in range(40)]
    rows += [f"2026-10-{1 + i:02d}T10:00:00+08:00,walkers,m{i},message,,,t{i}" for i in range(12)]
    rows.append("2026-10-20T10:00:00+08:00,walkers,m0,message,,,last")
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _review_of_chat_only(ws: Workspace, tmp_path: Path, lang: str = "en"):  # type: ignore[no-untyped-def]
    settings = ws.root / "shequn.toml"
    settings.write_text(settings.read_text(encoding="utf-8") + SETTINGS, encoding="utf-8")
    ws = Workspace.open(ws.root)
    import_path(ws, _chat_only_log(tmp_path / "log.csv"))
    return review_workspace(
        ws, community="walkers", period="2026-10", lang=lang, today=date(2026, 11, 5)
    )


def test_gaps_of_a_chat_only_export_are_warned_about(ws: Workspace, tmp_path: Path) -> None:
    review = _review_of_chat_only(ws, tmp_path)
    assert [w.key for w in review.warnings] == [
        "no_orders",
        "no_leaves",
        "no_channels",
        "partial",
    ]
    # Unknown is not zero: no order data → purchase conversion has no value, the goal
    # has no data, and nothing is said to have failed.
    conversion = next(s for s in review.funnel.stages if s.key == "conversion")
    assert conversion.actual is None
    (goal,) = review.goals
    assert goal.status == "no_data"
    assert review.diagnosis.state == "unjudged"
    md = render_markdown(review)
    # its target is the goal's; actual, previous and change are unknown
    assert "| active → first purchase | purchase conversion | — | 30.0% | — | — | — |" in md
    assert "No orders are imported for Walkers: purchase conversion" in md
    assert "The data of Walkers holds no leave event" in md
    assert "No join of Walkers says where it came from" in md
    assert "covers only 2026-10-01 to 2026-10-20 of 2026-10" in md
    assert "**No goal could be judged this period (no data, or not yet due)." in md


def test_warnings_in_every_output_format(ws: Workspace, tmp_path: Path) -> None:
    review = _review_of_chat_only(ws, tmp_path, lang="zh_CN")
    warning = "Walkers 没有导入订单"
    out = StringIO()
    print_review(review, Console(file=out, width=300, color_system=None))
    assert warning in out.getvalue()
    html = render_html(review, echarts_js="var echarts;")
    assert warning in html and "无法归因渠道" in html
    book = load_workbook(BytesIO(render_xlsx(review)))
    sheet = book["数据质量"]
    cells = [row[0].value for row in sheet.iter_rows()]
    assert any(isinstance(c, str) and c.startswith(warning) for c in cells)
    assert len([c for c in cells if isinstance(c, str) and c.startswith("Walkers")]) == 4


def test_the_terminal_review_reads_no_markup_in_any_console(ws: Workspace, tmp_path: Path) -> None:
    # The CLI's console reads no markup (shequn.cli.output); a caller's may: the review
    # shows the same text in both, styled, with nothing of markup or its escapes in it.
    review = _review_of_chat_only(ws, tmp_path)
    shown = []
    for console_markup in (False, True):
        out = StringIO()
        console = Console(file=out, width=300, color_system=None, markup=console_markup)
        print_review(review, console)
        shown.append(out.getvalue())
    assert shown[0] == shown[1]
    assert "[bold]" not in shown[0] and "\\[" not in shown[0]
    assert shown[0].startswith(heading(review)[0])


def test_playbook_runs_from_the_outcome_events(ws: Workspace) -> None:
    at = to_micros(datetime(2026, 10, 3, 2, 0, tzinfo=UTC))
    rows = [
        journal.entry("message_sent", at, "walkers", "daily-routine|topic|m1|1", late=False),
        journal.entry("message_sent", at, "walkers", "daily-routine|topic|m2|1", late=True),
        journal.entry("task_done", at, "walkers", "daily-routine|host|1", on_time=True),
        journal.entry("sop_action_missed", at, "walkers", "weekly-sharing|talk|1", reason="x"),
        journal.entry("message_sent", at, "other", "daily-routine|topic|m3|1", late=False),
        # after the period: not counted
        journal.entry("message_sent", at + MONTH, "walkers", "daily-routine|topic|m4|1"),
    ]
    with write_transaction(ws.engine) as conn:
        journal.record(conn, rows)
    start = to_micros(datetime(2026, 10, 1, tzinfo=UTC))
    end = to_micros(datetime(2026, 11, 1, tzinfo=UTC))
    with read_transaction(ws.engine) as conn:
        runs = dict(playbook_runs(conn, "walkers", start, end))
        everywhere = dict(playbook_runs(conn, None, start, end))
    assert runs == {
        "daily-routine": PlaybookRun(sent=2, on_time=2, done=1, missed=0),
        "weekly-sharing": PlaybookRun(sent=0, on_time=0, done=0, missed=1),
    }
    assert everywhere["daily-routine"].sent == 3  # the other community's too
