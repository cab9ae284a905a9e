"""The canonical event log: CSV (UTF-8, header row) or JSON Lines, as in docs/metrics.md.

This is also what `shequn export events` writes, so an export imports back unchanged
(the export's extra `source` column keeps each event's original source).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

import msgspec
import polars as pl

from shequn.domain.events import CANONICAL_FIELDS
from shequn.errors import InputError
from shequn.importers.base import ImportContext, Item
from shequn.importers.csv_fields import numbered_rows
from shequn.importers.source import Source
from shequn.importers.text import open_text
from shequn.spreadsheet import unescape_column

BATCH_ROWS = 100_000
_ISO = "%Y-%m-%dT%H:%M:%S%.f%z"
_KNOWN = (*CANONICAL_FIELDS, "source")


def parse_timestamps(values: pl.Series, lines: pl.Series, path: str) -> pl.Series:
    """ISO 8601 strings with an offset or Z to UTC datetimes; naive ones are errors."""
    normal = values.str.strip_chars().str.replace(r"[zZ]$", "+00:00").str.replace(" ", "T")
    parsed = normal.str.to_datetime(_ISO, time_zone="UTC", strict=False)
    failed = parsed.is_null() & values.is_not_null()
    if failed.any():
        # Rare forms (hours only offset, week dates...) get Python's parser, row by row.
        index = failed.arg_true()
        fixed = []
        for i in index.to_list():
            raw = values[i]
            try:
                ts = datetime.fromisoformat(raw.strip().replace("z", "Z"))
            except ValueError:
                raise InputError(
                    f"timestamp {raw!r} is not ISO 8601",
                    path=path,
                    line=int(lines[i]),
                    field="ts",
                    hint="write times like 2026-10-01T09:30:00+08:00 or 2026-10-01T01:30:00Z",
                ) from None
            if ts.tzinfo is None:
                raise InputError(
                    f"timestamp {raw!r} has no offset",
                    path=path,
                    line=int(lines[i]),
                    field="ts",
                    hint="add the offset (e.g. +08:00) or Z for UTC: "
                    "a time without one is ambiguous",
                )
            fixed.append(ts)
        parsed = parsed.scatter(index, pl.Series(fixed, dtype=pl.Datetime("us", "UTC")))
    return parsed


def _with_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows without a source_id get one from their content, so re-import is idempotent."""
    if frame["source_id"].is_not_null().all():
        return frame
    fields = [c for c in CANONICAL_FIELDS if c != "source_id"]
    digests = [
        None
        if sid
        else hashlib.blake2b("\x1f".join(v or "" for v in row).encode(), digest_size=12).hexdigest()
        for sid, *row in zip(
            frame["source_id"].to_list(), *(frame[c].to_list() for c in fields), strict=True
        )
    ]
    return frame.with_columns(
        pl.coalesce(pl.col("source_id"), pl.Series("h", digests, dtype=pl.String)).alias(
            "source_id"
        )
    )


def _finish(frame: pl.DataFrame, lines: list[int], path: str, ctx: ImportContext) -> pl.DataFrame:
    frame = frame.with_columns(pl.Series("_line", lines, dtype=pl.Int64))
    for name in _KNOWN:
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    frame = frame.with_columns([pl.col(c).cast(pl.String).replace("", None) for c in _KNOWN])
    if ctx.community:
        frame = frame.with_columns(pl.lit(ctx.community).alias("community"))
    frame = _with_ids(frame)
    frame = frame.with_columns(parse_timestamps(frame["ts"], frame["_line"], path).alias("ts"))
    return frame.select(["ts", *[c for c in _KNOWN if c != "ts"], "_line"])


def _check_header(header: list[str], where: str) -> None:
    unknown = [h for h in header if h not in _KNOWN]
    if unknown:
        raise InputError(
            f"unknown column {unknown[0]!r}",
            path=where,
            line=1,
            hint="the canonical columns are: " + ", ".join(CANONICAL_FIELDS),
        )
    for required in ("ts", "type"):
        if required not in header:
            raise InputError(f"no {required!r} column", path=where, line=1, hint="add the column")


class CanonicalImporter:
    name = "canonical"
    description = "shequn's canonical event log (CSV with a header row, or JSON Lines)"

    def sniff(self, source: Source) -> bool:
        names = source.names()
        if len(names) != 1:
            return False
        head = source.head(names[0], 4096).lstrip(b"\xef\xbb\xbf")
        first = head.split(b"\n", 1)[0].strip()
        if first.startswith(b"{"):
            return b'"ts"' in first and b'"type"' in first
        columns = {c.strip().strip('"') for c in first.decode("utf-8", "replace").split(",")}
        return {"ts", "type", "community"} <= columns or {"ts", "type", "member"} <= columns

    def read(self, source: Source, ctx: ImportContext) -> Iterator[Item]:
        for name in source.names():
            where = source.where(name)
            head = source.head(name, 4096).lstrip(b"\xef\xbb\xbf").lstrip()
            if head.startswith(b"{"):
                yield from self._read_jsonl(source, name, where, ctx)
            else:
                yield from self._read_csv(source, name, where, ctx)

    def _read_csv(
        self, source: Source, name: str, where: str, ctx: ImportContext
    ) -> Iterator[Item]:
        with (
            source.open_binary(name) as raw,
            open_text(raw, where, allow_gb18030=False) as (text, consumed),
        ):
            numbered = numbered_rows(text, where)
            first = next(numbered, None)
            if first is None:
                return
            header = [h.strip() for h in first[1]]
            _check_header(header, where)
            rows: list[list[str]] = []
            lines: list[int] = []
            reported = 0
            for line, row in numbered:
                if len(row) != len(header):
                    if not any(cell.strip() for cell in row):
                        continue
                    raise InputError(
                        f"{len(row)} fields where the header has {len(header)}",
                        path=where,
                        line=line,
                        hint="quote fields that contain commas or line breaks",
                    )
                rows.append(row)
                lines.append(line)
                if len(rows) == BATCH_ROWS:
                    yield self._frame(header, rows, lines, where, ctx)
                    rows, lines = [], []
                    ctx.progress(consumed() - reported)
                    reported = consumed()
            if rows:
                yield self._frame(header, rows, lines, where, ctx)
            ctx.progress(consumed() - reported)

    def _frame(
        self,
        header: list[str],
        rows: list[list[str]],
        lines: list[int],
        where: str,
        ctx: ImportContext,
    ) -> pl.DataFrame:
        columns = {h: [r[i] for r in rows] for i, h in enumerate(header)}
        frame = pl.DataFrame(columns, schema={h: pl.String for h in header})
        # An export's quote before a formula-like cell (shequn.spreadsheet) comes off.
        texts = [h for h in header if h not in ("ts", "amount")]
        return _finish(frame.with_columns(unescape_column(h) for h in texts), lines, where, ctx)

    def _read_jsonl(
        self, source: Source, name: str, where: str, ctx: ImportContext
    ) -> Iterator[Item]:
        decoder = msgspec.json.Decoder(float_hook=Decimal)
        rows: list[dict] = []
        lines: list[int] = []
        consumed = 0
        with source.open_binary(name) as fh:
            for number, raw in enumerate(fh, start=1):
                consumed += len(raw)
                if not raw.strip():
                    continue
                try:
                    record = decoder.decode(raw)
                except msgspec.DecodeError as exc:
                    raise InputError(
                        f"not valid JSON ({exc})",
                        path=where,
                        line=number,
                        hint="each line must be one JSON object",
                    ) from None
                if not isinstance(record, dict):
                    raise InputError(
                        "not a JSON object",
                        path=where,
                        line=number,
                        hint="each line must be one JSON object",
                    )
                unknown = [k for k in record if k not in _KNOWN]
                if unknown:
                    raise InputError(
                        f"unknown field {unknown[0]!r}",
                        path=where,
                        line=number,
                        hint="the canonical fields are: " + ", ".join(CANONICAL_FIELDS),
                    )
                rows.append(record)
                lines.append(number)
                if len(rows) == BATCH_ROWS:
                    yield self._json_frame(rows, lines, where, ctx)
                    rows, lines = [], []
                    ctx.progress(consumed)
                    consumed = 0
        if rows:
            yield self._json_frame(rows, lines, where, ctx)
        ctx.progress(consumed)

    def _json_frame(
        self, rows: list[dict], lines: list[int], where: str, ctx: ImportContext
    ) -> pl.DataFrame:
        columns = {k: [None if r.get(k) is None else str(r[k]) for r in rows] for k in _KNOWN}
        frame = pl.DataFrame(columns, schema={k: pl.String for k in _KNOWN})
        return _finish(frame, lines, where, ctx)


IMPORTER = CanonicalImporter()
