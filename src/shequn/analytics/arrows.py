"""Arrow values made from Python ones without pandas.

pyarrow checks the Python values it is handed (a list, a row, a `str` scalar, None)
against pandas' types, importing pandas (~0.3 s) into the process when it is installed
(the `clickhouse`, `bench` and `dev` extras bring it). Polars makes them instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import pyarrow as pa


def strings(values: tuple[str, ...]) -> pa.Array:
    """An Arrow string array of `values`."""
    return pl.Series(values, dtype=pl.String).to_arrow().cast(pa.string())


def text(value: str) -> pa.Scalar:
    """An Arrow string scalar, to compare a column with."""
    return strings((value,))[0]


NULL_TEXT: pa.Scalar = pa.nulls(1, pa.string())[0]


def from_rows(rows: Sequence[Sequence[object]], schema: pa.Schema) -> pa.Table:
    """Rows read through SQLAlchemy as an Arrow table of `schema` (strings and 64-bit
    integers)."""
    kinds = {pa.string(): pl.String, pa.int64(): pl.Int64}
    frame = pl.DataFrame(
        [tuple(r) for r in rows], schema={f.name: kinds[f.type] for f in schema}, orient="row"
    )
    return frame.to_arrow().cast(schema)
