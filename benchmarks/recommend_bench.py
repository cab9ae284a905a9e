"""Benchmark of recommendations: item-item + words against the popularity baseline.

A generated log in memory (no store read): members in communities of 10,000, a
catalogue of content items (each community's own issues of 8 recurring titles), ten
clicks per member on average (heavy-tailed), and what members write (phrases of a
small table, so jieba tokenises each distinct text once). Measured, for every member:

- build: the log's frames into the matrices (shequn.members.recommend.data.build);
- fit: the item-item similarities (engagements and words);
- top 5: the scores of every member for every item, masked and ranked, in blocks;
- popularity: the baseline's top 5 over the same candidates (its own build is the same).

    python benchmarks/recommend_bench.py                 # 100k members
    python benchmarks/recommend_bench.py --members 1000000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import polars as pl

from shequn.members.keywords import tokens
from shequn.members.recommend.data import ENGAGEMENTS, ITEMS, MEMBERSHIPS, WRITINGS, Log, build
from shequn.members.recommend.model import fit, popularity_scorer, scorer
from shequn.members.recommend.rank import top_k

DAY_US = 86_400_000_000
PER_COMMUNITY = 10_000
ISSUES = 40  # items per community over the period
TITLES = (
    "春茶冲泡指南", "白茶存放的五个误区", "门店茶会回顾", "茶与健康问答",
    "数据清洗实战", "可视化作业讲解", "新手徒步装备清单", "五条周边徒步路线",
)  # fmt: skip
PHRASES = ("今天去徒步了", "这个茶真好喝", "作业怎么交", "周末有活动吗", "谢谢分享", "打卡")


def generate(members: int, seed: int) -> Log:
    """The log: memberships, items with their titles, clicks and writings."""
    rng = np.random.default_rng(seed)
    communities = max(1, members // PER_COMMUNITY)
    who = np.arange(members)
    home = who % communities
    n_items = communities * ISSUES
    item_community = np.arange(n_items) // ISSUES
    item_title = rng.integers(0, len(TITLES), n_items)
    item_ts = rng.integers(0, 90 * DAY_US, n_items)
    clicks = members * 10
    clicker = np.minimum(rng.zipf(1.5, clicks) - 1, members - 1)
    clicker = (clicker * 2_654_435_761) % members
    item = home[clicker] * ISSUES + rng.integers(0, ISSUES, clicks)
    writers = rng.integers(0, members, members * 3)
    key = np.char.add("u", who.astype(str))
    comm = np.char.add("c", np.arange(communities).astype(str))
    ikey = np.char.add("i", np.arange(n_items).astype(str))
    return Log(
        engagements=pl.DataFrame(
            {
                "member": key[clicker],
                "item": ikey[item],
                "community": comm[item_community[item]],
                "ts": item_ts[item] + rng.integers(0, DAY_US, clicks),
            },
            schema=ENGAGEMENTS,
        ),
        items=pl.DataFrame(
            {
                "item": ikey,
                "community": comm[item_community],
                "ts": item_ts,
                "text": np.array(TITLES)[item_title],
            },
            schema=ITEMS,
        ),
        writings=pl.DataFrame(
            {
                "member": key[writers],
                "ts": rng.integers(0, 90 * DAY_US, len(writers)),
                "text": np.array(PHRASES)[rng.integers(0, len(PHRASES), len(writers))],
            },
            schema=WRITINGS,
        ),
        memberships=pl.DataFrame({"member": key, "community": comm[home]}, schema=MEMBERSHIPS),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    log = generate(args.members, args.seed)
    tokens("预热")  # jieba loads its dictionary once per process (~4 s): not the model's cost
    now = 90 * DAY_US
    timings: dict[str, float] = {}
    started = time.perf_counter()
    built = build(log, now, (now - 30 * DAY_US, now + 1))
    timings["build"] = time.perf_counter() - started
    started = time.perf_counter()
    model = fit(built.data)
    timings["fit"] = time.perf_counter() - started
    started = time.perf_counter()
    mine = top_k(built.data, scorer(model, built.data), 5)
    timings["top 5"] = time.perf_counter() - started
    started = time.perf_counter()
    popular = top_k(built.data, popularity_scorer(built.data), 5)
    timings["popularity top 5"] = time.perf_counter() - started
    n_items = len(built.items)
    print(f"{args.members:,} members, {n_items:,} items, {log.engagements.height:,} clicks")
    for name, seconds in timings.items():
        print(f"  {name:<18} {seconds:7.2f} s")
    ours = timings["fit"] + timings["top 5"]
    ratio = ours / timings["popularity top 5"]
    print(f"  fit + top 5 / popularity top 5: {ratio:.1f}x")
    print(f"  members with 5 picks: {(mine >= 0).all(axis=1).mean():.1%} (popularity "
          f"{(popular >= 0).all(axis=1).mean():.1%})")  # fmt: skip


if __name__ == "__main__":
    main()
