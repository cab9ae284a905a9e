"""Goals in a monthly review, through the store and the metrics engine, figures by hand.

Community `camp` starts on 2026-09-21 (its first event; Asia/Shanghai). October 2026
holds the ISO weeks W40 (Sep 28 - Oct 4: Thursday Oct 1) to W44 (Oct 26 - Nov 1:
Thursday Oct 29), so W40's two September messages and W44's November one count for
October's weekly goal.

    week   messages                     >= 2?
    W36-38 none                          no    (September: 0 of 4 weeks met)
    W39    m1 Sep 22                     no
    W40    m2 Sep 29, m3 Sep 30          yes
    W41    m4 Oct 6, m5 Oct 7, m6 Oct 8  yes
    W42    m7 Oct 14                     no
    W43    m8 Oct 19, m9 Oct 22          yes
    W44    m10 Oct 27, m11 Nov 1         yes   (October: 4 of 5 weeks met)

joins: a, b Sep 21; c Oct 3; d Oct 25. Day 30 = [Sep 21, Oct 21): a, b, c = 3.
Messages in [Oct 10, Oct 20): m7, m8 = 2; in the 10 days before, [Sep 30, Oct 10):
m3-m6 = 4. October messages: m4-m10 = 7; September: m1-m3 = 3.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from shequn.config import load_settings
from shequn.errors import InputError
from shequn.goals.gather import workspace_goals
from shequn.reports.markdown import render_markdown
from shequn.reports.xlsx import render_xlsx
from shequn.review.run import review_workspace
from shequn.services.imports import import_path
from shequn.workspace import Workspace

EVENTS = """ts,community,member,type,source_id
2026-09-21T10:00:00+08:00,camp,a,join,e1
2026-09-21T10:05:00+08:00,camp,b,join,e2
2026-09-22T10:00:00+08:00,camp,a,message,m1
2026-09-29T10:00:00+08:00,camp,a,message,m2
2026-09-30T10:00:00+08:00,camp,b,message,m3
2026-10-03T10:00:00+08:00,camp,c,join,e3
2026-10-06T10:00:00+08:00,camp,a,message,m4
2026-10-07T10:00:00+08:00,camp,a,message,m5
2026-10-08T10:00:00+08:00,camp,b,message,m6
2026-10-14T10:00:00+08:00,camp,a,message,m7
2026-10-19T10:00:00+08:00,camp,a,message,m8
2026-10-22T10:00:00+08:00,camp,c,message,m9
2026-10-25T10:00:00+08:00,camp,d,join,e4
2026-10-27T10:00:00+08:00,camp,d,message,m10
2026-11-01T10:00:00+08:00,camp,a,message,m11
"""

SETTINGS = """
[[communities]]
key = "camp"
name = "Camp"
template = "camp-tpl"

[[communities.long_term_goals]]
id = "enrol"
text = "3 joins by day 30"
metric = "joins"
target = 3
horizon = "day 30"

[[communities.long_term_goals]]
text = "8 joins by day 60"
metric = "joins"
target = 8
period = "day 60"   # the older spelling of a horizon; judged on Nov 20, not in October

[[communities.short_term_goals]]
text = "2 joins a month"
metric = "joins"
target = 2
period = "month"
serves = "enrol"

[[communities.short_term_goals]]
text = "quiet mid-October"
metric = "messages"
target = 2
direction = "at_most"
from = 2026-10-10
to = 2026-10-20
serves = "enrol"

[[communities.short_term_goals]]
text = "September only"
metric = "messages"
target = 1
period = "2026-09"
serves = "enrol"
"""

GOAL_FILE = """scope: template:camp-tpl
short_term_goals:
  - id: weekly-talk
    text: 2 messages a week
    metric: messages
    target: 2
    period: week
    serves: enrol
long_term_goals:
  - text: 10 messages a month in all
    scope: "*"
    metric: messages
    target: 10
    period: month
"""

TODAY = date(2026, 11, 23)


def setup(ws: Workspace, tmp_path: Path) -> None:
    path = ws.root / "shequn.toml"
    kept = [line for line in path.read_text().splitlines() if line.startswith("database_url")]
    path.write_text('name = "test"\n' + "\n".join(kept) + "\n" + SETTINGS, encoding="utf-8")
    (ws.root / "goals").mkdir()
    (ws.root / "goals" / "camp.yaml").write_text(GOAL_FILE, encoding="utf-8")
    ws.settings = load_settings(ws.root)
    events = tmp_path / "events.csv"
    events.write_text(EVENTS, encoding="utf-8")
    import_path(ws, events, format_name="canonical")


def test_monthly_review_of_weekly_fixed_horizon_and_workspace_goals(
    ws: Workspace, tmp_path: Path
) -> None:
    setup(ws, tmp_path)
    review = review_workspace(ws, period="2026-10", lang="en", today=TODAY)
    rows = [
        (r.goal.id, r.window.label if r.window else None, r.actual, r.status, r.previous, r.trend)
        for r in review.goals
    ]
    assert rows == [
        ("enrol", "2026-09-21..2026-10-21", 3, "met", None, None),
        ("camp:short:0", "2026-10", 2, "met", 2, "flat"),
        ("camp:short:1", "2026-10-10..2026-10-20", 2, "met", 4, "better"),
        ("weekly-talk@camp", "2026-10", None, "missed", None, "better"),
        ("camp.yaml:long:0", "2026-10", 7, "missed", 3, "better"),  # the "*" goal
    ]
    weekly = review.goals[3]
    assert (weekly.met_units, weekly.previous_met) == (4, (0, 4))
    assert [(u.window.label, u.actual, u.status, u.previous) for u in weekly.units] == [  # type: ignore[union-attr]
        ("2026-W40", 2, "met", 1),
        ("2026-W41", 3, "met", 2),
        ("2026-W42", 1, "missed", 3),
        ("2026-W43", 2, "met", 1),
        ("2026-W44", 2, "met", 2),
    ]

    md = render_markdown(review)
    assert (
        "| Camp | long-term | 3 joins by day 30 | joins | 2026-09-21..2026-10-21 | 3 | 3 | +0 "
        "| met | — | — | 100% | 2 of 3 |"
    ) in md
    assert (
        "| Camp | short-term | quiet mid-October (serves: 3 joins by day 30) | messages "
        "| 2026-10-10..2026-10-20 | 2 | 2 | +0 | met | 4 | ↑ better | 100% |  |"
    ) in md
    assert (
        "| Camp | short-term | 2 messages a week (serves: 3 joins by day 30) | messages | 2026-10 "
        "| 2 | 4 of 5 weeks met | — | missed | 0 of 4 weeks met | ↑ better | — |  |"
    ) in md
    assert (
        "| Camp | short-term | ↳ 2 messages a week | messages | 2026-W42 | 2 | 1 | −1 | missed "
        "| 3 | ↓ worse | 50% |  |"
    ) in md
    assert (
        "| all communities | long-term | 10 messages a month in all | messages | 2026-10 | 10 | 7 "
        "| −3 | missed | 3 | ↑ better | 70% | — |"
    ) in md
    assert "September only" not in md and "8 joins by day 60" not in md
    # The diagnosis names a weekly goal by its weeks met (it has no single figure).
    assert "Missed: 2 messages a week — messages was 4 of 5 weeks met, target" in md

    sheet = load_workbook(BytesIO(render_xlsx(review)))["1. Goals vs actuals"]
    assert [c.value for c in sheet[5]][5:10] == [2, 4, None, "missed", 0]
    assert [c.value for c in sheet[8]][4:8] == ["2026-W42", 2, 1, -1]
    assert sheet["L2"].value == 1.0 and sheet["M2"].value == 2

    zh = render_markdown(replace(review, lang="zh_CN"))
    assert "| 2 | 5 周中 4 周达成 | — | 未达成 | 4 周中 0 周达成 | ↑ 变好 | — |  |" in zh
    assert "未达成「2 messages a week」：消息数为 5 周中 4 周达成，目标" in zh
    assert "| 长期 | 3 joins by day 30 | 入群数 | 2026-09-21..2026-10-21 |" in zh
    assert "| 100% | 3 个中 2 个 |" in zh


def test_a_bad_goal_file_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "goals").mkdir()
    (tmp_path / "shequn.toml").write_text(SETTINGS, encoding="utf-8")
    bad = GOAL_FILE.replace("serves: enrol", "serves: enroll")
    (tmp_path / "goals" / "camp.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        workspace_goals(tmp_path, load_settings(tmp_path))
    assert str(caught.value).startswith(
        f"{tmp_path / 'goals' / 'camp.yaml'}:3 (field 'serves'): serves 'enroll', "
        "which is no goal's id"
    )
    assert "enrol, weekly-talk" in caught.value.hint
