"""A realistic Telegram Desktop result.json of any size, and the import speed on it.

``write_export(path, n_messages)`` writes one supergroup's history laid out as
Telegram Desktop writes it (pretty-printed, ``text`` plus ``text_entities``, local
``date`` and ``date_unixtime``): plain and formatted texts, replies, photos and
stickers, reactions with their latest reactors, members joining by invitation and by
link, and leaving. Telegram Desktop spends about 400 bytes per message on this
layout, so 100 MB is about 250,000 messages.

Run ``python benchmarks/telegram_gen.py [n_messages]`` to time msgspec decoding alone,
the whole ``read_frame(path, "telegram")``, and ``json.loads`` of the same bytes.
"""

from __future__ import annotations

import gc
import json
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

WORDS = (
    "hello",
    "thanks",
    "agree",
    "meeting",
    "tomorrow",
    "release",
    "docs",
    "link",
    "price",
    "order",
    "shipping",
    "question",
    "answer",
    "community",
    "event",
    "python",
    "data",
    "import",
    "group",
    "welcome",
    "please",
    "你好",
    "谢谢",
    "报名",
    "活动",
    "明天",
    "课程",
    "优惠",
    "群主",
    "分享",
    "打卡",
    "学习",
    "问题",
)
EMOJI = ("👍", "❤", "🔥", "😁", "🎉")
START = datetime(2023, 1, 1, tzinfo=UTC)
# Telegram Desktop writes `date` in the exporting computer's zone.
LOCAL = timezone(timedelta(hours=8))


def _sentence(rng: random.Random, low: int = 2, high: int = 9) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def _entities(rng: random.Random, users: list[tuple[int, str]]) -> list[dict]:
    uid, name = rng.choice(users)
    parts = [
        {"type": "plain", "text": _sentence(rng, 1, 4) + " "},
        rng.choice(
            [
                {"type": "bold", "text": _sentence(rng, 1, 2)},
                {"type": "link", "text": "https://example.org/" + rng.choice(WORDS)},
                {"type": "mention", "text": "@" + name.split()[0].lower()},
                {"type": "mention_name", "text": name, "user_id": uid},
                {"type": "hashtag", "text": "#" + rng.choice(WORDS)},
            ]
        ),
        {"type": "plain", "text": " " + _sentence(rng, 1, 4)},
    ]
    return parts


def _base(msg_id: int, when: datetime) -> dict:
    return {
        "id": msg_id,
        "type": "message",
        "date": when.astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M:%S"),
        "date_unixtime": str(int(when.timestamp())),
    }


def _message(rng: random.Random, msg_id: int, when: datetime, users: list) -> dict:
    uid, name = rng.choice(users)
    msg = _base(msg_id, when) | {"from": name, "from_id": f"user{uid}"}
    roll = rng.random()
    if roll < 0.12 and msg_id > 1:
        msg["reply_to_message_id"] = rng.randint(max(1, msg_id - 50), msg_id - 1)
    if roll > 0.95:
        msg |= {
            "photo": "(File not included. Change data exporting settings to download.)",
            "width": 1280,
            "height": 960,
        }
    elif roll > 0.93:
        msg |= {"file": "(File not included.)", "media_type": "sticker", "sticker_emoji": "😁"}
    if rng.random() < 0.2:
        parts = _entities(rng, users)
        msg["text"] = [p if p["type"] != "plain" else p["text"] for p in parts]
        msg["text_entities"] = parts
    else:
        text = _sentence(rng)
        msg["text"] = text
        msg["text_entities"] = [{"type": "plain", "text": text}]
    if rng.random() < 0.05:
        reactors = rng.sample(users, rng.randint(1, 3))
        msg["reactions"] = [
            {
                "type": "emoji",
                "count": len(reactors) + rng.randint(0, 2),
                "emoji": rng.choice(EMOJI),
                "recent": [
                    {"from": n, "from_id": f"user{u}", "date": msg["date"]} for u, n in reactors
                ],
            }
        ]
    return msg


def _service(rng: random.Random, msg_id: int, when: datetime, users: list) -> dict:
    uid, name = rng.choice(users)
    msg = _base(msg_id, when) | {"type": "service", "actor": name, "actor_id": f"user{uid}"}
    roll = rng.random()
    if roll < 0.5:
        other = rng.choice(users)[1]
        msg |= {"action": "invite_members", "members": [other]}
    elif roll < 0.8:
        msg |= {"action": "join_group_by_link", "inviter": rng.choice(users)[1]}
    elif roll < 0.95:
        msg |= {"action": "remove_members", "members": [name]}
    else:
        msg |= {"action": "pin_message", "message_id": max(1, msg_id - 1)}
    msg["text"] = ""
    msg["text_entities"] = []
    return msg


def write_export(path: Path, n_messages: int, seed: int = 0) -> Path:
    """Write a single-chat result.json with n_messages messages; return its path."""
    rng = random.Random(seed)
    first = ["Wei", "Li", "Ana", "Tom", "Mei", "Yusuf", "Olga", "Ken", "Sara", "Ivan"]
    users = [(1_000_000 + i, f"{rng.choice(first)} {i}") for i in range(800)]
    path.parent.mkdir(parents=True, exist_ok=True)
    when = START
    with path.open("w", encoding="utf-8") as out:
        out.write('{\n "name": "Bench Supergroup",\n "type": "private_supergroup",\n')
        out.write(' "id": 1234567890,\n "messages": [')
        for msg_id in range(1, n_messages + 1):
            when += timedelta(seconds=rng.randint(1, 120))
            make = _service if rng.random() < 0.03 else _message
            body = json.dumps(make(rng, msg_id, when, users), ensure_ascii=False, indent=1)
            out.write(("\n  " if msg_id == 1 else ",\n  ") + body.replace("\n", "\n  "))
        out.write("\n ]\n}\n")
    return path


def _best(runs: int, work: Callable[[], object]) -> float:
    """Best wall time of several runs, with the collector as the importer leaves it."""
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str]) -> None:
    from shequn.importers.pipeline import read_frame
    from shequn.importers.telegram.model import EXPORT_DECODER

    n_messages = int(argv[1]) if len(argv) > 1 else 250_000
    path = Path(__file__).parent / ".data" / f"telegram_{n_messages}.json"
    if not path.exists():
        print(f"writing {path} ...")
        write_export(path, n_messages)
    data = path.read_bytes()
    megabytes = len(data) / 1e6
    decode = _best(5, lambda: EXPORT_DECODER.decode(data))
    loads = _best(3, lambda: json.loads(data))
    frames: list = []
    full = _best(5, lambda: frames.append(read_frame(path, "telegram")))
    print(f"file: {path.name}, {megabytes:.1f} MB, {n_messages} messages")
    print(f"{frames[-1].height} events")
    print(f"msgspec decode (typed structs): {decode:6.3f} s  {megabytes / decode:7.1f} MB/s")
    print(f"json.loads (dicts):             {loads:6.3f} s  {megabytes / loads:7.1f} MB/s")
    print(f"read_frame(path, 'telegram'):   {full:6.3f} s  {megabytes / full:7.1f} MB/s")
    print(f"msgspec decode is {loads / decode:.1f}x faster than json.loads")


if __name__ == "__main__":
    main(sys.argv)
