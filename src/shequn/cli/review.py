"""`shequn review`: the review (复盘) of a community or the whole workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shequn.cli.options import WorkspaceOpt
from shequn.cli.output import STDOUT, console, synced, to_stdout, write_stdout
from shequn.errors import InputError
from shequn.registry import one_of
from shequn.reports import FORMATS, RENDERERS, TERMINAL, Renderer, by_suffix, formats_text


def output_format(fmt: str, out: Path | None) -> Renderer | None:
    """The file renderer the options ask for; None for the terminal.

    With the default ``--format terminal``, an ``--out`` file's suffix chooses.

    Raises:
        InputError: for an unknown format, or an --out suffix that names none.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}", field="--format", hint=f"use {formats_text()}")
    if fmt == TERMINAL and out is not None and out != STDOUT:
        renderer = by_suffix(out.suffix)
        if renderer is None:
            extensions = one_of(r.extension for r in RENDERERS.values())
            raise InputError(
                f"cannot tell the format of {out.name}",
                field="--out",
                hint=f"name it {extensions}, or pass --format",
            )
        return renderer
    return RENDERERS.get(fmt)


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
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"{formats_text()}.")] = TERMINAL,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output file (html and xlsx default to review-*.*; - prints any format).",
        ),
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
    from shequn.reports.terminal import print_review
    from shequn.review.run import review_workspace
    from shequn.workspace import Workspace

    renderer = output_format(fmt, out)
    ws = Workspace.open(workspace)
    try:
        synced(ws)
        result = review_workspace(
            ws, community=community or None, period=period or None, lang=lang or None
        )
    finally:
        ws.close()
    if renderer is None:
        print_review(result, console)
        return
    name = f"review-{community or 'all'}-{result.period.label}{renderer.extension}"
    _emit(renderer.render(result), renderer, out, Path(name))


def _emit(body: str | bytes, renderer: Renderer, out: Path | None, default: Path) -> None:
    """Write the rendered review: to `out`, to standard output (`-o -`, or a text
    format meant to be piped when no `--out` is given), else to `default`."""
    binary = renderer.name if isinstance(body, bytes) else ""
    if to_stdout(out, binary) or (out is None and renderer.stdout and not binary):
        write_stdout(body)
        return
    target = out or default
    if isinstance(body, bytes):
        target.write_bytes(body)
    else:
        target.write_text(body, encoding="utf-8")
    console.print(f"Wrote {target}")
