"""Live ingest benchmark: a local OneBot v11 implementation floods the QQ adapter.

A child process serves a forward WebSocket (with an access token) and pushes group
messages shaped as OneBot v11 specifies; shequn's adapter listens, and each batch
goes through `services.live.ingest` into a SQLite workspace, as `shequn run` does
(ingest in a worker thread; what arrives meanwhile is the next batch).

Measured, in the same run:

- batched: sustained messages/s from the first receipt to the last commit, and the
  latency from each message's receipt (the adapter's reader) to the commit of the
  transaction that stored it (median, p99);
- paced: the same at a fixed offered rate (default 2,000/s), where latency is not
  queueing behind a flood;
- baseline: one event per transaction (a batch per message), as an adapter without
  batching would append.

Messages per CPU-second (this process's CPU time: adapter and ingest, the flood's
process excluded) is what one free core would sustain; on a shared machine the wall
rate is lower by the load, which the run prints.

    python benchmarks/ingest_bench.py                      # 30,000 flooded, 3,000 baseline
    python benchmarks/ingest_bench.py --messages 100000 --baseline 5000 --rate 5000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shequn.platforms.base import Batch
from shequn.platforms.onebot.adapter import OneBotAdapter
from shequn.platforms.onebot.link import Link
from shequn.services import live
from shequn.services.workspace import init_workspace
from shequn.workspace import Workspace

TOKEN = "bench-token"
GROUP = 765432
T0 = 1_764_000_000


def event(i: int) -> str:
    """The i-th group message, as OneBot v11 pushes it."""
    return json.dumps(
        {
            "time": T0 + i // 1000,
            "self_id": 10000,
            "post_type": "message",
            "message_type": "group",
            "sub_type": "normal",
            "message_id": i,
            "group_id": GROUP,
            "user_id": 20000 + i % 500,
            "anonymous": None,
            "message": [{"type": "text", "data": {"text": f"第{i}条消息 hello"}}],
            "raw_message": f"第{i}条消息 hello",
            "font": 0,
            "sender": {"user_id": 20000 + i % 500, "nickname": f"m{i % 500}", "card": ""},
        },
        ensure_ascii=False,
    )


def serve_flood(port: Any, start: Any, runs: list[tuple[int, float]]) -> None:
    """Child process: serve one connection per run; push `count` messages at `rate`
    per second (0: as fast as the socket takes them)."""
    from websockets.asyncio.server import serve

    async def main() -> None:
        connections: asyncio.Queue[Any] = asyncio.Queue()

        async def handler(connection: Any) -> None:
            await connections.put(connection)
            await connection.wait_closed()

        async with serve(handler, "127.0.0.1", 0) as server:
            port.value = server.sockets[0].getsockname()[1]
            offset = 0
            for count, rate in runs:
                connection = await connections.get()
                start.wait()
                began = time.perf_counter()
                for i in range(count):
                    if rate and i % 100 == 0:
                        ahead = began + i / rate - time.perf_counter()
                        if ahead > 0:
                            await asyncio.sleep(ahead)
                    await connection.send(event(offset + i))
                offset += count
                await connection.wait_closed()
                start.clear()

    asyncio.run(main())


class StampedLink(Link):
    """A Link that notes when each frame arrived (the receipt time). Every frame of
    this benchmark is a message and they are stored in order, so the i-th receipt
    is the i-th message's."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.received: list[float] = []

    def _receive(self, raw: str | bytes) -> None:
        self.received.append(time.perf_counter())
        super()._receive(raw)


@dataclass
class Run:
    name: str
    messages: int
    seconds: float
    latencies: list[float]
    transactions: int
    cpu: float  # CPU seconds of this process (adapter + ingest), the flood excluded

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def consume(ws: Workspace, port: int, count: int, start: Any, single: bool) -> Run:
    link = StampedLink(access_token=TOKEN, url=f"ws://127.0.0.1:{port}/")
    adapter = OneBotAdapter(link)
    listening = adapter.listen(None)
    stored, transactions, latencies = 0, 0, []
    cpu = time.process_time()
    start.set()
    while stored < count:
        batch = await anext(listening)
        parts = [Batch((e,), batch.position) for e in batch.events] if single else [batch]
        for part in parts:
            await asyncio.to_thread(live.ingest, ws, "qq", part)
            committed = time.perf_counter()
            transactions += 1
            done = len(latencies)
            latencies.extend(committed - at for at in link.received[done : done + len(part.events)])
        stored += len(batch.events)
    first = link.received[0]
    seconds = time.perf_counter() - first
    cpu = time.process_time() - cpu
    await adapter.close()
    return Run("", count, seconds, latencies, transactions, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=30_000)
    parser.add_argument("--baseline", type=int, default=3_000)
    parser.add_argument("--rate", type=float, default=2_000.0)
    args = parser.parse_args()
    plan = [
        ("batched, flood", args.messages, 0.0, False),
        (f"batched, paced {args.rate:g}/s", int(args.rate * 5), args.rate, False),
        ("one event per transaction, flood", args.baseline, 0.0, True),
    ]
    port, start = multiprocessing.Value("i", 0), multiprocessing.Event()
    child = multiprocessing.Process(
        target=serve_flood, args=(port, start, [(n, r) for _, n, r, _ in plan]), daemon=True
    )
    child.start()
    while not port.value:
        time.sleep(0.01)
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws", community="bench")
        ws.settings.communities[0].platform = "qq"
        ws.settings.communities[0].group = str(GROUP)
        runs = []
        for name, count, _rate, single in plan:
            run = asyncio.run(consume(ws, port.value, count, start, single))
            run.name = name
            runs.append(run)
        ws.close()
    child.terminate()
    print(
        "| run | messages | transactions | messages/s | messages per CPU-second "
        "| latency median (ms) | p99 (ms) |"
    )
    print("|---|---|---|---|---|---|---|")
    for run in runs:
        print(
            f"| {run.name} | {run.messages:,} | {run.transactions:,} | {run.rate:,.0f} "
            f"| {run.messages / run.cpu:,.0f} "
            f"| {statistics.median(run.latencies) * 1000:.1f} | {run.quantile(0.99):.1f} |"
        )
    print(f"\nload average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"\nbatched flood / one-per-transaction: {runs[0].rate / runs[2].rate:.1f}x")


if __name__ == "__main__":
    main()
