"""Reports from a hand-made review: Markdown, HTML (one file, escaped), Excel, languages."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from tests.helpers.gaps import known_gap

from shequn.errors import ShequnError
from shequn.goals.evaluate import GoalSpec, evaluate_goal
from shequn.periods import month
from shequn.reports import render
from shequn.reports.html import load_echarts, render_html
from shequn.reports.markdown import render_markdown
from shequn.reports.xlsx import render_xlsx
from shequn.review.build import Review, build_review
from shequn.review.knowledge import load_knowledge
from shequn.review.playbook_runs import PlaybookRun
from shequn.review.replication import ReplicationRate

EVIL = "<script>alert('x')</script>茶舍"
CURRENT = {
    "tea": {
        "members_during": 1000,
        "buyers": 40,
        "traffic_conversion": 0.08,
        "active_rate": 0.45,
        "purchase_conversion": 0.04,
        "repurchase_rate": 0.2,
        "k_factor": 0.05,
        "gmv": Decimal("12345.60"),
        "by_channel": {
            "抖音": {"visits": 5000, "channel_joins": 100, "joins": 400, "buyers": 3},
            "公众号": {"visits": 1000, "channel_joins": 200, "joins": 600, "buyers": 57},
        },
    }
}
BEFORE = {
    "tea": {
        "members_during": 1000,
        "buyers": 50,
        "active_rate": 0.5,
        "purchase_conversion": 0.05,
        "repurchase_rate": 0.3,
    }
}
ACTIVE = GoalSpec("tea:long:0", "tea", "活跃度 60%", "active_rate", 0.6, "at_least", "long")
GMV = GoalSpec("tea:short:0", "tea", "GMV 1万", "gmv", 10000.0, "at_least", "short",
               serves=("tea:long:0",))  # fmt: skip


def review(lang: str) -> Review:
    return build_review(
        lang=lang,
        scope="tea",
        period=month(2026, 10),
        current=CURRENT,
        before=BEFORE,
        goals=[
            evaluate_goal(ACTIVE, 0.45, 0.5, window=month(2026, 10)),
            evaluate_goal(GMV, Decimal("12345.60"), None, window=month(2026, 10)),
        ],
        knowledge=load_knowledge(),
        replication=[ReplicationRate("brand", met=1, reached=4, communities=5)],
        names={"tea": EVIL},
    )


def test_review_traces_the_missed_goal_drivers_and_actions() -> None:
    r = review("en")
    (missed,) = r.diagnosis.missed
    assert missed.failed is not None and missed.failed.stage == "activity"
    assert [d.subject for d in r.drivers] == ["抖音", "抖音"]
    assert {a.stage for a in r.actions} == {"activity"}  # weakest stage and the missed goal


def test_markdown_content_en() -> None:
    md = render_markdown(review("en"))
    assert md.startswith(
        "# Review: &lt;script&gt;alert('x')&lt;/script&gt;茶舍, 2026-10\n\n_compared with 2026-09_"
    )
    assert (
        "| &lt;script&gt;alert('x')&lt;/script&gt;茶舍 | long-term | 活跃度 60% | active rate | "
        "2026-10 | 60.0% | 45.0% | −15.0 pp | missed | 50.0% | ↓ worse |"
    ) in md
    assert (
        "| GMV 1万 (serves: 活跃度 60%) | GMV | 2026-10 | 10,000.00 | 12,345.60 | +2,345.60 |" in md
    )
    assert (
        "**Missed: 活跃度 60% — active rate was 45.0%, target at least 60.0%. The stage that "
        "failed is join → active: active rate 45.0%, against the target 60.0%.**"
    ) in md
    assert "| 活跃度 60% | join → active ← | active rate | 45.0% | 60.0% | the goal | 1,000 |" in md
    assert "| daily-routine | daily-routine did not run this period |" in md

    assert "| Channel 抖音 brought 40% of joins but 5.0% of buyers. | 40% | 5.0% |" in md
    assert "| join → active | Daily topic discussions: " in md
    assert "| daily-routine |" in md and "| weekly-sharing |" in md
    assert "| brand | 5 | 4 | 1 | 25.0% |" in md


def test_markdown_content_zh() -> None:
    md = render_markdown(review("zh_CN"))
    assert "# 复盘报告：&lt;script&gt;alert('x')&lt;/script&gt;茶舍，2026-10" in md
    assert "## 一、目标与实际" in md and "## 五、复制成功率" in md
    assert (
        "| 长期 | 活跃度 60% | 活跃度 | 2026-10 | 60.0% | 45.0% | −15.0 个百分点 | 未达成 |" in md
    )
    assert "渠道 抖音 带来了 40% 的入群，却只贡献了 5.0% 的购买者。" in md
    assert "每日话题讨论" in md
    assert "review" not in md.lower().split("\n", 1)[0]


def test_html_one_file_escaped_with_chart_data() -> None:
    html = render_html(review("en"), echarts_js="/* echarts bundle */ var echarts;")
    assert "/* echarts bundle */" in html
    assert EVIL not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;茶舍" in html
    assert not re.search(r"<(script|img|iframe)[^>]*\bsrc=", html, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\bhref=", html, re.IGNORECASE)
    assert "http://" not in html and "https://" not in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    charts = json.loads(re.search(r"var charts = (\{.*?\});\n", html).group(1))  # type: ignore[union-attr]
    assert charts["funnel"]["series"][0]["data"] == [8.0, 45.0, 4.0, 20.0, 5.0]
    assert charts["funnel"]["series"][1]["data"] == [None, 50.0, 5.0, 30.0, None]
    assert charts["funnel"]["series"][2]["data"] == [None, 60.0, None, None, None]
    assert charts["goals"]["series"][0]["data"] == [75.0, 123.5]


def test_html_bundle_cannot_close_the_script_element() -> None:
    html = render_html(review("en"), echarts_js="var s = '</script><b>';")
    assert "var s = '<\\/script><b>';" in html


def test_html_needs_the_fetched_echarts(tmp_path: Path) -> None:
    with pytest.raises(ShequnError) as caught:
        load_echarts(tmp_path / "echarts.min.js")
    assert "make assets" in caught.value.hint


def test_html_inlines_the_real_echarts() -> None:
    try:
        bundle = load_echarts()
    except ShequnError:
        known_gap("ECharts not fetched here; run `make assets`")
    html = render(review("zh_CN"), "html")
    assert isinstance(html, str) and bundle[:200] in html and len(html) > 500_000


def test_xlsx_one_sheet_per_section_with_numbers() -> None:
    book = load_workbook(BytesIO(render_xlsx(review("en"))))
    assert book.sheetnames == [
        "Data quality",
        "1. Goals vs actuals",
        "2. Funnel diagnosis",
        "Stages of the missed goals",
        "3. Drivers",
        "4. Suggested actions",
        "5. Replication success rate",
        "6. Member lifecycle flow",
    ]
    goals = book["1. Goals vs actuals"]
    assert [c.value for c in goals[1]][:6] == [
        "community", "level", "goal", "metric", "window", "target",
    ]  # fmt: skip
    assert goals["F2"].value == 0.6 and goals["G2"].value == 0.45
    assert goals["H2"].value == pytest.approx(-0.15)
    assert goals["F2"].number_format == "0.0%"
    assert goals["G3"].value == 12345.6 and goals["G3"].number_format == "#,##0.00"
    funnel = book["2. Funnel diagnosis"]
    assert [funnel.cell(row=i, column=3).value for i in range(2, 7)] == [
        0.08,
        0.45,
        0.04,
        0.2,
        0.05,
    ]
    assert funnel["E3"].value == pytest.approx(0.25)
    replication = book["5. Replication success rate"]
    assert [c.value for c in replication[2]] == ["brand", 5, 4, 1, 0.25]


def test_xlsx_zh_sheet_names() -> None:
    book = load_workbook(BytesIO(render_xlsx(review("zh_CN"))))
    assert book.sheetnames[:2] == ["数据质量", "一、目标与实际"]
    assert book["一、目标与实际"]["I2"].value == "未达成"


def test_a_playbook_that_ran_says_what_it_did() -> None:
    ran = replace(review("en"), runs={"daily-routine": PlaybookRun(12, 11, 2, 1)})
    assert (
        "| daily-routine | daily-routine ran this period: 12 sent, 11 on time, 2 tasks done, "
        "1 missed; active rate 50.0% → 45.0% |"
    ) in render_markdown(ran)
    zh = replace(review("zh_CN"), runs={"weekly-sharing": PlaybookRun(3, 3, 0, 0)})
    assert (
        "本期 weekly-sharing 已运行：发送 3 条，按时 3，完成任务 0 个，错过 0 次；"
        "活跃度 50.0% → 45.0%"
    ) in render_markdown(zh)
