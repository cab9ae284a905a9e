"""The CLI imports a command's module only when it runs (cli/lazy.py, docs/performance.md).

Each check runs a fresh `python` and asks which modules it imported: in this process
the other tests have imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from shequn.cli.app import COMMANDS, app
from tests.helpers.process import child_env

# Heavy, and needed by none of the checked runs (sklearn only to refit the churn model).
HEAVY = ("alembic", "pandas", "sklearn", "scipy", "jieba", "igraph", "jinja2", "fastapi")
# Loading any command module imports the store: none of these for --help.
STORE = ("sqlalchemy", "pydantic", "polars", "duckdb", "pyarrow", "shequn.workspace")
# Run `shequn ARGS` as `python -m shequn` does, then print what it imported.
RUN = """
import json, sys
from shequn.cli import main
sys.argv = ["shequn", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("shequn", *{names}))))
"""


def imported_by(*args: str, names: tuple[str, ...] = HEAVY + STORE) -> list[str]:
    """The modules of `names` and of shequn that `shequn ARGS` imports, in a new process."""
    code = RUN.format(names=repr(names))
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(args)],
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.splitlines()[-1])


def _cli_modules(modules: list[str]) -> set[str]:
    return {m for m in modules if m.startswith("shequn.cli.")}


def test_importing_the_app_imports_no_command_and_nothing_heavy() -> None:
    names = HEAVY + STORE
    code = f"import sys, shequn.cli.app; print(sorted(m for m in {names!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_top_level_help_imports_no_command_module() -> None:
    modules = imported_by("--help")
    core = {"shequn.cli.app", "shequn.cli.collector", "shequn.cli.lazy", "shequn.cli.output"}
    assert _cli_modules(modules) == core
    assert [m for m in modules if not m.startswith("shequn")] == []


def test_members_refresh_help_imports_the_members_commands_only() -> None:
    modules = imported_by("members", "refresh", "--help")
    assert _cli_modules(modules) == {
        "shequn.cli.app",
        "shequn.cli.collector",
        "shequn.cli.lazy",
        "shequn.cli.output",
        "shequn.cli.options",
        "shequn.cli.members",
        "shequn.cli.profiles",
        "shequn.cli.findings",
        "shequn.cli.member_views",
    }
    assert {m.split(".")[0] for m in modules} & set(HEAVY) == set()


def test_top_level_help_lists_every_command_with_its_line() -> None:
    out = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    for entry in COMMANDS:
        line = next(x for x in out.splitlines() if x.strip("│ ").startswith(entry.name + " "))
        assert " ".join(line.strip("│ ").split()) == f"{entry.name} {entry.help}".replace("`", "")


def test_each_line_is_the_commands_own_help() -> None:
    root = typer.main.get_command(app)
    ctx = typer.Context(root)
    for entry in COMMANDS:
        command = root.get_command(ctx, entry.name)
        assert command is not None and command.help is not None, entry.name
        assert " ".join(command.help.split("\n\n")[0].split()) == entry.help, entry.name


def test_a_mistyped_command_is_suggested_among_all() -> None:
    result = CliRunner().invoke(app, ["membrs"])
    assert result.exit_code == 2
    assert "No such command 'membrs'. Did you mean 'members', 'metrics'?" in result.output


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lazy") / "ws"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    simulated = runner.invoke(
        app, ["simulate", "-w", str(root), "--events", "2000", "--days", "30"]
    )
    assert simulated.exit_code == 0, simulated.output
    first = runner.invoke(app, ["members", "refresh", "-w", str(root)])
    assert "state changes" in first.output, first.output  # the next one finds the copy made
    return root


@pytest.mark.parametrize("new_events", [False, True], ids=["nothing new", "new events"])
def test_a_refresh_imports_nothing_it_does_not_use(
    workspace: Path, tmp_path: Path, new_events: bool
) -> None:
    if new_events:  # the sync reads them through the engine (a small range)
        from shequn.domain.events import CANONICAL_FIELDS

        rows = [f"2026-01-0{d}T09:00:00Z,club,wx:n{d},message" for d in (1, 2)]
        blanks = "," * (len(CANONICAL_FIELDS) - 4)
        log = tmp_path / "more.csv"
        log.write_text(",".join(CANONICAL_FIELDS) + "\n" + "".join(f"{r}{blanks}\n" for r in rows))
        done = CliRunner().invoke(app, ["import", str(log), "-w", str(workspace)])
        assert done.exit_code == 0, done.output
    modules = imported_by("members", "refresh", "-w", str(workspace))
    assert "shequn.members.profiles" in modules  # it did refresh
    # pandas included: pyarrow imports it (~0.3 s) when handed Python values and pandas is
    # installed (the dev extra has it), so the sync makes its strings with Polars
    # (shequn.analytics.arrows). The new rows hold empty text fields (`_text`'s NULLs).
    assert {m.split(".")[0] for m in modules} & set(HEAVY) == set()
