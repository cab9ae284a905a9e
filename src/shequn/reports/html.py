"""The review as ONE self-contained HTML file: tables, and charts with ECharts inlined.

ECharts is installed from npm at build time (`make assets` runs scripts/fetch-assets.sh)
into `shequn/reports/vendor/`; it is never loaded from a CDN. Templates render in
Jinja2's sandbox with autoescaping, so community and member text cannot inject markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from shequn.errors import ShequnError
from shequn.reports.tables import heading, sections
from shequn.review.build import Review, as_float, attainment
from shequn.review.i18n import t

HERE = Path(__file__).parent
ECHARTS = HERE / "vendor" / "echarts.min.js"
_ENV = SandboxedEnvironment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


def load_echarts(path: Path = ECHARTS) -> str:
    """The ECharts bundle to inline.

    Raises:
        ShequnError: naming `make assets` when the bundle has not been fetched.
    """
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ShequnError(
            f"the HTML report needs Apache ECharts at {path}, which is missing",
            hint="run `make assets` (scripts/fetch-assets.sh installs it from npm)",
        ) from None


def _pct(value: Any) -> float | None:
    number = as_float(value)
    return None if number is None else round(number * 100, 1)


def chart_data(review: Review) -> dict[str, dict[str, Any]]:
    """The series the charts draw (percent values), keyed by section."""
    lang = review.lang
    stages = review.funnel.stages
    charts: dict[str, dict[str, Any]] = {
        "funnel": {
            "title": t(lang, "chart.funnel"),
            "labels": [t(lang, f"stage.{s.key}") for s in stages],
            "series": [
                {"name": t(lang, "chart.current"), "data": [_pct(s.actual) for s in stages]},
                {"name": t(lang, "chart.previous"), "data": [_pct(s.previous) for s in stages]},
                {
                    "name": t(lang, "chart.target"),
                    "type": "scatter",
                    "data": [_pct(s.target) for s in stages],
                },
            ],
        }
    }
    judged = [r for r in review.goals if attainment(r) is not None]
    if judged:
        charts["goals"] = {
            "title": t(lang, "chart.goals"),
            "labels": [r.goal.text for r in judged],
            "series": [
                {
                    "name": t(lang, "chart.current"),
                    "data": [_pct(attainment(r)) for r in judged],
                    "markLine": 100,
                }
            ],
        }
    return charts


def render_html(review: Review, echarts_js: str | None = None) -> str:
    """The review as one HTML document.

    Args:
        review: the review.
        echarts_js: the ECharts bundle (default: the fetched vendor file).
    """
    script = load_echarts() if echarts_js is None else echarts_js
    title, compared = heading(review)
    return _ENV.get_template("review.html.j2").render(
        html_lang="zh-CN" if review.lang == "zh_CN" else "en",
        title=title,
        compared=compared,
        tables=sections(review),
        charts=chart_data(review),
        generated=t(review.lang, "generated"),
        # Trusted bundle from npm; "</" is split so it can never close the script element.
        echarts=Markup(script.replace("</", "<\\/")),
    )
