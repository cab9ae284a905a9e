"""Actions executed inside the store (tag, untag, add points, start an activity: the
kinds routed to `state`, each with its executor in `sop.action_kinds`).

They have no external delivery: the dispatcher runs them in the transaction that
records its outcomes (the `state` platform), so each happens exactly once with the
outbox row marked sent. Tags and points are not kept in a table of their own: a
member's tags and points are a replay of their `tag_*` and `points_added` events.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, literal_column, select

from shequn.config import Settings
from shequn.sop import journal, kinds
from shequn.sop.outbox import OutboxRow
from shequn.store.schema import events

PLATFORM = kinds.STATE
# Written inline (not as a parameter) so SQLite matches the partial index of migration 0003.
_SOP: ColumnElement[str] = literal_column(f"'{journal.SOURCE}'")


def member_tags(conn: Connection, member: str) -> set[str]:
    """The member's current tags: their tag_added / tag_removed events replayed in order."""
    return _replayed(conn, events.c.text, events.c.member == member)


def tag_holders(conn: Connection, tag: str) -> set[str]:
    """The member keys holding `tag` now (the same replay, by tag)."""
    return _replayed(conn, events.c.member, events.c.text == tag)


def _replayed(conn: Connection, kept: ColumnElement[str], where: ColumnElement[bool]) -> set[str]:
    """`kept` of the tag events matching `where`, added and removed in event order."""
    query = (
        select(events.c.type, kept)
        .where(events.c.source == _SOP, where, events.c.type.in_(("tag_added", "tag_removed")))
        .order_by(events.c.ts, events.c.id)
    )
    held: set[str] = set()
    for kind, value in conn.execute(query):
        (held.add if kind == "tag_added" else held.discard)(value)
    return held


def member_points(conn: Connection, member: str) -> int:
    """The member's points: the sum of their points_added events."""
    query = select(events.c.amount).where(
        events.c.source == _SOP,
        events.c.member == member,
        events.c.type == "points_added",
    )
    return sum(int(amount) for amount in conn.scalars(query))


def execute(conn: Connection, row: OutboxRow, now: int, settings: Settings) -> kinds.Events:
    """Run one state action and record its events; the events recorded.

    Rows of one batch run one after another in one transaction, so a member's second
    add_points of a batch sees the first one's total.
    """
    execute_kind = kinds.get(row.action).execute
    if execute_kind is None:
        raise ValueError(f"action kind {row.action!r} is not executed in the store")
    found = execute_kind(conn, row, row.data(), now, settings)
    journal.record(conn, found)
    return found
