"""Column-wise parsing of a WhatsApp export: one chunk of whole messages to one frame.

Per-line Python is the known trap at a million messages, so lines are cut from the
bytes with NumPy, matched with one regex in Polars, and times parsed in one vectorized
call. Only system lines (joins, leaves, noise: a few per thousand), media placeholders
and texts holding ``@`` are looked at in Python.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from shequn.errors import InputError
from shequn.importers.whatsapp.header import (
    HeaderShape,
    header_dates,
    infer_order,
    local_times,
    to_utc,
)
from shequn.importers.whatsapp.ids import Occurrences, digest, message_ids
from shequn.importers.whatsapp.system import (
    FREE_TEXT_SENDER,
    SYSTEM_HINT,
    SystemEvent,
    classify,
    name_marks_pattern,
    name_strip_chars,
    normalize_name,
    split_sender,
)

PLATFORM = "whatsapp"
# Media placeholders, after the text lost its iOS mark.
_MEDIA = (
    r"^(?:<Media omitted>|<attached: [^>]*>|.+ \(file attached\)"
    r"|(?:.* )?(?:image|video|audio|sticker|GIF|document|Contact card|video note) omitted)$"
)
_MEDIA_META = json.dumps({"media": True})
_MENTION = re.compile(r"@\u2068([^\u2069]+)\u2069|@(\+?\d{6,15})\b")
_EPOCH = datetime(1970, 1, 1)
_SCAN_BLOCK = 1 << 22


def _newlines(buf: np.ndarray) -> np.ndarray:
    # Block by block: one comparison over 64 MB at once costs more in page faults.
    found = [
        np.flatnonzero(buf[i : i + _SCAN_BLOCK] == 10) + i for i in range(0, len(buf), _SCAN_BLOCK)
    ]
    return np.concatenate(found) if found else np.empty(0, np.int64)


def split_lines(data: bytes, where: str, first_line: int) -> tuple[pl.Series, np.ndarray]:
    """The lines of ``data`` (without ``\\n`` or ``\\r\\n``) and the byte offset of each.

    The lines are views of ``data``: Arrow strings whose offsets skip the line ends
    (which sit in the odd strings, dropped), checked by Arrow to be valid UTF-8.
    """
    buf = np.frombuffer(data, np.uint8)
    nl = _newlines(buf)
    starts = np.concatenate(([0], nl + 1)).astype(np.int64)
    ends = np.concatenate((nl, [len(data)])).astype(np.int64)
    if data.endswith(b"\n"):
        starts, ends = starts[:-1], ends[:-1]
    if not len(starts):
        return pl.Series("line", [], pl.String), starts
    if b"\r" in data:
        cr = ends > starts
        cr[cr] = buf[ends[cr] - 1] == 13
        ends -= cr
    offsets = np.empty(2 * len(starts), np.int64)
    offsets[0::2], offsets[1::2] = starts, ends
    try:
        array = pa.LargeStringArray.from_buffers(
            len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(data)
        )
        array.validate(full=True)
    except pa.ArrowInvalid:
        raise _not_utf8(data, where, first_line) from None
    return pl.Series("line", pl.from_arrow(array)).gather_every(2), starts


def _not_utf8(data: bytes, where: str, first_line: int) -> InputError:
    try:
        data.decode("utf-8")
        start = 0
    except UnicodeDecodeError as exc:
        start = exc.start
    try:
        data.decode("gb18030")
        looks = " (it looks like GBK/GB18030, which WhatsApp never writes)"
    except UnicodeDecodeError:
        looks = ""
    return InputError(
        f"byte {data[start]:#04x} is not UTF-8{looks}",
        path=where,
        line=first_line + data.count(b"\n", 0, start),
        hint="WhatsApp exports are UTF-8: export the chat again, or save the file as UTF-8",
    )


def lines_of(
    data: bytes, shape: HeaderShape, where: str, first_line: int
) -> tuple[pl.Series, pl.Series, np.ndarray]:
    """Lines of a buffer, which of them are headers, and the byte offset of each."""
    lines, starts = split_lines(data, where, first_line)
    return lines, lines.str.contains(shape.line_pattern()), starts


@dataclass
class ChatParser:
    """Parses the chunks of one chat file in order, keeping what spans chunks.

    Attributes:
        shape: the file's header format.
        community: the community key of every event.
        chat: the chat's name (iOS prefixes some system lines with it).
        zone: the time zone of the export's local times.
        where: the file, for error messages.
        order: the day/month order, inferred from the first chunk.
    """

    shape: HeaderShape
    community: str
    chat: str
    zone: tzinfo
    where: str
    order: str | None = None
    long_names: frozenset[str] = frozenset()
    occurrences: Occurrences = field(default_factory=Occurrences)
    system_seen: Counter[tuple[Any, ...]] = field(default_factory=Counter)

    def parse(self, lines: pl.Series, is_header: pl.Series, first_line: int) -> pl.DataFrame:
        """The events of whole messages, in file order.

        Args:
            lines: lines starting with a header (the first chunk: or blank lines).
            is_header: which lines are headers.
            first_line: the line number of ``lines[0]`` in the file.
        """
        entries = self._entries(lines, is_header, first_line)
        system = self._system_rows(entries)
        keep = np.ones(entries.height, bool)
        keep[list(system)] = False
        messages = self._messages(entries.filter(pl.Series(keep), pl.col("text").is_not_null()))
        events = self._system_events(entries, system)
        if not events.height:
            return messages
        return pl.concat([messages, events], how="diagonal").sort("_line", maintain_order=True)

    def _entries(self, lines: pl.Series, is_header: pl.Series, first_line: int) -> pl.DataFrame:
        """One row per header line: line number, local time, body, sender and full text."""
        group = is_header.cum_sum()
        self._check_start(lines.filter(group == 0), first_line)
        split = lines.filter(is_header).str.splitn(self.shape.close, 2).struct.unnest()
        header, body = split["field_0"], split["field_1"]
        line = is_header.arg_true().cast(pl.Int64) + first_line
        local = self._local_times(header, line)
        sender, text = self._senders(body)
        if self.shape.bracket:
            text = text.str.strip_chars_start("\u200e")  # iOS marks media and system texts
        more = ~is_header & (group > 0)
        extra = pl.DataFrame({"row": group.filter(more) - 1, "text": lines.filter(more)})
        return pl.DataFrame(
            {
                "_line": line,
                "local": local,
                "body": body,
                "sender": sender,
                "text": _with_continuations(text, extra),
            }
        )

    def _senders(self, body: pl.Series) -> tuple[pl.Series, pl.Series]:
        """Sender and text of each body (null text: a system line), as `split_sender`."""
        parts = body.str.splitn(": ", 2).struct.unnest()
        sender, text = parts["field_0"], parts["field_1"]
        # split_sender in Python where the first ": " may not end the sender: no ": " but
        # some other colon, or a name known to hold ": " may start the body.
        odd = text.is_null() & body.str.contains(":", literal=True)
        if self.long_names:
            odd |= text.str.contains(": ", literal=True).fill_null(False)
        rows = odd.arg_true()
        if len(rows):
            split = [split_sender(b, self.long_names) for b in body.gather(rows).to_list()]
            pairs = pl.DataFrame(
                [p or (None, None) for p in split], schema=["s", "t"], orient="row"
            )
            sender, text = sender.scatter(rows, pairs["s"]), text.scatter(rows, pairs["t"])
        return sender, text

    def _check_start(self, before: pl.Series, first_line: int) -> None:
        """Only blank lines may come before the first message."""
        text = before.str.strip_chars().str.len_bytes() > 0
        if text.any():
            index = int(text.arg_true()[0])
            raise InputError(
                f"text before the first message: {before[index][:60]!r}",
                path=self.where,
                line=first_line + index,
                hint="a WhatsApp export starts with a dated line; delete what comes before it",
            )

    def learn_order(self, lines: pl.Series, is_header: pl.Series) -> None:
        """Decide the file's day/month order once, from the headers of its first block."""
        if self.order is None:
            dates = header_dates(lines.filter(is_header))
            self.order = infer_order(dates, self.shape, self.where)

    def _local_times(self, header: pl.Series, line: pl.Series) -> pl.Series:
        if self.order is None:
            raise RuntimeError("learn_order() first")
        local = local_times(header, self.shape, self.order)
        bad = local.is_null()
        if bad.any():
            index = int(bad.arg_true()[0])
            raise InputError(
                f"the date and time {header[index]!r} cannot be read "
                f"(the file's dates read as {'/'.join(self.order)})",
                path=self.where,
                line=int(line[index]),
                hint="the file mixes date formats or is damaged; export the chat again",
            )
        return local

    def _system_rows(self, entries: pl.DataFrame) -> dict[int, list[SystemEvent]]:
        """Row index → events (none for noise) of every system line."""
        candidates = entries["text"].is_null()
        senders = entries["sender"].unique().drop_nulls()
        odd = senders.filter(senders.str.contains(FREE_TEXT_SENDER))
        if len(odd):
            candidates |= entries["sender"].is_in(odd.implode())
        if self.shape.bracket or self.long_names:
            # iOS puts system texts after a "Name: "; a name holding ": " looks like one.
            candidates |= entries["body"].str.contains(SYSTEM_HINT)
        rows = candidates.arg_true().to_list()
        found: dict[int, list[SystemEvent]] = {}
        for row, body in zip(rows, entries["body"].gather(rows).to_list(), strict=True):
            events = classify(body, self.chat, self.long_names)
            if events is not None:
                found[row] = events
        return found

    def _messages(self, entries: pl.DataFrame) -> pl.DataFrame:
        """The message events of entries that are all messages."""
        names = _display_names(entries["sender"])
        if (names == "").any():
            entries, names = entries.filter(names != ""), names.filter(names != "")
        local, text = entries["local"], entries["text"]
        member = names.to_frame().select(pl.lit(f"{PLATFORM}:") + pl.col("member_name"))
        member = member.to_series().alias("member")
        occurrence = self.occurrences.number(local, member, text)
        return pl.DataFrame(
            {
                "ts": to_utc(local, self.zone),
                "member": member,
                "text": text,
                "source_id": message_ids(self.community, local, member, text, occurrence),
                "meta": _meta(text),
                "member_name": names,
                "_line": entries["_line"],
            }
        ).with_columns(community=pl.lit(self.community), type=pl.lit("message"))

    def _system_events(
        self, entries: pl.DataFrame, system: dict[int, list[SystemEvent]]
    ) -> pl.DataFrame:
        rows = [row for row, events in system.items() for _ in events]
        if not rows:
            return pl.DataFrame()
        events = [event for found in system.values() for event in found]
        records = [
            self._system_record(when, line, event)
            for when, line, event in zip(
                entries["local"].gather(rows).to_list(),
                entries["_line"].gather(rows).to_list(),
                events,
                strict=True,
            )
        ]
        frame = pl.DataFrame(records, orient="row", schema=_SYSTEM_SCHEMA)
        return frame.with_columns(
            ts=to_utc(frame["local"], self.zone), community=pl.lit(self.community)
        ).drop("local")

    def _system_record(self, when: datetime, line: int, event: SystemEvent) -> tuple[Any, ...]:
        member = f"{PLATFORM}:{event.member}"
        inviter = f"{PLATFORM}:{event.inviter}" if event.inviter else None
        remover = f"{PLATFORM}:{event.removed_by}" if event.removed_by else None
        epoch = (when - _EPOCH) // timedelta(seconds=1)
        key = (epoch, event.type, member, inviter or remover or "")
        occurrence = self.system_seen[key]
        self.system_seen[key] += 1
        meta = json.dumps({"removed_by": remover}) if remover else None
        return (
            when,
            member,
            event.type,
            event.channel or None,
            inviter,
            digest(self.community, *key, occurrence),
            meta,
            event.member,
            event.inviter or None,
            line,
        )


_SYSTEM_SCHEMA = {
    "local": pl.Datetime("us"),
    "member": pl.String,
    "type": pl.String,
    "channel": pl.String,
    "inviter": pl.String,
    "source_id": pl.String,
    "meta": pl.String,
    "member_name": pl.String,
    "inviter_name": pl.String,
    "_line": pl.Int64,
}


def _with_continuations(text: pl.Series, extra: pl.DataFrame) -> pl.Series:
    """Texts with the continuation lines of multi-line messages appended.

    Args:
        text: the first line's text of each message.
        extra: continuation lines, with the row of the message each belongs to.
    """
    if not extra.height:
        return text
    joined = extra.group_by("row", maintain_order=True).agg(pl.col("text").str.join("\n"))
    rows = joined["row"]
    full = pl.DataFrame({"first": text.gather(rows), "more": joined["text"]}).select(
        pl.when(pl.col("first") == "")
        .then(pl.col("more"))  # "Name:" alone, the text below
        .otherwise(pl.concat_str("first", pl.lit("\n"), "more"))
        .str.strip_chars_end("\n")
    )
    return text.scatter(rows, full.to_series())


def _display_names(senders: pl.Series) -> pl.Series:
    """Display names of raw senders: without bidi marks, ``~`` and outer spaces."""
    raw = senders.unique()
    clean = raw.str.replace_all(name_marks_pattern(), "").str.strip_chars(name_strip_chars())
    changed = raw != clean
    if changed.any():
        senders = senders.replace(raw.filter(changed), clean.filter(changed))
    return senders.alias("member_name")


def _meta(text: pl.Series) -> pl.Series:
    """``{"media": true}`` for media placeholders, ``mentions`` for ``@`` mentions."""
    # Cheap tests on every text, the full regex only on the few that pass them.
    maybe = (
        text.str.ends_with("omitted")
        | text.str.ends_with("omitted>")
        | text.str.ends_with("(file attached)")
        | text.str.starts_with("<attached: ")
    ).arg_true()
    media = maybe.filter(text.gather(maybe).str.contains(_MEDIA))
    meta = pl.repeat(None, len(text), dtype=pl.String, eager=True).alias("meta")
    if len(media):
        meta = meta.scatter(media, _MEDIA_META)
    rows = text.str.contains("@", literal=True).arg_true().to_list()
    is_media = set(media.to_list()) if rows else set()
    found: dict[int, str] = {}
    for row, value in zip(rows, text.gather(rows).to_list(), strict=True):
        mentions = [
            f"{PLATFORM}:{normalize_name(m.group(1) or m.group(2))}"
            for m in _MENTION.finditer(value)
        ]
        if mentions:
            extra: dict[str, Any] = {"mentions": mentions}
            if row in is_media:
                extra["media"] = True
            found[row] = json.dumps(extra, ensure_ascii=False, sort_keys=True)
    if found:
        meta = meta.scatter(list(found), pl.Series(list(found.values()), dtype=pl.String))
    return meta
