"""Tagging members by hand (the console's bulk tag), through the SOP state actions.

A hand-made tag is the same `tag` state action a playbook step runs (`sop.state`), so
the member's tags replay the same way whoever added them; each is audited.
"""

from __future__ import annotations

import json

from shequn.clock import Clock, SystemClock, to_micros
from shequn.errors import InputError
from shequn.services import audit
from shequn.sop import state
from shequn.sop.outbox import OutboxRow
from shequn.store import members as store
from shequn.store.engine import write_transaction
from shequn.workspace import Workspace

MAX_TAG_LENGTH = 64


def tag_members(
    ws: Workspace,
    keys: list[str],
    tag: str,
    *,
    community: str,
    remove: bool = False,
    clock: Clock | None = None,
) -> int:
    """Add (or remove) a tag on members in one transaction; how many changed.

    Raises:
        InputError: an empty or long tag, no members, or an unknown member key.
    """
    clock = clock or SystemClock()
    tag = tag.strip()
    if not tag or len(tag) > MAX_TAG_LENGTH:
        raise InputError("a tag needs 1 to 64 characters", field="tag", hint="e.g. 高意向")
    if not keys:
        raise InputError("no members chosen", field="members", hint="tick some members first")
    now = to_micros(clock.now())
    verb = "untag" if remove else "tag"
    with write_transaction(ws.engine) as conn:
        unknown = sorted(set(keys) - set(store.find(conn, keys)))
        if unknown:
            raise InputError(
                f"unknown member {unknown[0]!r}", field="members", hint="reload the member list"
            )
        changed = 0
        for key in keys:
            # Not stored: the state action runs at once, as the dispatcher runs a row.
            action = OutboxRow(
                key=f"console|{verb}|{tag}|{key}|{now}",
                playbook="console",
                step=verb,
                community=community,
                target=key,
                platform=state.PLATFORM,
                action=verb,
                payload=json.dumps({"member": key, "tag": tag}, ensure_ascii=False),
                due_ts=now,
                state="sent",
                late=False,
                attempts=0,
                next_ts=now,
                reason=None,
                created_ts=now,
            )
            changed += len(state.execute(conn, action, now, ws.settings))
        audit.record(conn, clock, f"members.{verb}", tag=tag, members=keys, changed=changed)
    return changed
