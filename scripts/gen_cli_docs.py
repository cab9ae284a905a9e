"""Write docs/cli.md from the commands' own --help (a test checks it is current).

python scripts/gen_cli_docs.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
CLI_MD = ROOT / "docs" / "cli.md"
# A fixed terminal, so the text is the same on every machine.
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def _commands(group: Any, prefix: list[str]) -> list[list[str]]:
    found: list[list[str]] = []
    ctx = typer.Context(group)  # the root imports each command's module on get_command
    for name in sorted(group.list_commands(ctx)):
        command = group.get_command(ctx, name)
        path = [*prefix, name]
        if hasattr(command, "commands"):  # a group of subcommands
            found += _commands(command, path)
        else:
            found.append(path)
    return found


def render() -> str:
    from shequn.cli import app

    runner = CliRunner()
    root = typer.main.get_command(app)
    parts = [
        "# Command reference",
        "",
        "Generated from the commands' own `--help` by `python scripts/gen_cli_docs.py`;",
        "a test fails when it is out of date.",
        "",
    ]
    for path in [[], *_commands(root, [])]:
        result = runner.invoke(app, [*path, "--help"], prog_name="shequn", env=ENV)
        title = " ".join(["shequn", *path])
        text = "\n".join(line.rstrip() for line in result.output.strip("\n").splitlines())
        parts += [f"## `{title}`", "", "```text", text, "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    CLI_MD.write_text(render())
    print(f"wrote {CLI_MD}")
