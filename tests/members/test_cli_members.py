"""`shequn members list|show` on a small workspace: columns, filter, formats, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shequn.cli.app import app
from shequn.errors import InputError
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


def test_list_to_standard_output(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `-o -` sends the rows on (to jq, a spreadsheet import, a file): no file named "-".
    import csv
    import io

    from openpyxl import load_workbook

    monkeypatch.chdir(tmp_path)
    base = ["members", "list", "-w", str(root), "--at", "2026-11-01", "-o", "-"]
    runner = CliRunner()
    as_csv = runner.invoke(app, [*base, "--format", "csv"], catch_exceptions=False)
    rows = {r["member"]: r for r in csv.DictReader(io.StringIO(as_csv.stdout))}
    assert (rows["wx:a"]["state"], rows["wx:b"]["state"]) == ("at_risk", "active")
    as_json = runner.invoke(app, [*base, "--format", "json"], catch_exceptions=False)
    assert {r["member"] for r in json.loads(as_json.stdout)} == {"wx:a", "wx:b"}
    as_xlsx = runner.invoke(app, [*base, "--format", "xlsx"], catch_exceptions=False)
    sheet = load_workbook(io.BytesIO(as_xlsx.stdout_bytes))["members"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header[0] == "member" and sheet.max_row == 3
    assert not (tmp_path / "-").exists() and not list(tmp_path.glob("members.*"))
    assert "Wrote" not in as_csv.output  # nothing but the rows on the way


def test_binary_output_is_kept_off_a_terminal(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("shequn.cli.output._is_terminal", lambda stream: True)
    args = ["members", "list", "-w", str(root), "--format", "xlsx", "-o", "-"]
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, InputError)
    assert "'--out'" in str(result.exception) and "-o result.xlsx" in result.exception.hint
    assert not result.stdout_bytes and not (tmp_path / "-").exists()


def test_empty_results_say_why(root: Path) -> None:
    runner = CliRunner(env={"COLUMNS": "200"})

    def run(*args: str) -> tuple[str, str]:
        result = runner.invoke(app, [*args, "-w", str(root)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout, result.stderr

    # Before b's reply (10-25) there is no interaction: no leader, and the events do
    # not end long before the day asked about, so no other day is suggested.
    shown, why = run("members", "leaders", "--at", "2026-10-02")
    assert "pagerank" in shown and "wx:" not in shown
    assert why.split("\n")[0] == (
        "no opinion leaders: no replies, reactions or mentions between members in the 365 "
        "days before 2026-10-02"
    )
    assert "--at" not in why
    _, found = run("members", "leaders", "--at", "2026-11-01")
    assert not found
    # Asked about today, long after the last event (10-25): the day to ask about instead.
    for args in (["members", "seeds"], ["members", "recommend", "wx:a"]):
        _, why = run(*args)
        assert "its last event is of 2026-10-25: ask about then with --at 2026-10-26" in why
    _, why = run("members", "list", "--filter", "orders > 5")
    assert why.startswith("no member matches --filter\n")
    _, why = run("members", "flow", "--from", "2026-10-01", "--to", "2026-11-01")
    assert "no lifecycle moves recorded from 2026-10-01 to 2026-11-01" in why
    assert "shequn members refresh" in why


def test_seeds_per_community(root: Path) -> None:
    args = ["members", "seeds", "-w", str(root), "--at", "2026-11-01"]
    wide = CliRunner(env={"COLUMNS": "200"})
    assert "wx:b" in wide.invoke(app, args, catch_exceptions=False).stdout
    other = wide.invoke(app, [*args, "-c", "elsewhere"], catch_exceptions=False)
    assert "wx:b" not in other.stdout and "no seed members" in other.stderr
    assert "wx:b" in wide.invoke(app, [*args, "--top", "1"], catch_exceptions=False).stdout


def test_a_table_cell_shows_four_decimals() -> None:
    from shequn.cli.output import cell

    assert cell(462.61104335390047) == "462.611"
    assert cell(0.8888888888888888) == "0.8889"
    assert (cell(38259.0), cell(None), cell(732), cell("wx:a")) == ("38,259.0", "", "732", "wx:a")


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """90 simulated days of one community, 2025-09-01 to 2025-11-29."""
    from shequn.services.simulate import simulate_into

    ws = init_workspace(tmp_path_factory.mktemp("sim") / "ws", name="sim")
    simulate_into(ws, communities=1, days=90, events=6000)
    ws.close()
    return ws.root


def test_churn_eval_judges_a_cut_its_history_surrounds(simulated: Path) -> None:
    args = ["members", "churn-eval", "-w", str(simulated), "--cut", "2025-10-15"]
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, args, catch_exceptions=False)
    rows = [line.split("│")[1:3] for line in result.stdout.splitlines() if "│" in line]
    assert [[c.strip() for c in row] for row in rows] == [
        ["activity", "hiatus"],
        ["activity", "logistic"],
    ]
    # Too few buyers to train on a horizon earlier: the split is named, not dropped.
    assert result.stderr.startswith("purchase split not judged: no churn or no repeat buyer")


@pytest.mark.parametrize(
    ("cut", "why", "fix", "accepted"),
    [
        # Labels are the 30 days after the cut: past the end (11-29) nobody comes back,
        # which counted everyone active since as churned.
        (
            "2025-10-31",
            "the history ends on 2025-11-29",
            "cut on 2025-10-30 or earlier",
            "2025-10-30",
        ),
        (
            "2026-10-15",
            "the history ends on 2025-11-29",
            "cut on 2025-10-30 or earlier",
            "2025-10-30",
        ),
        # The model trains on those active 30 days before the cut.
        ("2025-10-01", "the history starts on 2025-09-01", "cut after 2025-10-01", "2025-10-02"),
    ],
)
def test_churn_eval_refuses_a_cut_its_history_does_not_surround(
    simulated: Path, cut: str, why: str, fix: str, accepted: str
) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["members", "churn-eval", "-w", str(simulated), "--cut", cut])
    assert isinstance(result.exception, InputError), result.output
    assert "'--cut'" in str(result.exception) and why in str(result.exception)
    assert result.exception.hint.startswith(fix)
    good = runner.invoke(app, ["members", "churn-eval", "-w", str(simulated), "--cut", accepted])
    assert good.exit_code == 0, good.output


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["flow", "--from", "2026-10-10", "--to", "2026-10-01"], "--to"),  # was "no moves"
        (["leaders", "--top", "0"], "--top"),  # was "no opinion leaders"
        (["list", "--limit", "-1"], "--limit"),  # was every row but the last
    ],
)
def test_options_out_of_range_are_refused(root: Path, args: list[str], field: str) -> None:
    result = CliRunner().invoke(app, ["members", *args, "-w", str(root)])
    assert result.exit_code != 0 and not result.stdout
    assert field in str(result.exception) + result.output
