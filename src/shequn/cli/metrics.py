"""`shequn metrics`: every figure of docs/metrics.md for a period, as a table or JSON."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any

import msgspec
import typer
from rich.table import Table

from shequn.cli.options import WorkspaceOpt
from shequn.cli.output import console, synced
from shequn.errors import InputError
from shequn.periods import parse_day
from shequn.workspace import Workspace

_JSON = msgspec.json.Encoder(decimal_format="number")


def _parse_day(value: str | None, option: str) -> date | None:
    return parse_day(value, option) if value else None


def last_covered_month(last_day: date) -> tuple[date, date]:
    """The latest calendar month that the data covers to its end (`last_day` its last day).

    Not the review's default period (`periods.last_full_month`: the month before
    today's), which does not look at the data.
    """
    month_start = last_day.replace(day=1)
    if (last_day + timedelta(days=1)).day == 1:
        return month_start, last_day + timedelta(days=1)
    previous = (month_start - timedelta(days=1)).replace(day=1)
    return previous, month_start


def _period(ws: Workspace, start: date | None, end: date | None) -> tuple[date, date]:
    from shequn.analytics.engine import data_days

    if start is None and end is None:
        span = data_days(ws)
        if span is None:
            raise InputError(
                "the workspace holds no events",
                hint="import an export first (`shequn import FILE`) or run `shequn simulate`",
            )
        return last_covered_month(span[1])
    if start is None:
        assert end is not None
        start = (end - timedelta(days=1)).replace(day=1)
    if end is None:
        end = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
    return start, end


def _shown(metric: Any, value: Any, currency: str) -> str:
    if value is None:
        return "-"
    if metric.kind == "table":
        return _breakdown(metric.name, value)
    if metric.kind == "money":
        return f"{Decimal(value):,.2f} {currency}"
    if metric.kind == "ratio":
        return f"{value:.1%}" if metric.percent else f"{value:,.2f}"
    return f"{value:,}"


def _breakdown(name: str, value: dict[str, Any], limit: int = 6) -> str:
    lines = []
    for key, item in list(value.items())[:limit]:
        if name == "by_channel":
            rate = item["traffic_conversion"]
            shown = "-" if rate is None else f"{rate:.1%}"
            lines.append(f"{key}: {item['visits']:,}→{item['channel_joins']:,} {shown}")
        else:
            lines.append(f"{key}: {'-' if item is None else f'{item:.1%}'}")
    if len(value) > limit:
        lines.append(f"… +{len(value) - limit}")
    return "\n".join(lines)


def metrics(
    community: Annotated[
        str, typer.Option("--community", "-c", help="Only this community (default: all and *).")
    ] = "",
    from_: Annotated[
        str | None, typer.Option("--from", help="First local day, e.g. 2026-10-01.")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="The local day after the last one (exclusive).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the contract's JSON.")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Every metric of docs/metrics.md for a period, per community and for the workspace (*).

    Dates are local (the workspace time zone); --to is exclusive. Without dates: the
    last full calendar month in the data. Ratios with nothing to divide by show "-"
    (null in JSON).

    Examples:

        shequn metrics

        shequn metrics --from 2026-10-01 --to 2026-11-01 --community book-club

        shequn metrics --json | jq '."*".active_rate'
    """
    from shequn.analytics.engine import compute
    from shequn.domain.metrics import METRICS

    ws = Workspace.open(workspace)
    synced(ws)
    start, end = _period(ws, _parse_day(from_, "--from"), _parse_day(to, "--to"))
    figures = compute(ws, start, end)
    if community:
        if community not in figures or community == "*":
            known = ", ".join(k for k in figures if k != "*") or "none"
            raise InputError(
                f"no community {community!r} in the log",
                field="--community",
                hint=f"use one of: {known}",
            )
        figures = {community: figures[community]}
    if as_json:
        sys.stdout.write(_JSON.encode(figures).decode() + "\n")
        return
    table = Table("指标 metric", *figures, title=f"{ws.settings.name}: {start} – {end} (excl.)")
    currency = ws.settings.currency
    for metric in METRICS:
        label = f"{metric.label} {metric.english}"
        table.add_row(label, *(_shown(metric, f[metric.name], currency) for f in figures.values()))
    console.print(table)
    from shequn.cli.bot import print_figures

    print_figures(ws, start, end, list(figures))  # the bot's actions (docs/bot.md)
