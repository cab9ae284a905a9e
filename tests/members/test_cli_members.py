"""`shequn members list|show` on a small workspace: columns, filter, formats, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shequn.cli.app import app
from shequn.services.workspace import init_workspace
from tests.members.test_refresh import _load


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = init_workspace(tmp_path / "ws", name="test")
    _load(ws, tmp_path)
    ws.close()
    return ws.root


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_list_json_has_tier_state_and_risk(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.json"
    _run(
        "members", "list", "-w", str(root), "--at", "2026-11-01", "--format", "json", "-o", str(out)
    )
    rows = {r["member"]: r for r in json.loads(out.read_text())}
    assert set(rows) == {"wx:a", "wx:b"}
    a = rows["wx:a"]
    # Shanghai midnight 2026-11-01 is 10-31 16:00 UTC: a idle 30.25 days, b 6.25.
    assert (a["tier"], a["state"], a["churn_risk"]) == ("buyer", "at_risk", 1.0)
    assert (rows["wx:b"]["state"], rows["wx:b"]["replies_given"]) == ("active", 1)
    assert a["last_active"] == "2026-10-01 18:00"  # local time in exports


def test_filter_and_csv(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.csv"
    args = ["members", "list", "-w", str(root), "--at", "2026-11-01"]
    _run(*args, "--filter", "orders > 0", "--format", "csv", "-o", str(out))
    lines = out.read_text().splitlines()
    assert len(lines) == 2 and lines[1].startswith("wx:a,club,")


def test_bad_filter_names_the_option(root: Path) -> None:
    args = ["members", "list", "-w", str(root), "--filter", "orders >"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert "--filter" in str(result.exception) or "--filter" in result.output


def test_show_one_member(root: Path) -> None:
    output = _run("members", "show", "wx:a", "-w", str(root), "--at", "2026-11-01")
    assert "at_risk" in output and "buyer" in output and "top_keywords" in output


def test_member_text_is_shown_as_written(tmp_path: Path) -> None:
    # A sender's name is free text in a chat export: Rich markup and emoji codes in it
    # are shown as written, in the table of `members list` and in `members show`.
    from shequn.domain.events import CANONICAL_FIELDS
    from shequn.services.imports import import_path

    ws = init_workspace(tmp_path / "ws", name="[bold]test[/]")
    key = "wx:[/]eve [link=http://x.invalid]:fire:"
    log = tmp_path / "log.csv"
    row = f"2026-10-01T09:00:00Z,club,{key},message,,,,m1,,,,,hi,e1"
    log.write_text(",".join(CANONICAL_FIELDS) + "\n" + row + "\n")
    import_path(ws, log)
    ws.close()
    wide = CliRunner(env={"COLUMNS": "400"})
    for args in (["members", "list"], ["members", "show", key], ["status"]):
        result = wide.invoke(app, [*args, "-w", str(ws.root)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert (key if args[0] == "members" else "[bold]test[/]") in result.output


def test_a_table_keeps_its_width_where_no_stream_is_a_terminal(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Cron mail, CI logs, a script's file: no terminal and no $COLUMNS. Rich would fit
    # the table to 80 columns and cut every cell ("wx…", "re…"); it keeps its width.
    import gc
    import io

    from shequn.cli import main
    from shequn.cli.output import console

    args = ["shequn", "members", "list", "-w", str(root), "--at", "2026-11-01"]
    monkeypatch.setattr("sys.argv", args)
    monkeypatch.setattr("sys.stdin", io.StringIO())
    shown = {}
    for columns in ("", "80"):
        monkeypatch.setenv("COLUMNS", columns)
        monkeypatch.setattr(console, "_width", None)  # as in a new process; restored after
        with pytest.raises(SystemExit) as exit_:
            main()
        gc.unfreeze()  # `main` froze what lives for the exit; this process goes on
        assert exit_.value.code == 0
        shown[columns] = capsys.readouterr().out
    assert "wx:a" in shown[""] and "replies_received" in shown[""]
    # $COLUMNS, when set, still decides.
    assert "replies_received" not in shown["80"] and "…" in shown["80"]
