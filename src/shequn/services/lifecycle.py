"""Lifecycle use cases that write: an operator moves a community to a stage."""

from __future__ import annotations

from typing import Any

from shequn.clock import Clock, to_micros
from shequn.errors import InputError
from shequn.services import audit
from shequn.sop import journal
from shequn.sop.lifecycle import created, known_communities, stage_row
from shequn.sop.model import STAGES
from shequn.sop.positions import positions, save
from shequn.store.engine import write_transaction
from shequn.workspace import Workspace


def set_stage(ws: Workspace, clock: Clock, community: str, stage: str, reason: str) -> dict:
    """An operator moves a community to any stage (audited; a stage_entered event).

    Raises:
        InputError: an unknown stage or community, or an empty reason.
    """
    if stage not in STAGES:
        raise InputError(
            f"unknown stage {stage!r}", field="STAGE", hint=f"use one of {', '.join(STAGES)}"
        )
    if not reason.strip():
        raise InputError(
            "a stage change needs a reason", field="--reason", hint='add --reason "why"'
        )
    now = to_micros(clock.now())
    with write_transaction(ws.engine) as conn:
        known = known_communities(conn, ws.settings)
        if community not in known:
            raise InputError(
                f"no community {community!r}",
                field="KEY",
                hint=f"use one of {', '.join(sorted(known))}"
                if known
                else "import its events or add it to shequn.toml first",
            )
        found = positions(conn)
        rows: list[dict[str, Any]] = []
        if community not in found:
            found[community], rows = created(community, known[community], now)
        was = found[community].stage
        by = audit.actor()
        rows.append(stage_row(community, found[community], stage, now, reason, by=by))
        journal.record(conn, rows)
        save(conn, found)
        audit.record(
            conn, clock, "lifecycle_set", community=community, stage=stage, was=was, reason=reason
        )
    return {"community": community, "from": was, "stage": stage}
