"""`shequn review` on a small simulated workspace, through the metrics engine, to Markdown."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from shequn.cli.review import review
from shequn.clock import FrozenClock
from shequn.services.members import refresh
from shequn.services.simulate import simulate_into
from shequn.workspace import Workspace

GOALS = """
[[communities]]
key = "tea-shop"
name = "一叶茶舍·会员群"
template = "brand-members"

[[communities.long_term_goals]]
text = "复购率 35%"
metric = "repurchase_rate"
target = 0.35
period = "month"

[[communities.short_term_goals]]
text = "月流失率不高于 10%"
metric = "churn_rate"
target = 0.1
direction = "at_most"
period = "month"
"""


@pytest.fixture
def app() -> typer.Typer:
    cli = typer.Typer()
    cli.command()(review)

    @cli.callback()
    def _main() -> None:
        pass

    return cli


@pytest.mark.slow
def test_review_of_a_simulated_month_to_markdown(
    ws: Workspace, app: typer.Typer, tmp_path: Path
) -> None:
    settings = ws.root / "shequn.toml"
    settings.write_text(settings.read_text(encoding="utf-8") + GOALS, encoding="utf-8")
    simulate_into(ws, communities=1, days=30, events=3000)
    # Lifecycle states recorded mid-month show in the review's members section.
    moved = refresh(ws, FrozenClock(datetime(2025, 9, 20, 12, tzinfo=UTC))).state_changes
    ws.close()
    out = tmp_path / "review.md"
    args = ["review", "-w", str(ws.root), "-c", "tea-shop", "--period", "2025-09"]
    result = CliRunner().invoke(app, [*args, "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    md = out.read_text(encoding="utf-8")
    assert md.startswith("# 复盘报告：一叶茶舍·会员群，2025-09\n")
    for title in (
        "一、目标与实际",
        "二、漏斗诊断",
        "三、拖累因素",
        "四、改进建议",
        "五、复制成功率",
        "六、成员生命周期流转",
    ):
        assert f"## {title}" in md
    flow = md.split("## 六、成员生命周期流转")[1].split("\n## ")[0]
    rows = [line.split("|") for line in flow.splitlines() if line.startswith("| （首次记录）")]
    assert moved > 0 and sum(int(r[3].strip().replace(",", "")) for r in rows) == moved
    assert "| 一叶茶舍·会员群 | 长期 | 复购率 35% | 复购率 | 2025-09 | 35.0% |" in md
    assert "## 数据质量" in md
    assert "出问题的环节是" in md or "所有设定了目标值的目标都已达成" in md or "数据不足" in md
    assert "各环节都达到目标" not in md
    assert "| brand-members | 1 |" in md

    en = CliRunner().invoke(app, [*args, "--format", "md", "--lang", "en"])
    assert en.exit_code == 0, en.output
    assert en.output.startswith("# Review: 一叶茶舍·会员群, 2025-09\n")
    assert "## 2. Funnel diagnosis" in en.output
