"""Live benchmark: a member joins a room on Synapse -> shequn's welcome is in the room.

Starts a throwaway Synapse on loopback (tests/platforms/synapse.py; `make synapse`),
a workspace whose community is bound to a room with a `member_joined` -> `send_group`
playbook, and `shequn run` as a separate process at its default tick interval (60 s:
the engine is woken by each stored batch, so the interval does not bound the latency).
Then people join one at a time; each latency runs from the join call's return to the
welcome arriving in a room member's /sync stream.

    python benchmarks/live_bench.py              # 100 joins
    python benchmarks/live_bench.py --joins 20
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.platforms.synapse import Client, Synapse  # noqa: E402
from tests.sop.helpers import GROUP_WELCOME  # noqa: E402

from shequn.config import PlatformConfig  # noqa: E402
from shequn.services.platforms import add_platform, bind  # noqa: E402
from shequn.services.workspace import init_workspace  # noqa: E402


def _workspace(folder: Path, synapse: Synapse, bot_id: str, room: str) -> Path:
    root = folder / "ws"
    init_workspace(root, name="bench", community="fans").close()
    config = PlatformConfig(url=synapse.url, user=bot_id, password_env="SHEQUN_BENCH_PASSWORD")
    add_platform(root, "matrix", config)
    bind(root, "fans", "matrix", room)
    (root / "playbooks" / "welcome.yaml").write_text(textwrap.dedent(GROUP_WELCOME).lstrip())
    return root


class Watcher:
    """A room member's /sync stream: when did each welcome arrive?"""

    def __init__(self, client: Client, bot_id: str) -> None:
        self.client, self.bot_id = client, bot_id
        self.since = client.call("GET", "/sync?timeout=0")["next_batch"]

    def wait_for(self, text: str, timeout: float = 30.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = self.client.http.get(f"/sync?since={self.since}&timeout=5000").json()
            now = time.perf_counter()
            self.since = answer["next_batch"]
            for data in answer.get("rooms", {}).get("join", {}).values():
                for event in data["timeline"]["events"]:
                    if event["sender"] == self.bot_id and event["content"].get("body") == text:
                        return now
        raise TimeoutError(f"no welcome {text!r} within {timeout:g} s")


def _wait_ready(log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "matrix: connected" in log.read_text():
            return
        time.sleep(0.1)
    raise TimeoutError(f"shequn run did not connect:\n{log.read_text()[-2000:]}")


def _say(what: str, started: float) -> None:
    print(f"[{time.perf_counter() - started:6.1f} s] {what}", file=sys.stderr)


def run(joins: int) -> dict[str, float]:
    started = time.perf_counter()
    synapse = Synapse()
    synapse.start()
    folder = Path(tempfile.mkdtemp(prefix="shequn-live-bench-"))
    try:
        alice = Client(synapse, synapse.register("alice"))
        bot = synapse.register("bot")
        room = alice.create_room(name="Bench")
        alice.invite(room, bot.user_id)
        Client(synapse, bot).join(room)
        _say("synapse up, room made", started)
        root = _workspace(folder, synapse, bot.user_id, room)

        def newcomer(n: int) -> Client:
            person = Client(synapse, synapse.register(f"p{n}"))
            alice.invite(room, person.user.user_id)
            return person

        with ThreadPoolExecutor(8) as pool:
            people = list(pool.map(newcomer, range(joins)))
        _say(f"{joins} people registered and invited", started)
        log = folder / "run.log"
        env = {**os.environ, "SHEQUN_BENCH_PASSWORD": bot.password}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "shequn", "run", "-w", str(root), "--health-every", "1"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_ready(log)
            time.sleep(2)  # past the first tick, which only records the time
            _say("shequn run connected", started)
            watcher = Watcher(alice, bot.user_id)
            latencies = []
            for person in people:
                person.join(room)
                joined = time.perf_counter()
                latencies.append(
                    watcher.wait_for(f"welcome {person.user.user_id[1:].split(':')[0]}") - joined
                )
            _say("joins measured", started)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    finally:
        synapse.remove()
    ordered = sorted(latencies)
    return {
        "joins": joins,
        "tick_every_s": 60.0,
        "median_s": round(statistics.median(ordered), 3),
        "p99_s": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 3),
        "max_s": round(ordered[-1], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--joins", type=int, default=100)
    figures = run(parser.parse_args().joins)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
