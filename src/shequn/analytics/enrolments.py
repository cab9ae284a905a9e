"""The experiments' enrolments in the analytics copy (`enrolments`).

The engine's `experiment_assigned` events are the one SOP event type the copy keeps, in
a table of its own so no metric sees them; shequn.experiments reads it. The arm is the
event's `text`, read from the store only for these events (`copy.COMPUTED`).
"""

from __future__ import annotations

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from shequn.analytics.arrows import text

_ASSIGNED = text("experiment_assigned")  # made without pandas (analytics.arrows)


def enrolments_of(batch: pa.Table) -> pa.Table:
    """The batch's `experiment_assigned` events (SOP events, not in `events`); one that
    lacks its experiment, arm or member (the engine always writes them) is no enrolment."""
    if "arm" not in batch.column_names or batch.num_rows == 0:
        return _NO_ENROLMENTS  # rows from before the copy kept enrolments
    assigned = pc.equal(batch["type"].cast(pa.string()), _ASSIGNED)
    if not pc.any(assigned).as_py():
        return _NO_ENROLMENTS
    raw = pl.from_arrow(batch.filter(assigned))
    assert isinstance(raw, pl.DataFrame)
    found = raw.select(
        pl.col("meta").cast(pl.String).str.json_path_match("$.experiment").alias("experiment"),
        pl.col("arm").cast(pl.String),
        pl.col("community").cast(pl.String),
        pl.col("member").cast(pl.String),
        pl.col("ts").cast(pl.Int64),
    ).drop_nulls()
    return found.to_arrow()


# From the schema alone, as records._NO_RECORDS: `pa.array([])` would import pandas.
_NO_ENROLMENTS = pa.Table.from_batches(
    [],
    schema=pa.schema(
        [
            ("experiment", pa.string()),
            ("arm", pa.string()),
            ("community", pa.string()),
            ("member", pa.string()),
            ("ts", pa.int64()),
        ]
    ),
)


def merge_enrolments(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("INSERT INTO enrolments SELECT * FROM enrolled_rows ORDER BY ts")
