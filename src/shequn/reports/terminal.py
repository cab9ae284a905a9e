"""The review in the terminal: Rich tables, one per section."""

from __future__ import annotations

from rich.console import Console
from rich.table import Column
from rich.table import Table as RichTable
from rich.text import Text

from shequn.reports.tables import heading, sections
from shequn.review.build import Review


def print_review(review: Review, console: Console) -> None:
    """Print every section of the review to `console`. Every text is a `Text`, which a
    console never reads markup or emoji codes in: member text is shown as written."""
    title, compared = heading(review)
    console.print(Text(title, style="bold"))
    console.print(Text(compared, style="dim"))
    for table in sections(review):
        console.print()
        console.print(Text(table.title, style="bold"))
        if table.key == "funnel" and table.note:
            console.print(Text(table.note, style="yellow"))
        if table.rows:
            out = RichTable(*[Column(Text(c)) for c in table.columns])
            for row in table.rows:
                out.add_row(*[Text(c.text) for c in row])
            console.print(out)
        if table.key != "funnel" and table.note:
            console.print(Text(table.note))
