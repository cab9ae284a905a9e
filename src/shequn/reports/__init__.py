"""Renderers of the review: terminal, Markdown, HTML (self-contained) and Excel.

Each file format is one `Renderer` in `RENDERERS`; adding a format is one module with a
``render_*(review) -> str | bytes`` function and one line here. The terminal is not a
file format: `terminal.print_review` prints the same sections to a Rich console.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shequn.registry import load, one_of

if TYPE_CHECKING:
    from shequn.review.build import Review

TERMINAL = "terminal"


@dataclass(frozen=True)
class Renderer:
    """A file format of the review.

    Attributes:
        name: the ``--format`` value.
        extension: of the file written when no ``--out`` is given.
        suffixes: file suffixes read as this format when ``--out`` names the file.
        writer: ``module:function`` of the render function, imported on first use.
        stdout: printed to standard output when no ``--out`` is given (a text format
            meant to be piped), instead of written to a file.
    """

    name: str
    extension: str
    suffixes: tuple[str, ...]
    writer: str
    stdout: bool = False

    def render(self, review: Review) -> str | bytes:
        """The review in this format: text, or bytes for a binary format."""
        result: str | bytes = load(self.writer)(review)
        return result


RENDERERS: dict[str, Renderer] = {
    r.name: r
    for r in (
        Renderer(
            "md",
            ".md",
            (".md", ".markdown"),
            "shequn.reports.markdown:render_markdown",
            stdout=True,
        ),
        Renderer("html", ".html", (".html", ".htm"), "shequn.reports.html:render_html"),
        Renderer("xlsx", ".xlsx", (".xlsx",), "shequn.reports.xlsx:render_xlsx"),
    )
}
FORMATS: tuple[str, ...] = (TERMINAL, *RENDERERS)


def formats_text() -> str:
    """The ``--format`` choices as a person writes them: ``terminal, md, html or xlsx``."""
    return one_of(FORMATS)


def by_suffix(suffix: str) -> Renderer | None:
    """The renderer whose files end in `suffix` (any case), or None."""
    wanted = suffix.lower()
    return next((r for r in RENDERERS.values() if wanted in r.suffixes), None)


def render(review: Review, fmt: str) -> str | bytes:
    """The review in a file format: md and html give text, xlsx gives bytes.

    Raises:
        ValueError: for "terminal" (print it with `terminal.print_review`) or an unknown one.
    """
    if fmt not in RENDERERS:
        raise ValueError(f"no file renderer for {fmt!r}; use one of {', '.join(RENDERERS)}")
    return RENDERERS[fmt].render(review)
