"""The command line as a user drives it."""

from __future__ import annotations

import gc
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from shequn.cli import app, main
from shequn.store.engine import read_transaction
from shequn.store.schema import members
from shequn.workspace import Workspace
from tests.helpers.paths import DATA

runner = CliRunner()
CSV = DATA / "canonical" / "events.csv"


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def root(tmp_path: Path) -> Path:
    run("init", str(tmp_path / "ws"))
    return tmp_path / "ws"


def status(root: Path) -> dict:
    return json.loads(run("status", "--json", "-w", str(root)))


def test_init_import_status(root: Path) -> None:
    out = run("import", str(CSV), "-w", str(root))
    assert "8 events added, 0 already stored" in out
    assert "1 events added" not in run("import", str(CSV), "-w", str(root))
    view = status(root)
    assert view["events"] == 8
    assert view["by_type"] == {"join": 2, "leave": 1, "message": 2, "order": 2, "visit": 1}
    assert view["by_source"] == {"canonical": 8}
    assert view["communities"][0]["community"] == "book-club"
    # Shown in the workspace's zone: the first event is 09:00 in Shanghai.
    assert (view["first"], view["last"]) == ("2026-10-01 09:00", "2026-10-04 08:00")
    assert (view["members"], view["persons"]) == (2, 2)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_round_trips(root: Path, tmp_path: Path, fmt: str) -> None:
    run("import", str(CSV), "-w", str(root))
    out = tmp_path / f"events.{fmt}"
    assert "Wrote 8 events" in run(
        "export", "events", "--format", fmt, "-o", str(out), "-w", str(root)
    )
    if fmt == "parquet":
        import polars as pl

        out_csv = tmp_path / "from-parquet.csv"
        pl.read_parquet(out).write_csv(out_csv)
        out = out_csv
    # Back into the same workspace: nothing new. Into a fresh one: the same log.
    assert "0 events added, 8 already stored" in run("import", str(out), "-w", str(root))
    run("init", str(tmp_path / "other"))
    run("import", str(out), "-w", str(tmp_path / "other"))
    first, second = status(root), status(tmp_path / "other")
    for key in ("events", "by_type", "by_source", "first", "last", "members"):
        assert first[key] == second[key]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_to_standard_output(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    # `-o -` pipes the log on (to gzip, to another machine): the file's bytes, no
    # file named "-", no "Wrote" line among them.
    import polars as pl

    run("import", str(CSV), "-w", str(root))
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["export", "events", "--format", fmt, "-o", "-", "-w", str(root)])
    assert result.exit_code == 0, result.output
    out = tmp_path / f"piped.{fmt}"
    out.write_bytes(result.stdout_bytes)
    read = {"csv": pl.read_csv, "jsonl": pl.read_ndjson, "parquet": pl.read_parquet}[fmt]
    assert read(out).height == 8
    assert not (tmp_path / "-").exists() and not list(tmp_path.glob("*.partial"))
    if fmt != "parquet":  # imports read text exports (test_export_round_trips converts)
        assert "0 events added, 8 already stored" in run("import", str(out), "-w", str(root))


def test_review_to_standard_output(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpyxl import load_workbook

    run("import", str(CSV), "-w", str(root))
    monkeypatch.chdir(tmp_path)
    period = ["--period", "2026-10", "-w", str(root), "-o", "-"]
    markdown = runner.invoke(app, ["review", "--format", "md", *period], catch_exceptions=False)
    html = runner.invoke(app, ["review", "--format", "html", *period], catch_exceptions=False)
    book = runner.invoke(app, ["review", "--format", "xlsx", *period], catch_exceptions=False)
    assert markdown.stdout.startswith("# ") and "2026-10" in markdown.stdout
    assert html.stdout.lstrip().lower().startswith("<!doctype html>")
    assert load_workbook(io.BytesIO(book.stdout_bytes)).sheetnames
    # With the terminal format, `-o -` is the terminal's table.
    shown = runner.invoke(app, ["review", *period], catch_exceptions=False)
    assert shown.exit_code == 0 and "2026-10" in shown.stdout
    assert not (tmp_path / "-").exists() and not list(tmp_path.glob("review-*"))


def test_export_leaves_sop_events_out_unless_asked(root: Path, tmp_path: Path) -> None:
    from shequn.sop import journal
    from shequn.store.engine import write_transaction
    from shequn.workspace import Workspace

    run("import", str(CSV), "-w", str(root))
    ws = Workspace.open(root)
    with write_transaction(ws.engine) as conn:
        tag = journal.entry("tag_added", 1, "book-club", "k1", member="wx:alice", text="VIP")
        journal.record(conn, [tag])
    out = tmp_path / "events.csv"
    assert "Wrote 8 events" in run("export", "events", "-o", str(out), "-w", str(root))
    assert "tag_added" not in out.read_text()
    assert "0 events added, 8 already stored" in run("import", str(out), "-w", str(root))
    run("export", "events", "-o", str(out), "--sop", "-w", str(root))
    assert out.read_text().count("tag_added|k1") == 1  # the event with its source id


def test_members_merge_and_unmerge(root: Path, tmp_path: Path) -> None:
    run("import", str(CSV), "-w", str(root))
    assert "wx:alice is now: wx:alice, wx:bob" in run(
        "members", "merge", "wx:alice", "wx:bob", "-w", str(root)
    )
    assert status(root)["persons"] == 1
    out = tmp_path / "persons.csv"
    run("export", "events", "-o", str(out), "--persons", "-w", str(root))
    assert "wx:bob" not in out.read_text()
    run("members", "unmerge", "wx:bob", "-w", str(root))
    assert status(root)["persons"] == 2


@pytest.fixture
def thawed() -> Iterator[None]:
    """`main` ends by freezing every live object for the exit (shequn.cli.collector):
    in this process, which goes on, give them back to the collector."""
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("thawed")
def test_errors_are_one_clear_message(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("ts,community,member,type\n2026-10-01T09:00:00,c,m,join\n")
    monkeypatch.setattr("sys.argv", ["shequn", "import", str(bad), "-w", str(root)])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "bad.csv:2" in err and "has no offset" in err and "fix:" in err
    assert "Traceback" not in err
    monkeypatch.setattr(
        "sys.argv", ["shequn", "members", "merge", "nobody:1", "x:2", "-w", str(root)]
    )
    with pytest.raises(SystemExit):
        main()
    assert "unknown member 'nobody:1'" in capsys.readouterr().err
    # The key an error names is the one to type again: no emoji code or markup read in it.
    monkeypatch.setattr(
        "sys.argv", ["shequn", "members", "show", "wx:eve :fire: [/]", "-w", str(root)]
    )
    with pytest.raises(SystemExit):
        main()
    assert "unknown member 'wx:eve :fire: [/]'" in capsys.readouterr().err


def test_unknown_format_option_lists_the_formats(root: Path) -> None:
    result = runner.invoke(app, ["import", str(CSV), "--format", "fax", "-w", str(root)])
    assert result.exit_code != 0
    assert "unknown format 'fax'" in str(result.exception)
    assert "canonical" in result.exception.hint  # type: ignore[union-attr]


def _command_paths(group: Any, prefix: list[str]) -> list[list[str]]:
    paths: list[list[str]] = []
    ctx = typer.Context(group)  # the root imports each command's module on get_command
    for name in sorted(group.list_commands(ctx)):
        command = group.get_command(ctx, name)
        if hasattr(command, "commands"):
            paths += _command_paths(command, [*prefix, name])
        else:
            paths.append([*prefix, name])
    return paths


COMMANDS = _command_paths(typer.main.get_command(app), [])


def test_the_command_tree_is_walked() -> None:
    assert ["import"] in COMMANDS and ["members", "merge"] in COMMANDS and len(COMMANDS) >= 15


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    out = run(*command, "--help")
    assert "Example" in out


def test_top_level_help_lists_every_command() -> None:
    out = run("--help")
    for name in (
        "init",
        "import",
        "simulate",
        "status",
        "export",
        "members",
        "metrics",
        "review",
        "sop",
        "tasks",
        "run",
    ):
        assert name in out


def test_import_me_makes_you_the_exporter(root: Path, tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp Chat with Walkers.txt"
    chat.write_text(
        "01/02/2024, 09:00 - You joined using this group's invite link\n"
        "01/02/2024, 09:01 - Mei Lin: hello\n"
    )
    run("import", str(chat), "--me", "Mei Lin", "-w", str(root))
    ws = Workspace.open(root)
    with read_transaction(ws.engine) as conn:
        persons = dict(conn.execute(select(members.c.key, members.c.person)).all())
    assert persons == {"whatsapp:You": "whatsapp:Mei Lin", "whatsapp:Mei Lin": "whatsapp:Mei Lin"}


def test_serve_refuses_a_port_out_of_range(root: Path) -> None:
    # Was uvicorn's OverflowError traceback after the app was built.
    result = runner.invoke(app, ["serve", "--port", "70000", "-w", str(root)])
    assert result.exit_code == 2 and "--port" in result.output
    assert "65535" in result.output
