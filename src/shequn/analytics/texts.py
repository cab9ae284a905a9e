"""Arrow strings made without pandas.

pyarrow checks Python values it is handed (a list, a `str` scalar, None) against
pandas' types, importing pandas (~0.3 s) into the process when it is installed (the
`clickhouse` and `bench` extras bring it). Polars makes them instead.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa


def strings(values: tuple[str, ...]) -> pa.Array:
    """An Arrow string array of `values`."""
    return pl.Series(values, dtype=pl.String).to_arrow().cast(pa.string())


def text(value: str) -> pa.Scalar:
    """An Arrow string scalar, to compare a column with."""
    return strings((value,))[0]


NULL_TEXT: pa.Scalar = pa.nulls(1, pa.string())[0]
