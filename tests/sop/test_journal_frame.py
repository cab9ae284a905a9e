"""`journal.entries` (column-wise) makes the rows `journal.entry` makes, value for value."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from sqlalchemy import select

from shequn.sop import journal
from shequn.store.bulk import EventSink
from shequn.store.engine import read_transaction, write_transaction
from shequn.store.schema import events
from shequn.workspace import Workspace

NAMES = ["金卡会员", "gold", 'say "hi"\\', "tab\tnew\nline\x01\x7f", "😀 é", "", None]


def _by_entry(frame: pl.DataFrame, ts: int) -> list[dict]:
    return [
        journal.entry(
            "tier_changed",
            ts,
            row["communities"].split(",")[0],
            f"{row['member']}|{ts}",
            member=row["member"],
            text=row["tier"],
            **{"from": row["held"], "reason": row["why"], "risk": row["risk"]},
        )
        for row in frame.iter_rows(named=True)
    ]


def _by_entries(frame: pl.DataFrame, ts: int) -> list[dict]:
    return journal.entries(
        frame,
        "tier_changed",
        ts,
        pl.col("communities").str.split(",").list.first(),
        pl.col("member") + f"|{ts}",
        member=pl.col("member"),
        text=pl.col("tier"),
        **{"from": pl.col("held"), "reason": pl.col("why"), "risk": pl.col("risk")},
    ).to_dicts()


def test_entries_equal_entry_for_text_and_none() -> None:
    n = len(NAMES)
    frame = pl.DataFrame(
        {
            "communities": ["群一,club"] * n,
            "member": [f"wx:成员{i}" for i in range(n)],
            "tier": NAMES,
            "held": list(reversed(NAMES)),
            "why": NAMES[1:] + NAMES[:1],
            "risk": [0.5, None, 1.0, 0.0, 1e-05, 0.9, float("nan")],
        }
    )
    rows = _by_entries(frame, 1_700_000_000_000_000)
    assert rows == _by_entry(frame, 1_700_000_000_000_000)
    # Read by hand: keys sorted, non-ASCII kept, null for None, Python's float forms.
    assert rows[0]["meta"] == '{"from": null, "reason": "gold", "risk": 0.5}'
    assert rows[0]["source_id"] == "tier_changed|wx:成员0|1700000000000000"
    assert rows[0]["community"] == "群一"
    assert rows[1]["meta"] == '{"from": "", "reason": "say \\"hi\\"\\\\", "risk": null}'
    assert json.loads(rows[4]["meta"]) == {"from": 'say "hi"\\', "reason": "", "risk": 1e-05}
    assert rows[4]["meta"].endswith('"risk": 1e-05}')


def test_floats_are_written_as_json_dumps_writes_them() -> None:
    rng = np.random.default_rng(14)
    exponents = rng.uniform(-330, 307, 20_000)
    mantissas = rng.uniform(-10, 10, 20_000)
    edges = [0.0, -0.0, 1.0, 0.1 + 0.2, 1e-4, 9.999e-5, 1e-5, 1.5e-5, 9.9e-6, 1e15, 1e16]
    edges += [5e-324, 1.7976931348623157e308, float("inf"), float("-inf"), float("nan")]
    values = [float(v) for v in mantissas * 10.0**exponents] + edges + list(rng.random(10_000))
    frame = pl.DataFrame({"risk": values}, schema={"risk": pl.Float64})
    rows = journal.entries(
        frame, "churn_risk_crossed", 1, pl.lit("c"), pl.lit("k"), risk=pl.col("risk")
    )
    expected = [json.dumps({"risk": v}) for v in values]
    assert rows["meta"].to_list() == expected


def test_entries_without_meta_and_with_integers_and_booleans() -> None:
    frame = pl.DataFrame({"n": [3, None], "b": [True, False]})
    bare = journal.entries(frame, "tag_added", 7, pl.lit("club"), pl.lit("k"), text=pl.lit("VIP"))
    assert bare.to_dicts()[0] == journal.entry("tag_added", 7, "club", "k", text="VIP")
    typed = journal.entries(
        frame, "points_added", 7, pl.lit("c"), pl.lit("k"), total=pl.col("n"), on=pl.col("b")
    )
    assert typed["meta"].to_list() == ['{"on": true, "total": 3}', '{"on": false, "total": null}']


def test_entries_refuse_unknown_types_and_nested_meta() -> None:
    frame = pl.DataFrame({"x": [[1]]})
    with pytest.raises(ValueError, match="not an SOP event type"):
        journal.entries(frame, "message", 1, pl.lit("c"), pl.lit("k"))
    with pytest.raises(TypeError, match="meta 'x' is List"):
        journal.entries(frame, "tag_added", 1, pl.lit("c"), pl.lit("k"), x=pl.col("x"))


def test_staged_rows_are_stored_once_beside_recorded_ones(ws: Workspace) -> None:
    frame = pl.DataFrame({"member": ["wx:甲", "wx:b", "wx:c"]})
    rows = journal.entries(
        frame,
        "tag_added",
        5,
        pl.lit("club"),
        pl.col("member"),
        member=pl.col("member"),
        text=pl.lit("VIP"),
        by=pl.lit("运营"),
    )
    with write_transaction(ws.engine) as conn:  # one stored the other way first
        journal.record(
            conn,
            [journal.entry("tag_added", 5, "club", "wx:b", member="wx:b", text="VIP", by="运营")],
        )
    added = []
    for _ in range(2):
        with EventSink(ws.engine, ws.root / "data") as sink:
            journal.stage(sink, rows)
            with sink.commit():
                pass
        added.append(sink.added)
    assert added == [2, 0]
    query = select(*(events.c[c] for c in journal.ROW_COLUMNS)).order_by(events.c.member)
    with read_transaction(ws.engine) as conn:
        stored = [dict(r._mapping) for r in conn.execute(query)]
    assert stored == sorted(rows.to_dicts(), key=lambda r: r["member"])
    assert stored[0]["meta"] == '{"by": "运营"}'
