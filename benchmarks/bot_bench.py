"""Bot decision benchmark: moderation + FAQ per message, on one core.

10,000 banned words (Chinese and Latin, with variants) and 2,000 FAQ entries (three
question variants each) are generated with a fixed seed; 5,000 chat messages (chat,
questions, ads, links) go through the decision core (`shequn.bot.core.decide`: command
parse, moderation with normalisation and Aho–Corasick, FAQ with jieba and BM25). The
naive baseline in the same run does what a simple bot does: lower-case, a substring
loop over the word list, and the FAQ entry with the most shared words by a loop over
every variant.

    python benchmarks/bot_bench.py
    python benchmarks/bot_bench.py --words 10000 --entries 2000 --messages 5000
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # single core: numpy/BLAS too
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse
import gc
import random
import statistics
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from shequn.bot.core import decide
from shequn.bot.faq import Entry, Index, tokens
from shequn.bot.moderation import WordList
from shequn.bot.setup import Setup
from shequn.bot.state import BotState
from shequn.domain.bot import BotConfig
from shequn.domain.events import Event

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
HANZI = (  # common characters
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动"
    "同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自"
    "二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日"
    "那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变"
    "条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总"
    "次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指"
    "几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器"
    "压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安"
    "场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集"
    "温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连"
    "断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精"
    "值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属"
    "圆包火住调满县局照参红细引听该铁价严龙飞"
)
LATIN = "abcdefghijklmnopqrstuvwxyz"


def hanzi(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(HANZI) for _ in range(n))


def latin(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(LATIN) for _ in range(n))


def banned_words(rng: random.Random, n: int) -> list[str]:
    """n entries, half Chinese (2–4 characters, some with a variant), half Latin."""
    out = []
    for i in range(n):
        if i % 2:
            out.append(latin(rng, rng.randint(6, 10)))
        else:
            word = hanzi(rng, rng.randint(2, 4))
            out.append(f"{word}|{hanzi(rng, len(word))}" if i % 10 == 0 else word)
    return out


def faq_entries(rng: random.Random, n: int) -> list[Entry]:
    vocabulary = [hanzi(rng, 2) for _ in range(3000)] + [latin(rng, 6) for _ in range(3000)]
    entries = []
    for i in range(n):
        topic = rng.sample(vocabulary, 4)
        questions = [
            "".join(topic[:2]) + hanzi(rng, 2) + "吗？",
            f"how to {topic[2]} {topic[3]} {latin(rng, 5)}?",
            f"{topic[0]} {topic[3]} 怎么办",
        ]
        entries.append(Entry(id=f"e{i}", questions=questions, answer=f"answer {i}"))
    return entries


def messages(rng: random.Random, n: int, words: list[str], entries: list[Entry]) -> list[str]:
    """Chat, FAQ paraphrases, ads with banned words or contacts, links; some long."""
    out = []
    for i in range(n):
        kind = i % 5
        if kind == 0:
            out.append(hanzi(rng, rng.randint(4, 30)))
        elif kind == 1:
            entry = rng.choice(entries)
            out.append(rng.choice(entry.questions).replace("？", "") + " 请问")
        elif kind == 2:
            out.append(f"{hanzi(rng, 6)} {rng.choice(words).split('|')[0]} {hanzi(rng, 4)}")
        elif kind == 3:
            out.append(f"see https://{latin(rng, 8)}.com/{latin(rng, 4)} {latin(rng, 5)}")
        else:
            out.append(" ".join(latin(rng, rng.randint(3, 8)) for _ in range(rng.randint(3, 40))))
    return out


def naive(text: str, words: list[str], variants: list[tuple[set[str], int]]) -> tuple[bool, int]:
    """The baseline: substring loop, then the variant sharing the most words."""
    lowered = text.lower()
    banned = any(form in lowered for w in words for form in w.split("|"))
    asked = set(tokens(text))
    best, shared = -1, 0
    for variant, entry in variants:
        common = len(asked & variant)
        if common > shared:
            best, shared = entry, common
    return banned, best


def percentile(samples: list[float], p: float) -> float:
    return sorted(samples)[min(len(samples) - 1, int(len(samples) * p))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=2_000)
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--baseline", type=int, default=500, help="messages for the naive loop")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rng = random.Random(12)
    words = banned_words(rng, args.words)
    entries = faq_entries(rng, args.entries)
    texts = messages(rng, args.messages, words, entries)
    started = time.perf_counter()
    word_list, index = WordList(words), Index(entries)
    build = time.perf_counter() - started
    setup = Setup(
        community="bench",
        name="bench",
        config=BotConfig(),
        words=word_list,
        faq=index,
        welcome="",
        operators=frozenset(),
        owner="lin",
        zone=ZoneInfo("Asia/Shanghai"),
        tier_at=lambda _p: None,
    )
    state = BotState()
    for text in texts[:50]:  # warm up jieba's caches
        decide(Event(NOW, "bench", "message", "m:0", text=text, source_id="w"), state, setup, NOW)
    gc.freeze()  # as the runner does: the loaded dictionaries are never collected
    timings, cpu, answered, violations = [], [], 0, 0
    for i, text in enumerate(texts):
        event = Event(
            NOW, "bench", "message", f"m:{i % 500}", text=text, message_id=str(i), source_id=str(i)
        )
        t0, c0 = time.perf_counter(), time.thread_time()
        decision = decide(event, state, setup, NOW)
        cpu.append((time.thread_time() - c0) * 1000)
        timings.append((time.perf_counter() - t0) * 1000)
        kinds = {r.type for r in decision.records}
        answered += "faq_answered" in kinds
        violations += "violation" in kinds
    variants = [(set(tokens(q)), i) for i, e in enumerate(entries) for q in e.questions]
    slow = []
    for text in texts[: args.baseline]:
        c0 = time.thread_time()
        naive(text, words, variants)
        slow.append((time.thread_time() - c0) * 1000)
    print(f"{args.words} banned words, {args.entries} FAQ entries, {len(texts)} messages, one core")
    print(f"load average {os.getloadavg()[0]:.1f}; build: word list + FAQ index {build:.2f} s")
    print(f"decide CPU:  {summary(cpu)}  ({violations} violations, {answered} FAQ answers)")
    print(f"decide wall: {summary(timings)}")
    print(f"baseline CPU: {summary(slow)}  ({len(slow)} messages)")


def summary(ms: list[float]) -> str:
    return (
        f"p50 {statistics.median(ms):.3f} ms  p99 {percentile(ms, 0.99):.3f} ms"
        f"  max {max(ms):.2f} ms"
    )


if __name__ == "__main__":
    main()
