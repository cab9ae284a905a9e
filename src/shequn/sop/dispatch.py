"""The dispatcher: drains the outbox with rate limits, retries, a dead letter.

Each drain: take the lease; read due rows; deliver each one (or find it already
delivered in the platform's record, after a crash); then one transaction checks
the lease is still ours and records every outcome: row states, operator tasks, the
store actions (tags, points, activities), alerts for dead actions, and one event per
outcome in the event log (`sop.journal`). The crash windows between these steps are
discussed in docs/adr/0003-outbox.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from shequn.clock import Clock, to_micros
from shequn.config import Settings
from shequn.platforms.base import LIMITS, Limits, PermanentError, Platform, TransientError
from shequn.sop import alerts, journal, kinds, lease, outbox, outcomes, state
from shequn.sop.outbox import OutboxRow
from shequn.sop.tasks import task_row
from shequn.store import dialect
from shequn.store.engine import write_transaction
from shequn.store.sop_schema import DEAD, MISSED, RETRY, SENT, tasks

SECOND = 1_000_000


@dataclass(frozen=True)
class Policy:
    """How hard the dispatcher tries, and how late is too late."""

    max_attempts: int = 5
    backoff: int = 30 * SECOND  # first retry after this; doubles each time
    max_backoff: int = 3600 * SECOND
    grace: int = 6 * 3600 * SECOND  # older than this when due: missed, never sent
    batch: int = 500
    lease_ttl: int = 30 * SECOND

    def retry_after(self, attempts: int) -> int:
        return min(self.backoff * 2 ** (attempts - 1), self.max_backoff)


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.at = float(burst), None  # type: float, int | None

    def take(self, now: int) -> bool:
        if self.at is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.at) / SECOND * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass
class Outcome:
    """What one drain did."""

    leased: bool = True
    sent: list[OutboxRow] = field(default_factory=list)
    recovered: list[OutboxRow] = field(default_factory=list)  # already in the platform's record
    tasks: list[OutboxRow] = field(default_factory=list)
    state: list[OutboxRow] = field(default_factory=list)  # executed in the store (sop.state)
    retry: list[tuple[OutboxRow, str]] = field(default_factory=list)
    dead: list[tuple[OutboxRow, str]] = field(default_factory=list)
    missed: list[OutboxRow] = field(default_factory=list)
    throttled: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)  # what was recorded
    waits: dict[str, int] = field(default_factory=dict)  # key -> µs the platform asked

    @property
    def done(self) -> int:
        return len(self.sent) + len(self.recovered) + len(self.tasks) + len(self.state)


class LeaseLost(Exception):
    """Another engine holds the lease now; this one must stop recording."""


class Dispatcher:
    """Drains the outbox of one workspace.

    Args:
        engine: the workspace's store.
        platforms: platform name -> adapter (`webhook` is built in unless given).
        clock: the clock.
        holder: this engine's name in the lease.
        policy: retries, backoff, grace.
        settings: the workspace settings: tiers for points, operators' contacts for
            the alerts raised when an action ends dead (without: the console).
    """

    def __init__(
        self,
        engine: Engine,
        platforms: Mapping[str, Platform],
        clock: Clock,
        holder: str,
        policy: Policy | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.engine, self.platforms, self.clock = engine, dict(platforms), clock
        self.holder, self.policy = holder, policy or Policy()
        self.settings = settings or Settings()
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    def _allowed(self, platform: str, community: str, now: int) -> bool:
        limits = LIMITS.get(platform, Limits())
        checks = [((platform, "*"), limits.overall), ((platform, community), limits.per_group)]
        buckets = [
            self._buckets.setdefault(key, TokenBucket(rate, limits.burst))
            for key, rate in checks
            if rate is not None
        ]
        return all(bucket.take(now) for bucket in buckets)

    def _platform(self, name: str) -> Platform | None:
        if name == kinds.WEBHOOK and name not in self.platforms:
            from shequn.platforms.webhook import WebhookPlatform  # httpx only when used

            self.platforms[name] = WebhookPlatform()
        return self.platforms.get(name)

    def drain_once(self) -> Outcome:
        """Deliver what is due now; record every outcome in one transaction."""
        now = to_micros(self.clock.now())
        with write_transaction(self.engine) as conn:
            token = lease.acquire(conn, lease.ENGINE_LEASE, self.holder, now, self.policy.lease_ttl)
            rows = outbox.ready(conn, now, self.policy.batch) if token is not None else []
        if token is None:
            return Outcome(leased=False)
        result = Outcome()
        for row in rows:
            self._deliver(row, now, result)
        self._record(result, now, token)
        return result

    def _deliver(self, row: OutboxRow, now: int, result: Outcome) -> None:
        if now - row.due_ts > self.policy.grace:
            result.missed.append(row)
            return
        if row.platform in (kinds.TASK, kinds.STATE):
            (result.tasks if row.platform == kinds.TASK else result.state).append(row)
            return
        platform = self._platform(row.platform)
        if platform is None:
            result.dead.append((row, f"no platform {row.platform!r} is configured"))
            return
        try:
            if platform.delivered(row.key):  # a paused holder's file lock: TransientError
                result.recovered.append(row)
                return
            if not self._allowed(row.platform, row.community, now):
                result.throttled += 1
                return
            platform.send(row.outgoing())
        except TransientError as exc:
            target = result.dead if row.attempts + 1 >= self.policy.max_attempts else result.retry
            target.append((row, str(exc) or type(exc).__name__))
            if exc.retry_after:  # HTTP 429 retry_after, Synapse retry_after_ms
                result.waits[row.key] = int(exc.retry_after * SECOND)
        except PermanentError as exc:
            result.dead.append((row, str(exc) or type(exc).__name__))
        else:
            result.sent.append(row)

    def _record(self, result: Outcome, now: int, token: int) -> None:
        with write_transaction(self.engine) as conn:
            if not lease.holds(conn, lease.ENGINE_LEASE, self.holder, token, now):
                # Sent rows stay pending; the next holder finds them in the platform's record.
                raise LeaseLost(self.holder)
            done = [*result.sent, *result.recovered, *result.tasks, *result.state]
            outbox.set_state(conn, _ids(done), state=SENT, sent_ts=now)
            dialect.insert_ignore(conn, tasks, [task_row(r, now) for r in result.tasks])
            for row in result.state:
                result.events += state.execute(conn, row, now, self.settings)
            outbox.set_state(conn, _ids(result.missed), state=MISSED, reason="older than the grace")
            for row, reason in result.retry:
                outbox.set_state(
                    conn,
                    _ids([row]),
                    state=RETRY,
                    attempts=row.attempts + 1,
                    reason=reason,
                    next_ts=now
                    + max(self.policy.retry_after(row.attempts + 1), result.waits.get(row.key, 0)),
                )
            for row, reason in result.dead:
                outbox.set_state(
                    conn, _ids([row]), state=DEAD, attempts=row.attempts + 1, reason=reason
                )
            outbox.enqueue(conn, self._follow_ups(result, now))
            found = outcomes.events(result, now, self.holder, outcomes.task_ids(conn, result.tasks))
            journal.record(conn, found)
            result.events += found
            result.events += outcomes.record_content_sent(conn, result, now)

    def _follow_ups(self, result: Outcome, now: int) -> list[OutboxRow]:
        """Rows this outcome queues: an alert per dead action with an emergency plan,
        and the announcement of an activity started with a text."""
        rows = []
        for row, reason in result.dead:
            alert = alerts.emergency_row(self.settings, row, row.data(), reason, now)
            if alert is not None:
                rows.append(alert)
        for row in result.state:
            payload = row.data()
            if payload.get("announce"):
                rows.append(outcomes.announcement(row, payload, now))
        return rows


def _ids(rows: list[OutboxRow]) -> list[int]:
    """The ids of rows read back from the outbox (every one has its id)."""
    return [row.id for row in rows if row.id is not None]
