"""The recommender on the simulator: time splits, against popularity and random.

Runs the default simulation (seeded), then for each cut-off fits on everything before
it and judges the top 5 on the clicks of the 28 days after it
(shequn.members.recommend.evaluate). The figures of docs/members.md come from here.

    python benchmarks/recommend_sim.py
    python benchmarks/recommend_sim.py --seeds 1 2 3 --cuts 60 80 --days 120
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import polars as pl

from shequn.members.recommend.data import log_of
from shequn.members.recommend.evaluate import DAY_US, evaluate
from shequn.simulate import default_spec, simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 7])
    parser.add_argument("--cuts", type=int, nargs="+", default=[70, 90], help="community days")
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--events", type=int, default=400_000)
    parser.add_argument("--horizon", type=int, default=28)
    args = parser.parse_args()
    print("| seed | cut day | model | members judged | recall@5 | hit rate | coverage |")
    print("|---|---|---|---|---|---|---|")
    for seed in args.seeds:
        spec = replace(default_spec(days=args.days, target_events=args.events), seed=seed)
        log = log_of(pl.concat(list(simulate(spec))))
        start = int(log.items["ts"].min())
        for day in args.cuts:
            for j in evaluate(log, start + day * DAY_US, args.horizon):
                print(
                    f"| {seed} | {day} | {j.model} | {j.members:,} | {j.recall:.3f} "
                    f"| {j.hit_rate:.3f} | {j.coverage:.3f} |"
                )


if __name__ == "__main__":
    main()
