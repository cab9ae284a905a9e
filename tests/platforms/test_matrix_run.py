"""`shequn run` with Matrix against a real Synapse: the welcome reaches the newcomer;
a SIGKILL mid-send and a restart post nothing twice; a Synapse outage and an engine
outage lose nothing; a revoked token stops the adapter with a clear error."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from shequn.config import PlatformConfig
from shequn.platforms.matrix.adapter import MatrixAdapter
from shequn.services.live_run import LiveRun
from shequn.store.engine import read_transaction
from shequn.store.sop_schema import outbox, state
from tests.platforms.conftest import PASSWORD_ENV, LiveRoom, wait_for
from tests.platforms.synapse import ROOT, Client
from tests.sop.helpers import GROUP_WELCOME, write_playbook

pytestmark = [pytest.mark.synapse, pytest.mark.slow]


def _env() -> dict[str, str]:
    paths = [str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=_env(), stdout=handle, stderr=subprocess.STDOUT
    )


def engine(room: LiveRoom, log: Path, ttl: float = 2.0) -> subprocess.Popen[bytes]:
    return start(["-m", "tests.platforms.live_proc", str(room.ws.root), str(ttl)], log)


def ticked(room: LiveRoom) -> bool:
    with read_transaction(room.ws.engine) as conn:
        return conn.scalar(select(state.c.value).where(state.c.name == "last_tick")) is not None


def bot_texts(room: LiveRoom) -> list[str]:
    return [t for s, t in room.alice.texts(room.room) if s == room.bot.user_id]


def outbox_states(room: LiveRoom) -> list[str]:
    with read_transaction(room.ws.engine) as conn:
        return list(conn.scalars(select(outbox.c.state).where(outbox.c.platform == "matrix")))


def sent_line(log: Path) -> bool:
    """A matrix health line: connected, its lag, and nothing queued."""
    return any(
        "matrix: connected" in line and " lag=" in line and " queue=0 " in line
        for line in log.read_text().splitlines()
    )


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(30)


def test_the_welcome_reaches_the_newcomer_through_shequn_run(
    live_room: LiveRoom, tmp_path: Path
) -> None:
    write_playbook(live_room.ws, "welcome", GROUP_WELCOME)
    log = tmp_path / "run.log"
    proc = start(["-m", "shequn", "run", "-w", str(live_room.ws.root), "--health-every", "1"], log)
    try:
        wait_for(lambda: ticked(live_room), 60, "the first tick")
        carol = live_room.person("carol")
        carol.join(live_room.room)
        name = carol.user.user_id[1:].split(":")[0]
        wait_for(lambda: f"welcome {name}" in bot_texts(live_room), 30, "the welcome")
        # a line written after the welcome has left (an earlier one may still count it)
        wait_for(lambda: sent_line(log), 10, "a health line with an empty queue")
    finally:
        code = stop(proc)
    assert code == 0, log.read_text()[-2000:]
    assert bot_texts(live_room) == [f"welcome {name}"]
    assert outbox_states(live_room) == ["sent"]


def test_sigkill_mid_send_then_restart_posts_each_welcome_once(
    live_room: LiveRoom, tmp_path: Path
) -> None:
    write_playbook(live_room.ws, "welcome", GROUP_WELCOME)
    log = tmp_path / "run.log"
    proc = engine(live_room, log)
    wait_for(lambda: ticked(live_room), 60, "the first tick")
    # Frozen while 15 people join, the engine then sees them at once and sends 15
    # welcomes in one drain, recording them only after the last: a kill in between
    # leaves sent messages whose outbox rows still say pending.
    proc.send_signal(signal.SIGSTOP)
    people = [live_room.person(f"p{n}") for n in range(15)]
    for person in people:
        person.join(live_room.room)
    proc.send_signal(signal.SIGCONT)
    wait_for(lambda: len(bot_texts(live_room)) >= 4, 60, "the first welcomes")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    in_room, recorded = len(bot_texts(live_room)), outbox_states(live_room).count("sent")
    assert in_room > recorded, "the kill did not land between a send and its record"
    restarted = engine(live_room, log)
    try:
        wait_for(lambda: outbox_states(live_room) == ["sent"] * 15, 90, "every welcome sent")
    except BaseException:
        print(outbox_states(live_room), log.read_text()[-6000:])
        raise
    finally:
        assert stop(restarted) == 0
    names = sorted(p.user.user_id[1:].split(":")[0] for p in people)
    assert sorted(bot_texts(live_room)) == sorted(f"welcome {n}" for n in names)


def _texts_in_log(room: LiveRoom) -> list[str]:
    return [e["text"] for e in room.events("message")]


def test_synapse_and_engine_outages_lose_nothing(live_room: LiveRoom, tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    proc = engine(live_room, log)
    try:
        live_room.alice.say(live_room.room, "before")
        wait_for(lambda: _texts_in_log(live_room) == ["before"], 30, "the first message")
        live_room.synapse.stop()
        wait_for(lambda: "reconnecting in" in log.read_text(), 30, "the listener backing off")
        live_room.synapse.start()
        live_room.alice.say(live_room.room, "after")
        wait_for(lambda: _texts_in_log(live_room) == ["before", "after"], 90, "after the outage")
    finally:
        assert stop(proc) == 0
    live_room.alice.say(live_room.room, "while the engine was down")
    proc = engine(live_room, log)
    try:
        wait_for(lambda: len(_texts_in_log(live_room)) == 3, 60, "the message sent meanwhile")
    finally:
        assert stop(proc) == 0
    assert _texts_in_log(live_room) == ["before", "after", "while the engine was down"]


def test_a_revoked_token_stops_the_adapter_with_a_clear_error(live_room: LiveRoom) -> None:
    token = live_room.synapse.register(f"tok{live_room.room[1:7].lower()}")
    live_room.alice.invite(live_room.room, token.user_id)
    Client(live_room.synapse, token).join(live_room.room)
    config = PlatformConfig(url=live_room.synapse.url, user=token.user_id, token_env="TOK")
    adapter = MatrixAdapter(
        config, live_room.ws.root / "data-tok", {"TOK": token.access_token}, poll_seconds=1
    )
    runner = LiveRun(live_room.ws, {"matrix": adapter}, health_every=0.5)

    async def scenario() -> None:
        stop_run = asyncio.Event()
        task = asyncio.create_task(runner.run(stop_run))

        async def until(what: str, check: Callable[[], bool], seconds: float) -> None:
            deadline = time.monotonic() + seconds
            while not check():
                if task.done():  # the runner ended early: say why
                    task.result()
                    pytest.fail(f"the runner stopped before {what}")
                if time.monotonic() > deadline:
                    pytest.fail(f"timed out after {seconds:g} s waiting for {what}")
                await asyncio.sleep(0.1)

        try:
            health = runner.health
            await until(
                "a connection", lambda: "matrix" in health and health["matrix"].connected, 60
            )
            await asyncio.to_thread(Client(live_room.synapse, token).call, "POST", "/logout", {})
            await until("the adapter to stop", lambda: health["matrix"].stopped, 30)
        finally:
            stop_run.set()
            await asyncio.wait_for(task, 30)

    asyncio.run(scenario())
    health = runner.health["matrix"]
    assert health.stopped and not health.connected
    assert "M_UNKNOWN_TOKEN" in health.last_error
    assert "log in again" in health.last_error
    assert os.environ[PASSWORD_ENV]  # the workspace's own bot is untouched
