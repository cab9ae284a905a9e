"""The members section of the review as a table (every renderer shows it)."""

from __future__ import annotations

from shequn.reports.tables import Cell, Table
from shequn.review.build import Review
from shequn.review.i18n import t


def member_flow_table(review: Review) -> Table:
    """From → to counts of lifecycle-state changes in the period."""
    lang = review.lang
    cols = [t(lang, f"col.{c}") for c in ("from_state", "to_state", "members")]
    table = Table("member_flow", t(lang, "section.member_flow"), cols)
    table.note = t(lang, "member_flow.rule")
    for flow in review.member_flow:
        table.rows.append(
            [
                Cell(flow.source or t(lang, "member_flow.first")),
                Cell(flow.target),
                Cell(f"{flow.count:,}", flow.count, "#,##0"),
            ]
        )
    if not review.member_flow:
        table.note += " " + t(lang, "member_flow.none")
    return table
