"""Renderers of the review: terminal, Markdown, HTML (self-contained) and Excel."""

from __future__ import annotations

from shequn.review.build import Review

FORMATS = ("terminal", "md", "html", "xlsx")


def render(review: Review, fmt: str) -> str | bytes:
    """The review in a file format: md and html give text, xlsx gives bytes.

    Raises:
        ValueError: for "terminal" (print it with `terminal.print_review`) or an unknown one.
    """
    if fmt == "md":
        from shequn.reports.markdown import render_markdown

        return render_markdown(review)
    if fmt == "html":
        from shequn.reports.html import render_html

        return render_html(review)
    if fmt == "xlsx":
        from shequn.reports.xlsx import render_xlsx

        return render_xlsx(review)
    raise ValueError(f"no file renderer for {fmt!r}; use one of md, html, xlsx")
