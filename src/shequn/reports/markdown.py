"""The review as Markdown (also the body of the terminal output's plain form)."""

from __future__ import annotations

from shequn.reports.tables import Table, heading, sections
from shequn.review.build import Review


def _escape(text: str) -> str:
    """Keep member- and community-written text from breaking the table or adding markup."""
    out = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    return out.replace("<", "&lt;").replace(">", "&gt;")


def _table(table: Table) -> list[str]:
    lines = [f"## {table.title}", ""]
    if table.key in ("funnel",) and table.note:
        lines += [f"**{_escape(table.note)}**", ""]
    if table.rows:
        lines.append("| " + " | ".join(_escape(c) for c in table.columns) + " |")
        lines.append("|" + "|".join("---" for _ in table.columns) + "|")
        for row in table.rows:
            lines.append("| " + " | ".join(_escape(c.text) for c in row) + " |")
        lines.append("")
    if table.key != "funnel" and table.note:
        lines += [_escape(table.note), ""]
    return lines


def render_markdown(review: Review) -> str:
    """The whole review as one Markdown document."""
    title, compared = heading(review)
    lines = [f"# {_escape(title)}", "", f"_{_escape(compared)}_", ""]
    for table in sections(review):
        lines += _table(table)
    return "\n".join(lines).rstrip() + "\n"
