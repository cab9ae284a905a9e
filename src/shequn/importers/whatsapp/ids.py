"""Stable ids for WhatsApp messages, which have none in the export.

A message's id is the MD5 of ``community, local time, member, text, occurrence``
joined by U+001F, where occurrence counts identical (time, member, text) earlier in
the file, so two "ok" in the same minute are two events and an overlapping later
export gives the same ids to the same messages. MD5 is computed by DuckDB over the
whole column (Python's hashlib row by row costs a second per million) and is the same
bytes as :func:`digest`; unlike Polars' own hash it never changes between versions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

import polars as pl

SEPARATOR = "\x1f"
_KEYS = ["local", "member", "text"]


def digest(community: str, epoch: int, *parts: object) -> str:
    """The id of one event from its parts (what :func:`message_ids` computes per row).

    The local time in epoch seconds leads, zero-padded, so ids sort in time order: the
    store's unique index then grows at its end instead of at random places, which
    halves the cost of storing a large export (docs/adr/0002-bulk-append.md).
    """
    text = SEPARATOR.join(str(p) for p in (community, epoch, *parts))
    return f"{epoch:011d}{hashlib.md5(text.encode()).hexdigest()[:16]}"


def message_ids(
    community: str, local: pl.Series, member: pl.Series, text: pl.Series, occurrence: pl.Series
) -> pl.Series:
    """Per row, ``digest(community, local epoch seconds, member, text, occurrence)``."""
    if not len(text):
        return pl.Series("source_id", [], pl.String)
    import duckdb  # only here: the import takes a tenth of a second

    rows = pl.DataFrame(
        {"e": local.dt.epoch("s"), "m": member, "t": text, "n": occurrence}
    ).to_arrow(compat_level=pl.CompatLevel.newest())  # string views: no copy
    with duckdb.connect() as con:
        con.register("rows", rows)
        # A plain projection keeps the row order (DuckDB preserves insertion order).
        query = (
            "select lpad(cast(e as varchar), 11, '0') "
            "|| left(md5(concat_ws(chr(31), $c, e, m, t, n)), 16) as source_id from rows"
        )
        return con.sql(query, params={"c": community}).pl().to_series()


@dataclass
class Occurrences:
    """Counts identical (local time, member, text) across the chunks of one file.

    Only the keys of the last ``window`` of local time are remembered between chunks,
    so memory stays bounded; an identical message would have to come back more than
    that far out of order to be miscounted.
    """

    window: timedelta = timedelta(days=1)
    _seen: pl.DataFrame | None = None

    def number(self, local: pl.Series, member: pl.Series, text: pl.Series) -> pl.Series:
        """The occurrence number of each row (0 for the first of its kind)."""
        frame = pl.DataFrame({"local": local, "member": member, "text": text})
        hashes = frame.select(pl.struct(_KEYS).hash()).to_series()
        repeated = self._repeated(hashes)
        occurrence = pl.zeros(frame.height, pl.Int64, eager=True).alias("n")
        if repeated.any():
            rows = repeated.arg_true()
            subset = frame[rows].with_columns(n=pl.int_range(pl.len()).over(_KEYS))
            if self._seen is not None:
                subset = subset.join(
                    self._seen.rename({"n": "before"}),
                    on=_KEYS,
                    how="left",
                    maintain_order="left",
                ).with_columns(n=pl.col("n") + pl.col("before").fill_null(0))
            occurrence = occurrence.scatter(rows, subset["n"])
        self._remember(frame)
        return occurrence

    def _repeated(self, hashes: pl.Series) -> pl.Series:
        """Rows whose key may have been seen before (exact check follows on these)."""
        ordered = hashes.sort()
        twice = ordered.filter(ordered == ordered.shift(1))
        if self._seen is not None:
            twice = pl.concat([twice, self._seen.select(pl.struct(_KEYS).hash()).to_series()])
        if not len(twice):
            return pl.repeat(False, len(hashes), eager=True)
        return hashes.is_in(twice.unique().implode())

    def _remember(self, frame: pl.DataFrame) -> None:
        if not frame.height:
            return
        cutoff = frame["local"].max() - self.window  # type: ignore[operator]
        recent = frame.filter(pl.col("local") >= cutoff).with_columns(n=pl.lit(1, pl.Int64))
        if self._seen is not None:
            recent = pl.concat([self._seen.filter(pl.col("local") >= cutoff), recent])
        self._seen = recent.group_by(_KEYS).agg(pl.col("n").sum())
