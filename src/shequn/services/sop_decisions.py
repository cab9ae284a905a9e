"""What a tick records for the rows it queues: the decision events (`sop_action_due`,
`sop_action_missed`, `action_dead`, `experiment_assigned`) and the emergency alerts of
rows dead at render time. Written in the transaction that queues the rows."""

from __future__ import annotations

from typing import Any

from shequn.config import Settings
from shequn.sop import alerts, journal
from shequn.sop.outbox import OutboxRow
from shequn.store.sop_schema import DEAD, HELD, MISSED


def decision_events(row: OutboxRow, now: int) -> list[dict[str, Any]]:
    """The events of a queued row: its experiment arm (if any), then the decision.

    A member's arm is recorded whatever becomes of the row (intent to treat); a member
    held out gets no decision event: nothing was due to them.
    """
    data = row.data()
    found = []
    if "experiment" in data:
        found.append(
            journal.entry(
                "experiment_assigned",
                row.due_ts,
                row.community,
                row.key,
                member=data["member"],
                text=data["arm"],
                experiment=data["experiment"],
                playbook=row.playbook,
                step=row.step,
                due_ts=row.due_ts,
            )
        )
    if row.state != HELD:
        found.append(_decision(row, data, now))
    return found


def _decision(row: OutboxRow, data: dict[str, Any], now: int) -> dict[str, Any]:
    """The event of a queued row: due, missed (past the grace) or dead (did not render)."""
    common: dict[str, Any] = {"member": data.get("member"), "due_ts": row.due_ts}
    if row.state == MISSED:
        return journal.entry(
            "sop_action_missed", now, row.community, row.key, reason=row.reason, **common
        )
    if row.state == DEAD:
        return journal.entry(
            "action_dead", now, row.community, row.key, reason=row.reason, **common
        )
    return journal.entry(
        "sop_action_due",
        now,
        row.community,
        row.key,
        playbook=row.playbook,
        step=row.step,
        late=row.late,
        **common,
    )


def emergencies(settings: Settings, new: list[OutboxRow], now: int) -> list[OutboxRow]:
    """Alerts for rows dead at the tick (a template or content item failed)."""
    found = []
    for row in new:
        if row.state == DEAD:
            alert = alerts.emergency_row(settings, row, row.data(), row.reason or "", now)
            if alert is not None:
                found.append(alert)
    return found
