"""A tick: read what the playbooks need (sop.recent), evaluate them in one pass, build
outbox rows (rendered outside the store: see `outbox_rows`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from sqlalchemy import Connection

from shequn.config import Community, Settings
from shequn.sop import experiments, kinds, outbox
from shequn.sop.communities import known_communities
from shequn.sop.evaluate import Window, communities_of, due_steps
from shequn.sop.kinds import Context
from shequn.sop.model import Playbook, Step
from shequn.sop.outbox import OutboxRow
from shequn.sop.recent import RecentEvents
from shequn.sop.render import RenderError, variables
from shequn.store import members
from shequn.store.sop_schema import DEAD, HELD, MISSED, PENDING

if TYPE_CHECKING:  # sop.lifecycle pulls in the analytics: only a tick needs it
    from shequn.sop.lifecycle import Lifecycle

MINUTE = 60_000_000
_MISSED_REASON = "older than the grace when the engine came back"


@dataclass(frozen=True)
class Timing:
    """When a due action is late (sent, marked late) or missed (recorded, never sent)."""

    late_after: int = 5 * MINUTE
    grace: int = 6 * 60 * MINUTE


def scopes(
    conn: Connection,
    settings: Settings,
    playbooks: Sequence[Playbook],
    lifecycle: Lifecycle | None,
) -> dict[str, list[str] | None]:
    """Per playbook, the communities it runs in (None: every one).

    Those its `applies_to` names; and, with the `lifecycle` (`sop.lifecycle.load`), a
    playbook that some lifecycle stage lists as a routine runs only in the communities
    now in a stage that lists it (and in those not yet placed in a stage). Without it
    (a replay of history, whose stages are unknown) stages are left out.
    """
    known = sorted(known_communities(conn, settings))
    templates = {c.key: c.template for c in settings.communities if c.template}
    found = {pb.name: communities_of(pb, known, templates) for pb in playbooks}
    if lifecycle is not None:
        from shequn.sop.lifecycle import routine_scope  # see TYPE_CHECKING above

        for name, allowed in routine_scope(settings, lifecycle, known).items():
            if name in found:
                chosen = found[name]
                found[name] = sorted(allowed & set(known if chosen is None else chosen))
    return found


def evaluate(
    conn: Connection,
    settings: Settings,
    lifecycle: Lifecycle,
    playbooks: Sequence[Playbook],
    window: Window,
    recent: RecentEvents | None = None,
) -> pl.DataFrame:
    """Every step due in the window (see sop.evaluate.due_steps), in the communities
    and lifecycle stages each playbook runs in (`scopes`).

    `recent` is what the engine keeps between ticks (only new events are read);
    without it the tick reads its events afresh.
    """
    scope = scopes(conn, settings, playbooks, lifecycle)
    frames = (recent or RecentEvents()).frames(conn, playbooks, window)
    return due_steps(playbooks, frames, window, settings.timezone, scope)


def due_names(conn: Connection, due: pl.DataFrame) -> dict[str, str | None]:
    """The display names of the due rows' members: all `outbox_rows` reads of the store."""
    return members.names(conn, [m for m in due["member"].unique().to_list() if m is not None])


def outbox_rows(
    settings: Settings,
    playbooks: Sequence[Playbook],
    due: pl.DataFrame,
    names: dict[str, str | None],
    now: int,
    timing: Timing,
    ctx: Context | None = None,
) -> list[OutboxRow]:
    """Outbox rows for the due steps, rendered; missed ones already marked missed.

    A pure function of its arguments (`names` from `due_names`): the engine calls it
    outside any transaction, so a slow template never holds the write lock.
    `ctx` brings the content library (and settings) for rendering; without it a step
    that uses a content item is dead with the reason.
    """
    ctx = ctx or Context(settings)
    by_name = {pb.name: pb for pb in playbooks}
    settings_of = {c.key: c for c in settings.communities}
    rows = []
    exps, assigned = arms(by_name, due)
    for d, exp, arm in zip(due.iter_rows(named=True), exps, assigned, strict=True):
        pb = by_name[d["playbook"]]
        step = next(s for s in pb.steps if s.id == d["step"])
        community = settings_of.get(d["community"]) or Community(key=d["community"])
        if d.get("kind") == "alert":
            rows.append(_alert_row(d, pb, step, community, now, timing, ctx))
            continue
        name = names.get(d["member"])
        rows.append(_row(d, pb, step, community, name, (exp, arm), now, timing, ctx))
    return rows


def _alert_row(
    d: dict[str, Any],
    pb: Playbook,
    step: Step,
    community: Community,
    now: int,
    timing: Timing,
    ctx: Context,
) -> OutboxRow:
    """The alert of a step's emergency plan: its threshold was crossed in a community."""
    emergency = step.emergency
    threshold = emergency.threshold
    assert threshold is not None  # an alert row comes from an emergency's threshold
    bound = threshold.bound if threshold.bound == "goal" else f"{float(threshold.bound):g}"
    text = (
        f"{community.name or community.key}: {threshold.metric} {threshold.op} {bound} "
        f"for {threshold.days} day(s) ({threshold.id}; playbook {pb.name}, step {step.id}). "
        f"Do: {emergency.do}"
    )
    payload = {
        "owner": emergency.alert,
        "emergency": emergency.model_dump(include={"do", "alert"}),
        "member": None,
        "text": text,
        "threshold": threshold.id,
    }
    platform, target = kinds.route("alert_owner", community.platform, emergency.alert, ctx)
    missed = now - d["due_ts"] > timing.grace
    return outbox.row(
        key=d["key"],
        playbook=pb.name,
        step=step.id,
        community=d["community"],
        target=target,
        platform=platform,
        action="alert_owner",
        payload=payload,
        due_ts=d["due_ts"],
        now=now,
        state=MISSED if missed else PENDING,
        late=now - d["due_ts"] > timing.late_after,
        reason=_MISSED_REASON if missed else None,
    )


def arms(playbooks: dict[str, Playbook], due: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per due row (same order), its experiment and arm; None outside experiments.

    Only the rows due now are hashed (a member's arm is never stored: the hash is
    cheaper than reading it back), all experiment steps in one vectorized pass
    (`sop.experiments.assign_rows`).
    """
    names = np.full(due.height, None, dtype=object)
    chosen = np.full(due.height, None, dtype=object)
    steps = [(pb, s) for pb in playbooks.values() for s in pb.steps if s.experiment is not None]
    if due.is_empty() or not steps:
        return names, chosen
    designs = [
        experiments.Design(
            experiments.experiment_id(pb.name, s.id, s.experiment.salt),
            s.holdout_share,
            [v.name for v in s.variants or ()],
        )
        for pb, s in steps
        if s.experiment is not None
    ]
    index = pl.DataFrame(
        {
            "playbook": [pb.name for pb, _ in steps],
            "step": [s.id for _, s in steps],
            "_e": np.arange(len(steps)),
        },
        schema={"playbook": pl.String, "step": pl.String, "_e": pl.Int64},
    )
    rows = (
        due.select("playbook", "step", "member")
        .with_row_index("_i")
        .filter(pl.col("member").is_not_null())
        .join(index, on=["playbook", "step"])
    )
    where, which = rows["_i"].to_numpy(), rows["_e"].to_numpy()
    names[where] = np.array([d.experiment for d in designs], dtype=object)[which]
    chosen[where] = experiments.assign_rows(designs, which, rows["member"])
    return names, chosen


def _action(step: Step, arm: str | None) -> Any:
    """The step's action, with the text of the member's variant when it has one."""
    if step.variants is None or arm is None:
        return step.action
    variant = next(v for v in step.variants if v.name == arm)
    action: Any = step.action  # a TextAction (Step checks variants are on one)
    return action.model_copy(update={"text": variant.text, "content": variant.content})


def _row(
    d: dict[str, Any],
    pb: Playbook,
    step: Step,
    community: Community,
    name: str | None,
    arm: tuple[str | None, str | None],
    now: int,
    timing: Timing,
    ctx: Context,
) -> OutboxRow:
    action = _action(step, arm[1])
    kind = kinds.get(action.type)
    payload: dict[str, Any] = {
        "owner": step.owner,
        "emergency": step.emergency.model_dump(include={"do", "alert"}),
        "member": d["member"],
    }
    if arm[0] is not None:  # an experiment's step (sop.experiments)
        payload.update(experiment=arm[0], arm=arm[1])
    state, reason = PENDING, None
    values = {
        **variables(d["member"], name, community, ctx.recommended.get(d["member"] or "", ())),
        "_due_ts": d["due_ts"],
        "_playbook": pb.name,
        "_step": step.id,
    }
    try:
        payload.update(kind.payload(action, values, ctx))
    except RenderError as exc:
        state, reason = DEAD, f"template: {exc}"
    target = step.owner if kind.target == "owner" else d["target"]
    platform, target = kinds.route(kind.name, community.platform, target, ctx)
    if "announce" in payload:  # start_activity with text: a group message follows it
        payload["announce_platform"] = kinds.route("send_group", community.platform, "", ctx)[0]
    if state == PENDING and now - d["due_ts"] > timing.grace:
        state, reason = MISSED, _MISSED_REASON
    if state == PENDING and arm[1] == experiments.HOLDOUT:
        state, reason = HELD, f"held out by experiment {arm[0]}"
    return outbox.row(
        key=d["key"],
        playbook=pb.name,
        step=step.id,
        community=d["community"],
        target=target,
        platform=platform,
        action=kind.name,
        payload=payload,
        due_ts=d["due_ts"],
        now=now,
        state=state,
        late=now - d["due_ts"] > timing.late_after,
        reason=reason,
    )
