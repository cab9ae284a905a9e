"""The columnar form of a batch of events, and its validation.

Importers may yield `Event` objects (simple formats) or Polars frames in this schema
(fast formats). Either way the import service turns them into validated frames of
this schema before they are stored, so there is one validation path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC
from decimal import Decimal, InvalidOperation

import polars as pl

from shequn.domain.events import EVENT_TYPES, Event
from shequn.errors import InputError

TEXT_COLUMNS: tuple[str, ...] = (
    "community",
    "member",
    "type",
    "channel",
    "inviter",
    "visitor",
    "message_id",
    "reply_to",
    "content_id",
    "order_id",
    "amount",
    "text",
    "source_id",
    "meta",
    # Overrides the importer's name as the event's source (canonical round trips).
    "source",
    # Not stored on the event: the display names, kept on the member.
    "member_name",
    "inviter_name",
)

# ts is UTC; `_line` is where the event came from in its file (for error messages).
FRAME_SCHEMA: dict[str, pl.DataType] = {
    "ts": pl.Datetime("us", "UTC"),
    **{name: pl.String() for name in TEXT_COLUMNS},
    "_line": pl.Int64(),
}

# Characters that never belong in member text: C0 controls but tab and newline, DEL,
# and C1 controls. Removed, so hostile text cannot corrupt a terminal or a CSV.
_CONTROL_CHARS = r"[\x00-\x08\x0b-\x1f\x7f-\x9f]"


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Give a frame every column of FRAME_SCHEMA, in order, with the right types."""
    missing = [
        pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in FRAME_SCHEMA.items()
        if name not in frame.columns
    ]
    if missing:
        frame = frame.with_columns(missing)
    return frame.select(
        [pl.col(name).cast(dtype, strict=True) for name, dtype in FRAME_SCHEMA.items()]
    )


def events_to_frame(
    events: Iterable[Event], lines: Iterable[int | None] | None = None
) -> pl.DataFrame:
    """Columns from Event objects (for importers that build events one by one)."""
    rows: dict[str, list] = {name: [] for name in FRAME_SCHEMA}
    line_iter = iter(lines) if lines is not None else None
    for event in events:
        ts = event.ts
        if ts.tzinfo is None:
            raise InputError("timestamp has no time zone", field="ts")
        rows["ts"].append(ts.astimezone(UTC))
        for name in TEXT_COLUMNS:
            if name in ("amount", "meta", "member_name", "inviter_name", "source"):
                continue
            rows[name].append(getattr(event, name) or None)
        rows["amount"].append(None if event.amount is None else str(event.amount))
        rows["source"].append(None)
        meta = event.meta or {}
        rows["member_name"].append(meta.get("name") or None)
        rows["inviter_name"].append(meta.get("inviter_name") or None)
        rest = {k: v for k, v in meta.items() if k not in ("name", "inviter_name")}
        rows["meta"].append(json.dumps(rest, ensure_ascii=False, sort_keys=True) if rest else None)
        rows["_line"].append(next(line_iter) if line_iter is not None else None)
    return pl.DataFrame(rows, schema=FRAME_SCHEMA)


def _first_bad(frame: pl.DataFrame, mask: pl.Series) -> tuple[int | None, int]:
    """(source line, row index) of the first row where mask is true."""
    index = int(mask.arg_true()[0])
    line = frame["_line"][index]
    return (int(line) if line is not None else None), index


def validate(frame: pl.DataFrame, path: str) -> pl.DataFrame:
    """Check a conformed frame against the contract; return it cleaned.

    Raises InputError naming the file and line of the first bad row.
    """

    def fail(mask: pl.Series, message: str, field: str, hint: str) -> None:
        line, index = _first_bad(frame, mask)
        raise InputError(
            message, path=path, line=line if line is not None else index + 1, field=field, hint=hint
        )

    if frame.height == 0:
        return frame
    bad = frame["ts"].is_null()
    if bad.any():
        fail(
            bad,
            "no timestamp",
            "ts",
            "give an ISO 8601 time with an offset, e.g. 2026-10-01T09:30:00+08:00",
        )
    bad = frame["community"].is_null()
    if bad.any():
        fail(
            bad,
            "no community",
            "community",
            "name the community in the row or pass --community KEY",
        )
    bad = ~frame["type"].is_in(sorted(EVENT_TYPES)) | frame["type"].is_null()
    if bad.any():
        line, index = _first_bad(frame, bad)
        raise InputError(
            f"unknown event type {frame['type'][index]!r}",
            path=path,
            line=line if line is not None else index + 1,
            field="type",
            hint="use one of: " + ", ".join(sorted(EVENT_TYPES)),
        )
    bad = frame["member"].is_null() & (frame["type"] != "visit")
    if bad.any():
        fail(bad, "no member", "member", "every event but an anonymous visit needs a member key")
    is_order = frame["type"] == "order"
    bad = is_order & frame["amount"].is_null()
    if bad.any():
        fail(
            bad,
            "an order needs an amount",
            "amount",
            "give the order amount as a decimal, e.g. 99.50",
        )
    bad = frame["source_id"].is_null()
    if bad.any():
        fail(
            bad,
            "no source id",
            "source_id",
            "this is a bug in the importer: every event needs an id at its source",
        )
    amounts = frame["amount"].drop_nulls()
    if amounts.len():
        for index, value in enumerate(frame["amount"].to_list()):
            if value is None:
                continue
            try:
                number = Decimal(value)
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite():
                line = frame["_line"][index]
                raise InputError(
                    f"amount {value!r} is not a decimal number",
                    path=path,
                    line=int(line) if line is not None else index + 1,
                    field="amount",
                    hint="write amounts like 99.50 or -20 (no currency sign, no thousands separator)",
                )
    text_columns = [c for c in TEXT_COLUMNS if c not in ("amount", "meta", "source")]
    return frame.with_columns(
        [pl.col(c).str.replace_all(_CONTROL_CHARS, "") for c in text_columns]
    ).with_columns(
        # An empty string means absent everywhere: store it as NULL.
        [pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in text_columns]
    )
