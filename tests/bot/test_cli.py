"""`shequn faq test|report|wrong` and `shequn moderation check` on a bot workspace."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from shequn.bot.core import step
from shequn.bot.setup import load
from shequn.bot.state import BotState
from shequn.cli import app
from shequn.clock import FrozenClock
from shequn.config import load_settings
from shequn.services import bot as service
from shequn.workspace import Workspace
from tests.bot.conftest import T0, make_workspace, message

RUN = CliRunner()


def shequn(root: Path, *args: str) -> str:
    result = RUN.invoke(app, [*args, "-w", str(root)])
    assert result.exit_code == 0, result.output
    return result.output


def test_faq_test_says_entry_confidence_and_verdict(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws")
    out = shequn(root, "faq", "test", "请问晚上几点关门？")
    assert "entry:      opening-hours" in out and "answers:    yes" in out
    out = shequn(root, "faq", "test", "明天会下雨吗？")
    assert "answers:    no; an operator task goes to lin" in out


def test_moderation_check_counts_the_members_warnings(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws")
    assert "verdict: allowed" in shequn(root, "moderation", "check", "你好")
    out = shequn(root, "moderation", "check", "来 ｃａｓｉｎｏ 玩", "--member", "matrix:@eve:x")
    assert "rule:     banned_word" in out and "step:     warn (warning 1" in out
    # Once the member has a warning on record, the same text is the ladder's second step.
    ws = Workspace.open(root)
    setup = load(root, load_settings(root))["tea"]
    decision = step(message("matrix:@eve:x", "scam"), BotState(), setup, T0)
    service.record(ws, [decision], FrozenClock(T0))
    ws.close()
    out = shequn(root, "moderation", "check", "scam", "--member", "matrix:@eve:x")
    assert "step:     mute 600 s (warning 2" in out


def test_faq_report_and_wrong(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws")
    ws = Workspace.open(root)
    setup = load(root, load_settings(root))["tea"]
    state = BotState()
    for i, text in enumerate(("请问晚上几点关门？", "明天会下雨吗？")):
        at = T0 + timedelta(minutes=i)
        service.record(
            ws, [step(message("matrix:@bob:x", text), state, setup, at)], FrozenClock(at)
        )
    ws.close()
    window = ["--from", "2026-12-01", "--to", "2027-01-01"]
    out = shequn(root, "faq", "report", *window)
    assert "asked 2 · answered 1 · marked wrong 0" in out and "明天会下雨吗？" in out
    answer_id = next(
        line.split()[1] for line in out.splitlines() if "opening-hours" in line and "请问" in line
    )
    assert "marked wrong" in shequn(root, "faq", "wrong", answer_id)
    assert "marked wrong 1" in shequn(root, "faq", "report", *window)
    missing = RUN.invoke(app, ["faq", "wrong", "99999", "-w", str(root)])
    assert "no FAQ answer 99999" in str(missing.exception)
