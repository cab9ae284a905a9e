"""A synthetic WhatsApp export for benchmarks, and the timing of shequn against whatstk.

``write_export`` writes a realistic Android export in English with the 24-hour
``dd/mm/yyyy, HH:MM - `` header: ~200 members, multi-line messages, media placeholders,
deleted messages, joins (added, invite link), leaves (left, removed), times that never
go backwards. Built column-wise with NumPy and Polars, so 1M messages take seconds.

``python benchmarks/whatsapp_gen.py [N]`` times, on an N-message file (default
1,000,000), whatstk's parser alone and shequn's ``read_frame(path, "whatsapp")``,
each in a fresh process so that peak RSS is its own.
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

WHATSTK_HFORMAT = "%d/%m/%Y, %H:%M - %name:"

_FIRST = (
    "Anna", "Ben", "Carla", "David", "Emma", "Felix", "Greta", "Hugo", "Ines", "Jonas",
    "Kira", "Lars", "Mila", "Nico", "Olga", "Paul", "Quinn", "Rosa", "Sven", "Tara",
    "Uwe", "Vera", "Willi", "Xenia", "Yusuf", "Zoe", "Amélie", "Björn", "Chloé", "Dário",
)  # fmt: skip
_LAST = ("Meyer", "Okafor", "Rossi", "Silva", "Tanaka", "Novak", "Larsen", "Dubois", "Kowalski")
_WORDS = (
    "hello", "thanks", "ok", "sure", "meeting", "tomorrow", "tonight", "lunch", "photo",
    "link", "price", "order", "delivery", "where", "when", "why", "great", "nice", "cool",
    "see", "you", "later", "sorry", "late", "again", "please", "help", "question", "answer",
    "group", "event", "ticket", "train", "bus", "coffee", "☕", "🎉", "😂", "👍", "über",
    "café", "naïve", "周末", "见面",
)  # fmt: skip
# Shares of entries by kind; the rest are one-line text messages.
_KINDS = (
    ("added", 0.002),
    ("left", 0.0015),
    ("link", 0.001),
    ("removed", 0.0005),
    ("multiline", 0.03),
    ("media", 0.02),
    ("deleted", 0.005),
)
_SYSTEM = {
    "added": "{a} added {b}",
    "left": "{b} left",
    "link": "{b} joined using this group's invite link",
    "removed": "{a} removed {b}",
}


def _members(rng: np.random.Generator, n: int = 200) -> list[str]:
    """Distinct display names: first and last names, and a few phone numbers."""
    names = [
        f"+44 7700 9{i:05d}"
        if i % 25 == 7
        else f"{_FIRST[i % len(_FIRST)]} {_LAST[(i // len(_FIRST)) % len(_LAST)]} {i}"
        for i in range(n)
    ]
    rng.shuffle(names)
    return names


def _text_pool(rng: np.random.Generator, size: int = 20_000) -> list[str]:
    """Message texts of 1-15 words."""
    lengths = rng.integers(1, 16, size)
    words = rng.integers(0, len(_WORDS), int(lengths.sum()))
    ends = np.cumsum(lengths)
    return [
        " ".join(_WORDS[w] for w in words[end - n : end]) + f" #{i}"
        for i, (n, end) in enumerate(zip(lengths, ends, strict=True))
    ]


def _headers(rng: np.random.Generator, n: int) -> pl.Series:
    """Non-decreasing header prefixes, one entry every ~40 s on average."""
    gaps = rng.exponential(40.0, n).astype(np.int64)
    seconds = np.cumsum(gaps) + int(datetime(2021, 1, 1, 8, 0).timestamp())
    stamps = pl.Series("ts", seconds * 1_000_000).cast(pl.Datetime("us"))
    return stamps.dt.strftime("%d/%m/%Y, %H:%M - ")


def _bodies(rng: np.random.Generator, n: int, names: list[str]) -> list[str]:
    """What follows each header: ``Name: text`` or a system text."""
    pool = _text_pool(rng)
    who, other = rng.integers(0, len(names), n), rng.integers(0, len(names), n)
    text, more = rng.integers(0, len(pool), n), rng.integers(0, len(pool), n)
    cuts = np.cumsum([share for _, share in _KINDS])
    kinds = np.searchsorted(cuts, rng.random(n), side="right")
    plain = len(_KINDS)
    bodies = []
    for i, k in enumerate(kinds.tolist()):
        kind = _KINDS[k][0] if k < plain else "text"
        a = names[who[i]]
        if kind in _SYSTEM:
            bodies.append(_SYSTEM[kind].format(a=a, b=names[other[i]]))
        elif kind == "multiline":
            bodies.append(f"{a}: {pool[text[i]]}\n{pool[more[i]]}")
        elif kind == "media":
            bodies.append(f"{a}: <Media omitted>")
        elif kind == "deleted":
            bodies.append(f"{a}: This message was deleted")
        else:
            bodies.append(f"{a}: {pool[text[i]]}")
    return bodies


def write_export(path: Path, n_messages: int, seed: int = 0) -> None:
    """Write a synthetic Android WhatsApp export.

    Args:
        path: the .txt file to write.
        n_messages: how many entries to write (messages, and ~0.5% system lines),
            after two opening lines (encryption notice, group created).
        seed: the random seed; the same seed writes the same file.
    """
    rng = np.random.default_rng(seed)
    names = _members(rng)
    headers = _headers(rng, n_messages)
    first = headers[0] if n_messages else "01/01/2021, 08:00 - "
    intro = (
        f"{first}Messages and calls are end-to-end encrypted. No one outside of this chat, "
        "not even WhatsApp, can read or listen to them. Tap to learn more.\n"
        f'{first}{names[0]} created group "Bench"\n'
    )
    lines = pl.DataFrame({"h": headers, "b": pl.Series(_bodies(rng, n_messages, names))})
    body = lines.select(pl.concat_str("h", "b").str.join("\n")).item()
    path.write_text(intro + body + "\n", encoding="utf-8")


# seconds, rows, peak RSS in MB
Timing = tuple[float, int, float]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _time_shequn(path: str) -> Timing:
    from shequn.importers.pipeline import read_frame

    start = time.perf_counter()
    frame = read_frame(Path(path), "whatsapp")
    return time.perf_counter() - start, frame.height, _peak_rss_mb()


def _time_whatstk(path: str) -> Timing:
    from whatstk import WhatsAppChat

    start = time.perf_counter()
    chat = WhatsAppChat.from_source(path, hformat=WHATSTK_HFORMAT, max_size=None)
    return time.perf_counter() - start, len(chat.df), _peak_rss_mb()


def _in_fresh_process(task: Callable[[str], Timing], path: Path) -> Timing:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(task, str(path)).result()


def main(n: int = 1_000_000, repeat: int = 3) -> None:
    """Time whatstk's parser and shequn's importer on an n-message export."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "WhatsApp Chat with Bench.txt"
        start = time.perf_counter()
        write_export(path, n)
        size = path.stat().st_size / 1e6
        print(f"wrote {n:,} entries, {size:.0f} MB, in {time.perf_counter() - start:.1f} s")
        ours = min(
            (_in_fresh_process(_time_shequn, path) for _ in range(repeat)), key=lambda r: r[0]
        )
        print(
            f"shequn read_frame: {ours[0]:.2f} s (best of {repeat}), {ours[1]:,} events, "
            f"peak RSS {ours[2]:.0f} MB"
        )
        theirs = _in_fresh_process(_time_whatstk, path)
        print(
            f"whatstk from_source: {theirs[0]:.2f} s, {theirs[1]:,} rows, "
            f"peak RSS {theirs[2]:.0f} MB"
        )
        print(f"whatstk / shequn: {theirs[0] / ours[0]:.1f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
