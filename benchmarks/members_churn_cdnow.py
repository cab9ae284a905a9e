"""Churn models on the CDNOW purchase log (a public BG/NBD benchmark), by hand.

    python benchmarks/members_churn_cdnow.py PATH/cdnow_master.txt

The file (customer_id date number_of_cds dollar_value, whitespace-separated, 1997-01
to 1998-06) is not part of shequn and is never committed. The split: features and
fits use purchases before week 52; the label is "no purchase in the next 26 weeks";
the logistic model trains on week 26 with labels observed by week 52.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import polars as pl

from shequn.members.evaluate import purchase_split


def load(path: Path) -> pl.DataFrame:
    rows = [line.split() for line in path.read_text().splitlines()[1:] if line.strip()]
    frame = pl.DataFrame({"customer": [r[0] for r in rows], "date": [r[1] for r in rows]})
    return frame.select(
        "customer", pl.col("date").str.strptime(pl.Date, "%Y%m%d").cast(pl.Int32).alias("day")
    )


def main(path: Path) -> None:
    purchases = load(path)
    start = purchases["day"].min()
    assert isinstance(start, int)
    began = time.perf_counter()
    judged = purchase_split(purchases, cut=start + 52 * 7, horizon=26 * 7)
    took = time.perf_counter() - began
    print(f"{purchases.height:,} purchases, {purchases['customer'].n_unique():,} customers")
    print("| model | buyers | churned | AUC | precision@10% | Brier |")
    print("|---|---|---|---|---|---|")
    for j in judged:
        print(
            f"| {j.model} | {j.n:,} | {j.base_rate:.1%} | {j.auc:.3f} | "
            f"{j.precision_top10:.3f} | {j.brier:.4f} |"
        )
    for j in judged:
        cells = ", ".join(f"{p:.2f}→{o:.2f}" for p, o in j.reliability)
        print(f"reliability {j.model}: {cells}")
    print(f"(all three fitted and scored in {took:.1f} s)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
