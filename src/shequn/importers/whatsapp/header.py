"""WhatsApp message headers: detect the file's one header format, parse times column-wise.

A WhatsApp export starts every message with a date and time whose shape depends on the
phone (Android or iOS) and its locale: ``20/06/2019, 15:58 - ``, ``6/20/19, 3:58 PM - ``,
``13.6.2018 klo 21.25.15 - ``, ``[20/06/2019, 15:58:47] ``... The shape is detected once
from the first lines, then every line of the file is matched with one regex built for
that shape, and all times are parsed in one vectorized ``str.to_datetime``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta, tzinfo
from itertools import pairwise

import polars as pl

from shequn.errors import InputError

# Left-to-right / right-to-left marks that iOS puts before headers and system texts.
MARKS = "\u200e\u200f"
_SPACES = " \u202f\u00a0"

# Any header seen in the wild, for detection only (Python's re: named groups and a
# conditional on the opening bracket).
_GENERIC = re.compile(
    rf"^[{MARKS}]*(?P<open>\[)?"
    r"(?P<a>\d{1,4})(?P<dsep>[./-])(?P<b>\d{1,2})(?P=dsep)(?P<c>\d{1,4})"
    r"(?P<dt>,? | klo )"
    r"(?P<h>\d{1,2})(?P<tsep>[:.])(?P<mi>\d{2})(?:(?P=tsep)(?P<s>\d{2}))?"
    rf"(?P<ampm>[{_SPACES}]?[aApP]\.? ?[mM]\.?)?"
    r"(?(open)\] | - )"
)
# An AM/PM suffix at the end of a header: "PM", "\u202fpm", " p. m.".
_AMPM_SUFFIX = rf"[{_SPACES}]*[aApP]\.? ?[mM]\.?$"
_PM_SUFFIX = r"[pP]\.? ?[mM]\.?$"
_DETECT_LINES = 200
_MICROSECOND = timedelta(microseconds=1)
_DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")

HINT_FORMATS = (
    "a WhatsApp export starts each message with its date and time, e.g. "
    "'20/06/2019, 15:58 - Name: text' (Android) or '[20/06/2019, 15:58:47] Name: text' (iOS); "
    "export the chat again from WhatsApp (Export chat, without media is enough)"
)


def _lit(text: str) -> str:
    """A literal for the Rust regex engine (only the characters our separators use)."""
    return re.sub(r"([.\[\]])", r"\\\1", text)


@dataclass(frozen=True)
class HeaderShape:
    """The header format of one file.

    Attributes:
        bracket: iOS style ``[date, time] `` rather than Android ``date, time - ``.
        dsep: the date separator (``/``, ``.`` or ``-``).
        year_first: ``2024/12/10`` rather than a day/month first date.
        year4: the year has four digits (``%Y``) rather than two (``%y``).
        dt: what separates date and time (``", "``, ``" "`` or ``" klo "``).
        tsep: the time separator (``:`` or ``.``).
        seconds: the time has seconds.
        ampm: a 12-hour clock with an AM/PM suffix.
    """

    bracket: bool
    dsep: str
    year_first: bool
    year4: bool
    dt: str
    tsep: str
    seconds: bool
    ampm: bool

    @property
    def close(self) -> str:
        """What ends the header and starts the message."""
        return "] " if self.bracket else " - "

    def line_pattern(self) -> str:
        """The regex (Rust syntax) that a header line of this shape matches."""
        d, t = _lit(self.dsep), _lit(self.tsep)
        if self.year_first:
            date = rf"\d{{4}}{d}\d{{1,2}}{d}\d{{1,2}}"
        else:
            date = rf"\d{{1,2}}{d}\d{{1,2}}{d}\d{{{4 if self.year4 else 2}}}"
        time = rf"\d{{1,2}}{t}\d{{2}}" + (rf"{t}\d{{2}}" if self.seconds else "")
        ampm = rf"[{_SPACES}]?[aApP]\.? ?[mM]\.?" if self.ampm else ""
        opening = r"\[" if self.bracket else ""
        return rf"^[{MARKS}]*{opening}{date}{_lit(self.dt)}{time}{ampm}{_lit(self.close)}"

    def strptime_format(self, order: str) -> str:
        """The ``str.to_datetime`` format of a header once AM/PM is removed."""
        year = "%Y" if self.year4 else "%y"
        fields = {"ymd": ("%Y", "%m", "%d"), "dmy": ("%d", "%m", year), "mdy": ("%m", "%d", year)}
        date = self.dsep.join(fields[order])
        time = self.tsep.join(("%H", "%M", "%S") if self.seconds else ("%H", "%M"))
        return f"{date}{self.dt}{time}"


def _shape_of(match: re.Match[str]) -> HeaderShape | None:
    a, c = match["a"], match["c"]
    year_first = len(a) == 4
    if not year_first and (len(a) > 2 or len(c) not in (2, 4)):
        return None
    if year_first and len(c) > 2:
        return None
    return HeaderShape(
        bracket=match["open"] is not None,
        dsep=match["dsep"],
        year_first=year_first,
        year4=year_first or len(c) == 4,
        dt=match["dt"],
        tsep=match["tsep"],
        seconds=match["s"] is not None,
        ampm=match["ampm"] is not None,
    )


def match_header(line: str) -> HeaderShape | None:
    """The shape of a header at the start of this line, or None."""
    match = _GENERIC.match(line)
    return _shape_of(match) if match else None


def detect_shape(head: str) -> HeaderShape | None:
    """The most common header shape in the first lines of a file, or None if none is."""
    shapes = Counter(
        shape
        for line in head.splitlines()[:_DETECT_LINES]
        if (shape := match_header(line)) is not None
    )
    return shapes.most_common(1)[0][0] if shapes else None


def _date_fields(date: str) -> tuple[int, int, int]:
    a, b, c = (int(x) for x in re.findall(r"\d+", date)[:3])
    return a, b, c


def _decreases(dates: list[tuple[int, int, int]]) -> int:
    return sum(1 for before, after in pairwise(dates) if after < before)


def infer_order(dates: list[str], shape: HeaderShape, where: str) -> str:
    """Day/month order of a file from its distinct dates, in order of appearance.

    A field above 12 decides; else the order that keeps dates non-decreasing; a tie
    goes to month first for 12-hour clocks (the US habit), day first otherwise.

    Returns:
        ``"ymd"``, ``"dmy"`` or ``"mdy"``.
    """
    if shape.year_first:
        return "ymd"
    fields = [_date_fields(d) for d in dates]
    if not fields:
        return "dmy"
    first_big = max(a for a, _, _ in fields) > 12
    second_big = max(b for _, b, _ in fields) > 12
    if first_big and second_big:
        raise InputError(
            "some dates have a day above 12 in the first place and others in the second",
            path=where,
            hint="the file mixes date formats; export the chat again in one go",
        )
    if first_big or second_big:
        return "dmy" if first_big else "mdy"
    dmy = _decreases([(c, b, a) for a, b, c in fields])
    mdy = _decreases([(c, a, b) for a, b, c in fields])
    if dmy != mdy:
        return "dmy" if dmy < mdy else "mdy"
    return "mdy" if shape.ampm else "dmy"


def header_dates(lines: pl.Series) -> list[str]:
    """The distinct dates of header lines, in order of first appearance."""
    # Twelve characters hold any date after marks and "["; consecutive lines mostly
    # share theirs, so only where the head changes is read in Python.
    heads = lines.str.head(12)
    changes = heads.filter(heads.ne_missing(heads.shift(1))).to_list()
    dates = (_DATE.search(head) for head in changes)
    return list(dict.fromkeys(m.group(0) for m in dates if m))


def local_times(header: pl.Series, shape: HeaderShape, order: str) -> pl.Series:
    """Naive local datetimes of header strings (``date, time`` without the close).

    12-hour times are parsed as 24-hour ones and shifted, so ``00:08 a. m.`` (seen in
    real exports) parses as well as ``12:08 AM``. Unparseable headers give null.
    """
    frame = pl.DataFrame({"h": header.str.strip_chars_start(MARKS + "[")})
    fmt = shape.strptime_format(order)
    if not shape.ampm:
        return frame["h"].str.to_datetime(fmt, time_unit="us", strict=False)
    hour = pl.col("ts").dt.hour()
    return frame.select(
        pl.col("h")
        .str.replace(_AMPM_SUFFIX, "")
        .str.to_datetime(fmt, time_unit="us", strict=False)
        .alias("ts"),
        pl.col("h").str.contains(_PM_SUFFIX).alias("pm"),
    ).select(
        pl.when(pl.col("pm") & (hour < 12))
        .then(pl.col("ts") + pl.duration(hours=12))
        .when(~pl.col("pm") & (hour == 12))
        .then(pl.col("ts") - pl.duration(hours=12))
        .otherwise(pl.col("ts"))
        .alias("ts")
    )["ts"]


def to_utc(naive: pl.Series, zone: tzinfo) -> pl.Series:
    """Local wall times in ``zone`` as UTC.

    Ambiguous times (the repeated hour in autumn) take the earlier instant; times in
    the spring gap, which a phone in that zone cannot show, are read one hour later.
    """
    key = getattr(zone, "key", None)
    if key is None:
        offset = zone.utcoffset(None)
        if offset is None:
            raise InputError(
                f"the time zone {zone!r} has no fixed offset and no name",
                field="timezone",
                hint="give an IANA time zone name such as Asia/Shanghai",
            )
        shift = pl.col("t") - pl.duration(microseconds=offset // _MICROSECOND)
        return naive.to_frame("t").select(shift.dt.replace_time_zone("UTC")).to_series()
    local = naive.dt.replace_time_zone(key, ambiguous="earliest", non_existent="null")
    if local.null_count() > naive.null_count():
        later = naive.to_frame("t").select(
            (pl.col("t") + pl.duration(hours=1)).dt.replace_time_zone(
                key, ambiguous="earliest", non_existent="null"
            )
        )
        local = local.fill_null(later.to_series())
    return local.dt.convert_time_zone("UTC")
