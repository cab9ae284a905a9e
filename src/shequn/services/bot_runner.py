"""The live bot: feed an adapter's events to the decision core and carry out decisions.

For each batch: every event of a bound group is decided on, the state folds the event
and the decision, the decisions are recorded (one transaction, `services.bot.record`),
then the actions run through the adapter (side effects after the commit). A tick every
`tick_seconds` lets time-based decisions happen (unmute, join-question timeouts, the
aggregated raid welcome, the weekly leaderboard). `shequn run` hands it every batch
its live listener has stored (`LiveRun(bots=...)`).

A crash between the commit and the actions loses those actions rather than doing them
twice; messages carry a key the platform can de-duplicate on (Matrix transaction ids).
The runner knows no platform: only the `Adapter` contract of `shequn.platforms.base`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from shequn.activities.loader import files_seen
from shequn.activities.loader import scan as scan_activities
from shequn.bot.core import step
from shequn.bot.decision import (
    Action,
    Ban,
    DecideJoin,
    Decision,
    Delete,
    Mute,
    OperatorTask,
    Remove,
    Request,
    Send,
    Tick,
)
from shequn.bot.setup import Setup, load
from shequn.bot.state import BotState
from shequn.clock import Clock
from shequn.domain.events import Event
from shequn.platforms.base import (
    Adapter,
    Batch,
    JoinRequest,
    PermanentError,
    TransientError,
    member_key,
)
from shequn.services import bot as service
from shequn.workspace import Workspace

log = logging.getLogger("shequn.bot")
RETRIES = 3
Ingest = Callable[[Batch], None]


@dataclass
class Runner:
    """One adapter's bot over the communities bound to its groups.

    Attributes:
        groups: platform group id → community key (the bindings in shequn.toml).
        ingest: stores a batch's events and the adapter position (the live ingest
            service); None when something else ingests.
    """

    ws: Workspace
    adapter: Adapter
    setups: Mapping[str, Setup]
    groups: Mapping[str, str]
    clock: Clock
    state: BotState = field(default_factory=BotState)
    ingest: Ingest | None = None
    tick_seconds: float = 5.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _started: bool = field(default=False, init=False)
    _ticked: datetime = field(default=datetime.min.replace(tzinfo=UTC), init=False)
    # The activity files last taken in; None until the first look, which always rescans
    # (files written between building the setups and starting must not be missed).
    _activities: tuple[tuple[str, int, int], ...] | None = field(default=None, init=False)

    @property
    def _group_of(self) -> dict[str, str]:
        return {community: group for group, community in self.groups.items()}

    async def handle(self, batch: Batch) -> list[Decision]:
        """Decide on a batch, record it, carry it out; the decisions. Ticks first when
        `tick_seconds` have passed (adapters yield a batch, maybe empty, every poll)."""
        if not self._started:
            await self._start()
        if self.ingest is not None:
            await asyncio.to_thread(self.ingest, batch)
        if (self.clock.now() - self._ticked).total_seconds() >= self.tick_seconds:
            await self.tick()
        decisions = [d for e in batch.events if (d := self._on_event(e)) is not None]
        decisions += [d for r in batch.requests if (d := self._on_request(r)) is not None]
        await self._commit(decisions)
        return decisions

    async def _start(self) -> None:
        """Learn who the bot is, so it never answers itself."""
        identity = await self.adapter.identity()
        me = frozenset({member_key(self.adapter.platform, identity.user_id)})
        self.setups = {k: replace(s, me=s.me | me) for k, s in self.setups.items()}
        self._started = True

    async def tick(self) -> list[Decision]:
        """Decide what time passing calls for in every community."""
        now = self.clock.now()
        self._ticked = now
        self._reread_activities()
        decisions = []
        for setup in self.setups.values():
            decisions.append(step(Tick(), self.state, setup, now))
        await self._commit(decisions)
        return decisions

    def _reread_activities(self) -> None:
        """Take in activities added, edited or removed since the last look, so `报名`
        finds a new one without restarting `shequn run` (invalid files are reported by
        `shequn activities list` and the engine, and are skipped here as at start)."""
        seen = files_seen(self.ws.root)
        if seen == self._activities:
            return
        self._activities = seen
        found, _problems = scan_activities(self.ws.root)
        self.setups = {
            key: replace(s, activities=tuple(a for a in found if a.community == key))
            for key, s in self.setups.items()
        }

    def _on_event(self, event: Event) -> Decision | None:
        community = self.groups.get(event.community) or self._answering(event)
        setup = self.setups.get(community or "")
        if setup is None:
            return None
        event = replace(event, community=setup.community)
        return step(event, self.state, setup, self.clock.now())

    def _answering(self, event: Event) -> str | None:
        """The community whose join question a private message (no bound group) answers."""
        pending = self.state.challenges.get(event.member)
        return pending.community if pending is not None and event.type == "message" else None

    def _on_request(self, request: JoinRequest) -> Decision | None:
        setup = self.setups.get(self.groups.get(request.group_id, ""))
        if setup is None:
            return None
        member = member_key(self.adapter.platform, request.user_id)
        asked = Request(request.request_id, member, request.channel)
        return step(asked, self.state, setup, self.clock.now())

    async def _commit(self, decisions: list[Decision]) -> None:
        found = [d for d in decisions if d]
        if not found:
            return
        await asyncio.to_thread(service.record, self.ws, found, self.clock)
        for decision in found:
            for i, action in enumerate(decision.actions):
                await self._carry_out(decision, i, action)

    async def _carry_out(self, decision: Decision, i: int, action: Action) -> None:
        group = self._group_of.get(decision.community, "")
        key = f"bot|{decision.community}|{decision.cause}|{i}"
        for attempt in range(RETRIES):
            try:
                await self._do(group, key, action)
                return
            except TransientError as exc:
                if attempt == RETRIES - 1:
                    reason = f"transient: {exc}"
                    break
                await self.sleep(exc.retry_after or 2.0**attempt)
            except PermanentError as exc:
                reason = f"permanent: {exc}"
                break
        log.warning("bot action %s in %s failed: %s", type(action).__name__, group, reason)
        await asyncio.to_thread(
            service.failed,
            self.ws,
            decision.community,
            key,
            type(action).__name__,
            reason,
            self.clock,
        )

    def _user(self, member: str) -> str:
        platform, _, user = member.partition(":")
        return user if platform == self.adapter.platform else member

    async def _do(self, group: str, key: str, action: Action) -> None:
        match action:
            case Send(text=text, private_to=to, reply_to=reply):
                await self.adapter.send(
                    group,
                    text,
                    key=key,
                    private_to=self._user(to) if to else None,
                    reply_to=reply or None,
                )
            case Delete(message_id=message_id):
                await self.adapter.delete(group, message_id)
            case Mute(member=member, seconds=seconds):
                await self.adapter.mute(group, self._user(member), seconds)
            case Remove(member=member):
                await self.adapter.remove(group, self._user(member))
            case Ban(member=member):
                await self.adapter.ban(group, self._user(member))
            case DecideJoin(request_id=request_id, approve=approve, reason=reason):
                await self.adapter.decide_join(group, request_id, approve, reason)
            case OperatorTask():
                pass  # recorded with the decision: `shequn tasks` lists it


def runners(ws: Workspace, adapters: Mapping[str, Adapter], clock: Clock) -> dict[str, Runner]:
    """A bot per adapter that serves communities with a bot (`shequn run`), sharing one
    state replayed from the store (so repeats across groups are seen across platforms).

    Raises:
        InputError: a FAQ file, word file or welcome is broken (from `setup.load`).
    """
    setups = load(ws.root, ws.settings)
    if not setups:
        return {}
    state = service.load_state(ws, clock)
    # jieba's dictionary and the indexes are large and live for the whole run: out of
    # the collector's reach, a full collection no longer pauses a decision (~10 ms).
    gc.freeze()
    out = {}
    for name, adapter in adapters.items():
        groups = {
            c.group: c.key
            for c in ws.settings.communities
            if c.platform == name and c.group and c.key in setups
        }
        if groups:
            mine = {key: setups[key] for key in groups.values()}
            out[name] = Runner(ws, adapter, mine, groups, clock, state)
    return out
