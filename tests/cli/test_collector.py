"""The cycle collector in one-shot commands (shequn.cli.collector)."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shequn.cli import app
from shequn.cli.collector import paused
from shequn.services.members import RefreshResult
from shequn.workspace import Workspace

# `python -m shequn --version` as a user runs it, then whether the app (alive since the
# start) is still within the collector's reach, and whether the collector is still on.
AFTER_MAIN = """
import gc, sys
from shequn.cli import app, main
sys.argv = ["shequn", "--version"]
try:
    main()
except SystemExit:
    pass
print(any(o is app for o in gc.get_objects()), gc.isenabled())
"""


@pytest.fixture
def collector_on() -> Iterator[None]:
    was_on = gc.isenabled()
    gc.enable()
    yield
    if not was_on:
        gc.disable()


def test_paused_holds_the_collector_off_and_restores_it(collector_on: None) -> None:
    with paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    with paused():
        assert not gc.isenabled()
    assert not gc.isenabled()  # it was off before: left off


def test_paused_restores_the_collector_when_the_block_fails(collector_on: None) -> None:
    with pytest.raises(ValueError), paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_command_leaves_its_objects_to_the_exit_with_the_collector_on() -> None:
    done = subprocess.run(
        [sys.executable, "-c", AFTER_MAIN], capture_output=True, text=True, check=True
    )
    # What the command left alive (the Typer app among it) is past the collector's
    # reach; the collector itself is on, as it was.
    assert done.stdout.split()[-2:] == ["False", "True"]


def test_members_refresh_runs_with_the_collector_paused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collector_on: None
) -> None:
    seen: list[bool] = []

    def refresh(_ws: Workspace, *, cold: bool = False) -> RefreshResult:
        seen.append(gc.isenabled())
        return RefreshResult(members=0, tier_changes=0, state_changes=0, risk_rises=0)

    monkeypatch.setattr("shequn.services.members.refresh", refresh)
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(tmp_path / "ws")]).exit_code == 0
    result = runner.invoke(app, ["members", "refresh", "-w", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    assert "0 members: 0 tier changes" in result.output
    assert seen == [False]
    assert gc.isenabled()
