"""The review in the terminal: Rich tables, one per section."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from shequn.reports.tables import heading, sections
from shequn.review.build import Review


def print_review(review: Review, console: Console) -> None:
    """Print every section of the review to `console` (member text is never markup)."""
    title, compared = heading(review)
    console.print(f"[bold]{escape(title)}[/]")
    console.print(escape(compared), style="dim")
    for table in sections(review):
        console.print()
        console.print(f"[bold]{escape(table.title)}[/]")
        if table.key == "funnel" and table.note:
            console.print(escape(table.note), style="yellow")
        if table.rows:
            out = RichTable(*[escape(c) for c in table.columns])
            for row in table.rows:
                out.add_row(*[escape(c.text) for c in row])
            console.print(out)
        if table.key != "funnel" and table.note:
            console.print(escape(table.note))
