"""Rendering: sandboxed, autoescaped Jinja2 pages, and the same rows as JSON, CSV or XLSX.

Every list page answers `.json`, `.csv` (and `.xlsx` where a spreadsheet helps), as
Datasette does: `rows_response` turns the rows a page shows into the file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse, Response
from jinja2 import FileSystemLoader, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from shequn.spreadsheet import escape
from shequn.web.i18n import translator

TEMPLATES = Path(__file__).with_name("templates")
FORMATS = ("json", "csv", "xlsx")


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["tojson_safe"] = to_json
    env.filters["number"] = number
    env.filters["ratio"] = ratio
    env.filters["figure"] = shown_figure
    env.filters["metric_label"] = metric_label
    return env


def number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}" if isinstance(value, int | float) else str(value)


def ratio(value: Any) -> str:
    return "-" if value is None else f"{float(value):.1%}"


def shown_figure(value: Any, kind: str, percent: bool, currency: str) -> str:
    """A metric value as the CLI shows it: money with the currency, ratios as percent."""
    if value is None:
        return "-"
    if kind == "money":
        return f"{Decimal(value):,.2f} {currency}"
    if kind == "ratio":
        return ratio(value) if percent else f"{float(value):,.2f}"
    return number(value)


def metric_label(name: str, lang: str) -> str:
    """The registry's label of a figure in a language (the name when unknown)."""
    from shequn.domain.metrics import figure

    metric = figure(name)
    return metric.label_in(lang) if metric else name


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | set):
        return list(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def to_json(value: Any) -> str:
    """JSON for a `<script type="application/json">` block: `<`, `>`, `&` escaped so a
    member's text can never close the element."""
    text = json.dumps(value, default=_plain, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


ENV = _environment()


def page(ctx: Any, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """A template rendered for the signed-in user (ctx may be None on the sign-in page)."""
    lang = ctx.lang if ctx is not None else values.pop("lang", "en")
    body = ENV.get_template(template).render(ctx=ctx, _=translator(lang), lang=lang, **values)
    return HTMLResponse(body, status_code=status)


def rows_response(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], fmt: str, name: str
) -> Response:
    """The rows as a download: json (a list of objects), csv or xlsx."""
    if fmt == "json":
        return Response(
            to_json([{c: r.get(c) for c in columns} for r in rows]), media_type="application/json"
        )
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        for r in rows:
            writer.writerow([_cell(r.get(c)) for c in columns])
        return _download(
            out.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8", f"{name}.csv"
        )
    if fmt == "xlsx":
        return _download(
            _xlsx(rows, columns),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"{name}.xlsx",
        )
    raise ValueError(f"unknown format {fmt!r}")


def _cell(value: Any) -> Any:
    """One cell of a CSV or XLSX download: a text is never run as a formula
    (shequn.spreadsheet); a number stays as it is."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    return escape(value) if isinstance(value, str) else str(value)


def _xlsx(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(list(columns))
    for r in rows:
        sheet.append([_cell(r.get(c)) for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
