"""`{{ member.recommended[0] }}` in a playbook: validated, rendered by the tick, safe
when a member has nothing to recommend."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from shequn.clock import FrozenClock
from shequn.config import Community
from shequn.services.sop import tick
from shequn.sop.render import render, variables
from shequn.sop.template_check import unknown_names
from shequn.store.engine import read_transaction
from shequn.store.sop_schema import outbox
from shequn.workspace import Workspace
from tests.members.test_recommend_workspace import _load
from tests.sop.helpers import add_events, at, write_playbook

SUGGEST = """
    name: suggest
    applies_to: {communities: ["*"]}
    trigger: {type: member_joined}
    steps:
      - id: hello
        at: "+0m"
        action:
          type: send_private
          text: >-
            Hi {{ member.name }}! Try: {{ member.recommended[0] }}|{{
            member.recommended|join(', ') }}
        owner: role:assistant
        emergency: {do: "x", alert: "role:lead"}
"""


def test_the_variable_is_known_and_an_empty_list_renders_empty() -> None:
    assert unknown_names("{{ member.recommended[0] }} {{ member.recommended[1] }}") == ()
    assert unknown_names("{{ member.recomended[0] }}") == ("member.recomended",)
    none = variables("wx:a", "A", Community(key="club"))
    assert render("[{{ member.recommended[0] }}][{{ member.recommended|length }}]", none) == "[][0]"
    two = variables("wx:a", "A", Community(key="club"), ["Tea", "Hiking"])
    assert render("{{ member.recommended[1] }} {{ member.recommended[2] }}.", two) == "Hiking ."


def test_the_tick_renders_each_members_recommendations(
    ws: Workspace, clock: FrozenClock, tmp_path: Path
) -> None:
    _load(ws, tmp_path)  # wx:d wrote about hiking on 10-22; the library and a tasting
    write_playbook(ws, "suggest", SUGGEST)
    tick(ws, at(clock, "2026-11-01T00:00:00+00:00"))
    add_events(
        ws,
        [
            ("2026-11-01T09:00:00+08:00", "club", "wx:d", "join", ""),
            ("2026-11-01T09:00:00+08:00", "elsewhere", "wx:z", "join", ""),
        ],
    )
    result = tick(ws, at(clock, "2026-11-01T01:30:00+00:00"))
    assert (result.queued, result.dead) == (2, 0)
    with read_transaction(ws.engine) as conn:
        rows = conn.execute(select(outbox.c.target, outbox.c.payload)).all()
    texts = {target: json.loads(payload)["text"] for target, payload in rows}
    # wx:d writes about hiking: the hiking routes first; wx:z's community has no item.
    assert texts["wx:d"].startswith("Hi wx:d! Try: Hiking routes|Hiking routes, ")
    assert texts["wx:z"] == "Hi wx:z! Try: |"
