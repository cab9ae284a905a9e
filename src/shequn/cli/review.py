"""`shequn review`: the review (复盘) of a community or the whole workspace.

The lead registers it in cli.py with `app.command()(review)`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from shequn.cli_options import WorkspaceOpt
from shequn.errors import InputError

console = Console(soft_wrap=True)
SUFFIXES = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".xlsx": "xlsx"}


def _format(fmt: str, out: Path | None) -> str:
    if fmt not in ("terminal", "md", "html", "xlsx"):
        raise InputError(
            f"unknown format {fmt!r}", field="--format", hint="use terminal, md, html or xlsx"
        )
    if fmt == "terminal" and out is not None:
        if out.suffix.lower() not in SUFFIXES:
            raise InputError(
                f"cannot tell the format of {out.name}",
                field="--out",
                hint="name it .md, .html or .xlsx, or pass --format",
            )
        return SUFFIXES[out.suffix.lower()]
    return fmt


def review(
    community: Annotated[
        str, typer.Option("--community", "-c", help="Community key (default: all communities).")
    ] = "",
    period: Annotated[
        str,
        typer.Option(
            help="2026-10 (month), 2026-W43 (ISO week) or 2026-10-01..2026-10-15 (end "
            "exclusive). Default: the last full month."
        ),
    ] = "",
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="terminal, md, html or xlsx.")
    ] = "terminal",
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output file (html and xlsx default to review-*.*)."),
    ] = None,
    lang: Annotated[
        str, typer.Option(help="zh_CN or en (default: the workspace's language).")
    ] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Review (复盘) goals against actuals: funnel, drivers, suggested actions, replication.

    Examples:

        shequn review --period 2026-10

        shequn review -c tea-shop --period 2026-10 --format html -o review.html

        shequn review --format xlsx --lang en
    """
    from shequn.reports import render
    from shequn.reports.terminal import print_review
    from shequn.review.run import review_workspace
    from shequn.workspace import Workspace

    kind = _format(fmt, out)
    ws = Workspace.open(workspace)
    try:
        result = review_workspace(
            ws, community=community or None, period=period or None, lang=lang or None
        )
    finally:
        ws.close()
    if kind == "terminal":
        print_review(result, console)
        return
    body = render(result, kind)
    if out is None and kind == "md":
        sys.stdout.write(str(body))
        return
    target = out or Path(f"review-{community or 'all'}-{result.period.label}.{kind}")
    if isinstance(body, bytes):
        target.write_bytes(body)
    else:
        target.write_text(body, encoding="utf-8")
    console.print(f"Wrote {target}")
