"""DiscordChatExporter's CSV variant: ``AuthorID,Author,Date,Content,Attachments,Reactions``.

The CSV has no message ids, no types, no mentions and no reactors, so it gives
messages (with reaction counts in meta) and nothing else, with two exceptions:
DiscordChatExporter writes system notices as fixed English texts, so a row reading
exactly "Joined the server." is a join and "Left the group." a leave; other notices
(pins, threads, calls) are skipped rather than counted as messages.

The file has no guild or channel either; DiscordChatExporter names it
``<guild> - [<category> - ]<channel> [<channel id>].csv``, which gives the same
community as the JSON export of that channel. source_id is
``<channel id>:<content hash>``, the hash of (UTC time, author id, text, occurrence of
that same triple earlier in the file), so an overlapping later export repeats it.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import PurePosixPath

import msgspec
import polars as pl

from shequn.errors import InputError
from shequn.importers.base import ImportContext, community_key, content_id
from shequn.importers.discord.timestamps import parse_times
from shequn.importers.text import decode

CSV_HEADER = "AuthorID,Author,Date,Content,Attachments,Reactions"
_HEADER = tuple(CSV_HEADER.split(","))
_FILE_NAME = re.compile(r"^(?P<guild>.+?) - (?:.+ - )?(?P<channel>.+?) \[(?P<id>\d+)\]$")
_REACTION = re.compile(r"(.+?) \((\d+)\)(?:,|$)")
_CALL = re.compile(r"^Started a call that lasted [\d,]+ minutes\.$")
_NOTICES: dict[str, str | None] = {
    "Joined the server.": "join",
    "Left the group.": "leave",
    "Pinned a message.": None,
    "Started a thread.": None,
    "Changed the channel icon.": None,
    "Added a recipient.": None,
    "Removed a recipient.": None,
}
_CSV_COLUMNS = ("_when", "_line", "type", "member", "member_name", "text", "meta")
_META = msgspec.json.Encoder(order="sorted")
_HINT = "export the channel again with DiscordChatExporter, format CSV (or JSON)"


def looks_like_csv(head: bytes) -> bool:
    """True if the first line is DiscordChatExporter's CSV header."""
    first = head.removeprefix(codecs.BOM_UTF8).split(b"\n", 1)[0].strip()
    cells = first.decode("utf-8", "replace").split(",")
    return tuple(cell.strip().strip('"') for cell in cells) == _HEADER


def chat_of(name: str) -> tuple[str, str]:
    """(community label, source_id prefix) from DiscordChatExporter's file name."""
    stem = PurePosixPath(name).stem
    found = _FILE_NAME.match(stem)
    if found is None:
        return stem, f"name:{stem}"
    return f"{found['guild']} #{found['channel']}", found["id"]


def read_csv(data: bytes, name: str, where: str, ctx: ImportContext) -> Iterator[pl.DataFrame]:
    """The messages (and joins/leaves) of one CSV export as one frame."""
    reader = csv.reader(io.StringIO(decode(data, where, allow_gb18030=False)))
    header = tuple(cell.strip() for cell in next(reader, ()))
    if header != _HEADER:
        raise InputError(
            f"the header is {','.join(header)!r}, not DiscordChatExporter's",
            path=where,
            line=1,
            hint=f"the first line must be {CSV_HEADER}; " + _HINT,
        )
    label, prefix = chat_of(name)
    columns: dict[str, list] = {name: [] for name in _CSV_COLUMNS}
    last = reader.line_num
    for row in reader:
        line, last = last + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        _row(row, line, where, columns)
    if not columns["_line"]:
        return
    frame = pl.DataFrame(columns, schema_overrides={"_line": pl.Int64})
    ts = parse_times(frame["_when"], ctx.timezone)
    bad = ts.is_null()
    if bad.any():
        row_index = int(bad.arg_true()[0])
        raise InputError(
            f"date {frame['_when'][row_index]!r} is not a date DiscordChatExporter writes",
            path=where,
            line=int(frame["_line"][row_index]),
            field="Date",
            hint="dates look like 2020-05-17T12:34:56.789+00:00 or 17-May-20 12:34 PM",
        )
    frame = frame.with_columns(ts=ts, community=pl.lit(community_key(ctx, "discord", label)))
    yield frame.with_columns(source_id=_ids(frame, prefix)).drop("_when")


def _row(row: list[str], line: int, where: str, columns: dict[str, list]) -> None:
    if len(row) != len(_HEADER):
        raise InputError(
            f"{len(row)} fields where the header has {len(_HEADER)}",
            path=where,
            line=line,
            hint="quote fields that contain commas or line breaks; " + _HINT,
        )
    author_id, author, date, content, attachments, reactions = (cell.strip() for cell in row)
    for value, field in ((author_id, "AuthorID"), (date, "Date")):
        if not value:
            raise InputError(f"no {field}", path=where, line=line, field=field, hint=_HINT)
    kind = "message"
    if not attachments and (content in _NOTICES or _CALL.match(content)):
        kind = _NOTICES.get(content)
        if kind is None:
            return  # pins, threads, calls: noise
    meta: dict = {}
    if attachments:
        meta["media"] = "attachment"
    counts = {emoji: int(n) for emoji, n in _REACTION.findall(reactions)}
    if counts:
        meta["reactions"] = counts
    for name, value in (
        ("_when", date),
        ("_line", line),
        ("type", kind),
        ("member", f"discord:{author_id}"),
        ("member_name", author),
        ("text", content if kind == "message" else None),
        ("meta", _META.encode(meta).decode() if meta else None),
    ):
        columns[name].append(value)


def _ids(frame: pl.DataFrame, prefix: str) -> pl.Series:
    """Content ids; the same (time, author, text) again counts as a new occurrence."""
    seen: Counter[tuple] = Counter()
    ids = []
    for ts, member, text in zip(frame["ts"], frame["member"], frame["text"], strict=True):
        key = (ts.isoformat(), member, text)
        ids.append(f"{prefix}:{content_id(*key, seen[key])}")
        seen[key] += 1
    return pl.Series("source_id", ids, dtype=pl.String)
