"""Activity use cases that write: a follow-up task for every low feedback score.

Reading is read-only; `follow_up_low_scores` is the one writer: an operator task (an
outbox row of kind `create_task`, key `activity|<name>|feedback|<member>`) per low score,
so running it twice queues nothing new and the dispatcher makes the tasks as for any
playbook step.
"""

from __future__ import annotations

from shequn.activities.listing import DAY, report
from shequn.clock import Clock, SystemClock, to_micros
from shequn.services import audit
from shequn.services.sop_decisions import decision_events
from shequn.sop import journal, outbox
from shequn.sop.kinds import TASK
from shequn.store.engine import write_transaction
from shequn.workspace import Workspace


def follow_up_low_scores(ws: Workspace, name: str, clock: Clock | None = None) -> int:
    """Queue an operator task for the activity's owner per low score; the number queued."""
    clock = clock or SystemClock()
    found = report(ws, name)
    activity = found.activity
    now = to_micros(clock.now())
    rows = [
        outbox.row(
            key=f"activity|{activity.name}|feedback|{member}",
            playbook=f"activity-{activity.name}",
            step="feedback-follow-up",
            community=activity.community,
            target=member,
            platform=TASK,
            action="create_task",
            payload={
                "owner": activity.owner,
                "member": member,
                "emergency": {"do": "call them", "alert": activity.owner},
                "title": f"{activity.title}: follow up a score of {score:g} from {member}",
                "text": comment,
                "task_due_ts": now + DAY,
            },
            due_ts=now,
            now=now,
        )
        for member, score, comment in found.low
    ]
    with write_transaction(ws.engine) as conn:
        new = outbox.enqueue(conn, rows)
        journal.record(conn, [e for row in new for e in decision_events(row, now)])
        if new:
            audit.record(conn, clock, "activity_follow_up", activity=name, queued=len(new))
    return len(new)
