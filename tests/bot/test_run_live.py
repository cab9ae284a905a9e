"""`shequn run` (the real command, in its own process) with a bot on a real Synapse:
the bot greets a newcomer and deletes and warns a banned word."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bot.test_matrix_e2e import add_bot
from tests.platforms.conftest import LiveRoom, live_room, synapse, wait_for  # noqa: F401
from tests.platforms.test_matrix_run import start, stop

pytestmark = [pytest.mark.synapse]


def test_shequn_run_starts_the_bot(live_room: LiveRoom, tmp_path: Path) -> None:  # noqa: F811
    ws = add_bot(live_room.ws, live_room.alice.user.user_id)
    root = str(ws.root)
    ws.close()
    log = tmp_path / "run.log"
    proc = start(["-m", "shequn", "run", "-w", root, "--tick-every", "1"], log)
    alice, room, bot = live_room.alice, live_room.room, live_room.bot.user_id

    def said() -> list[str]:
        return [t for s, t in alice.texts(room) if s == bot]

    try:
        bob = live_room.person("bob")
        bob.join(room)
        # The bot's own welcome (it names the rules), not a playbook's.
        wait_for(lambda: any("加入！No ads." in t for t in said()), 60, "the bot's welcome")
        spam = bob.say(room, "cheap scam here")
        wait_for(lambda: any("警告" in t for t in said()), 60, "the warning")
        wait_for(
            lambda: not next(e for e in alice.messages(room) if e["event_id"] == spam)["content"],
            30,
            "the banned word deleted",
        )
    finally:
        assert stop(proc) == 0, log.read_text()
