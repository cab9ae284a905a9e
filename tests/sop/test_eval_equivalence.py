"""The vectorized evaluation equals a plain reference on random logs; conditions at due time."""

from __future__ import annotations

import bisect
import textwrap
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shequn.clock import to_micros
from shequn.sop.evaluate import Window, due_steps
from shequn.sop.loader import check
from shequn.sop.model import Playbook
from shequn.sop.triggers import ACTIVITY, DAY_US, Frames

ZONE = "Asia/Shanghai"
HOUR = 3_600_000_000
T0 = to_micros(datetime.fromisoformat("2026-11-01T00:00:00+00:00"))
SCHEMA = {"ts": pl.Int64, "community": pl.String, "member": pl.String, "type": pl.String}


def _pb(name: str, trigger: str, steps: list[tuple[str, str | None]]) -> Playbook:
    body = "".join(
        f"""
  - id: s{i}
    at: "{at}"
    action: {{type: send_private, text: hi}}
    owner: alice
    emergency: {{do: x, alert: bob}}"""
        + (f"\n    condition: {cond}" if cond else "")
        for i, (at, cond) in enumerate(steps)
    )
    text = f"name: {name}\napplies_to: {{communities: ['*']}}\ntrigger: {trigger}\nsteps:{body}\n"
    playbook, problems = check(textwrap.dedent(text), name)
    assert playbook is not None, problems
    return playbook


PLAYBOOKS = [
    _pb("joined", "{type: member_joined}", [("+0m", None), ("+1d 20:00", "silent_since_trigger")]),
    _pb("bought", "{type: purchase}", [("+2h", "not_purchased_since_trigger")]),
    _pb("idle", "{type: member_inactive, days: 2}", [("+0m", None), ("+1d 10:00", "still_member")]),
]
WANTED = {"member_joined": "join", "purchase": "order"}
CONDITION = {
    "still_member": "leave",
    "silent_since_trigger": "message",
    "not_purchased_since_trigger": "order",
}


def _due(step, occ: int) -> int:  # type: ignore[no-untyped-def]
    offset = step.offset
    if offset.at is None:
        return occ + offset.micros
    zone = ZoneInfo(ZONE)
    day = datetime.fromtimestamp(occ / 1e6, zone).date() + timedelta(days=offset.days)
    return to_micros(datetime.combine(day, offset.at, tzinfo=zone))


def _occurrences(pb: Playbook, history: list[tuple[int, str]]) -> set[int]:
    if pb.trigger.type != "member_inactive":
        return {ts for ts, kind in history if kind == WANTED[pb.trigger.type]}
    n = pb.trigger.days * DAY_US
    stops = sorted(ts for ts, kind in history if kind in (*ACTIVITY, "leave"))
    found = set()
    for t in {ts for ts, kind in history if kind in ACTIVITY}:
        after = bisect.bisect_right(stops, t)
        if after == len(stops) or stops[after] > t + n:
            found.add(t + n)
    return found


def reference(events: list[tuple[int, str, str, str]], window: Window) -> set[str]:
    """Member by member, occurrence by occurrence: the definition, written plainly."""
    histories: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for ts, community, member, kind in events:
        histories.setdefault((community, member), []).append((ts, kind))
    keys = set()
    for pb in PLAYBOOKS:
        for (_, member), history in histories.items():
            for occ in _occurrences(pb, history):
                for step in pb.steps:
                    due = _due(step, occ)
                    stop = CONDITION.get(step.condition or "")
                    blocked = any(k == stop and occ < ts <= due for ts, k in history)
                    if window.start < due <= window.end and not blocked:
                        keys.add(f"{pb.name}|{step.id}|{member}|{occ}")
    return keys


def _fast(events: list[tuple[int, str, str, str]], window: Window) -> set[str]:
    frame = pl.DataFrame(events, schema=SCHEMA, orient="row").with_columns(
        pl.lit(None, dtype=pl.String).alias("channel")
    )
    due = due_steps(PLAYBOOKS, Frames(frame), window, ZONE, {pb.name: None for pb in PLAYBOOKS})
    return set(due["key"].to_list())


EVENT = st.tuples(
    st.integers(0, 6 * 24).map(lambda h: T0 + h * HOUR),  # hourly over 6 days: ties happen
    st.sampled_from(["c1", "c2"]),
    st.sampled_from(["a", "b", "c"]),
    st.sampled_from(["join", "message", "order", "leave", "reaction"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=st.lists(EVENT, max_size=40),
    start=st.integers(0, 8 * 24),
    hours=st.sampled_from([1, 5, 24, 72]),
)
def test_vectorized_equals_the_reference(events: list, start: int, hours: int) -> None:
    window = Window(T0 + start * HOUR - HOUR // 2, T0 + (start + hours) * HOUR - HOUR // 2)
    assert _fast(events, window) == reference(events, window)


def test_a_condition_looks_only_up_to_the_rows_due_time() -> None:
    # b joins at 00:00 and writes at 03:00; the +2h step is due at 02:00. Over a whole
    # day's window (a replay) the step is still due: at 02:00 b had said nothing.
    pb = _pb("quiet", "{type: member_joined}", [("+2h", "silent_since_trigger")])
    frame = pl.DataFrame(
        [(T0, "c1", "b", "join"), (T0 + 3 * HOUR, "c1", "b", "message")],
        schema=SCHEMA,
        orient="row",
    ).with_columns(pl.lit(None, dtype=pl.String).alias("channel"))
    due = due_steps([pb], Frames(frame), Window(T0, T0 + 24 * HOUR), ZONE, {"quiet": None})
    assert due.select("key", "due_ts").rows() == [(f"quiet|s0|b|{T0}", T0 + 2 * HOUR)]
    # A message before the due time does stop it.
    early = frame.with_columns(pl.Series("ts", [T0, T0 + HOUR]))
    due = due_steps([pb], Frames(early), Window(T0, T0 + 24 * HOUR), ZONE, {"quiet": None})
    assert due.is_empty()
