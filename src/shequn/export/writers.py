"""The writers of the export formats: frames of events in, a file out, rows counted.

Each writer is named in `shequn.export.FORMATS`. Every frame has the columns of
`EXPORT_COLUMNS`, all strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import polars as pl

from shequn.domain.events import CANONICAL_FIELDS
from shequn.spreadsheet import escape_column

# The canonical fields plus `source`, which re-import needs for idempotency.
EXPORT_COLUMNS: tuple[str, ...] = (*CANONICAL_FIELDS, "source")
# Columns of free text; `ts` and `amount` are never formulas (an amount may be -20).
TEXT_COLUMNS = tuple(c for c in EXPORT_COLUMNS if c not in ("ts", "amount"))


def empty() -> pl.DataFrame:
    """No events, with the export's columns (a CSV of nothing still has its header)."""
    return pl.DataFrame(
        {c: [] for c in EXPORT_COLUMNS}, schema={c: pl.String for c in EXPORT_COLUMNS}
    )


def write_csv(frames: Iterable[pl.DataFrame], path: Path) -> int:
    """CSV for spreadsheets too: a text cell a spreadsheet would run as a formula is
    prefixed with a quote (shequn.spreadsheet); the canonical importer takes it off."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        first = True
        for frame in frames:
            safe = frame.with_columns(escape_column(c) for c in TEXT_COLUMNS)
            fh.write(safe.write_csv(include_header=first))
            first = False
            count += frame.height
        if first:
            fh.write(empty().write_csv())
    return count


def write_jsonl(frames: Iterable[pl.DataFrame], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        for frame in frames:
            fh.write(frame.write_ndjson())
            count += frame.height
    return count


def write_parquet(frames: Iterable[pl.DataFrame], path: Path) -> int:
    """One Parquet file: the frames are joined first (Parquet is not appended to)."""
    parts = list(frames)
    frame = pl.concat(parts) if parts else empty()
    frame.write_parquet(path)
    return frame.height
