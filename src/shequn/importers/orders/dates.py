"""Order dates: the forms shops write, one day/month order per file, local times to UTC.

Rows are parsed a batch at a time. The one decision that needs the whole file, whether
``D/M/Y`` dates put the day or the month first, is settled by the first batch that has
a field > 12; every later batch is checked against it. Only when that batch has no
field > 12 is the file's date column read again from the start (``scan``), keeping a
few counters (``_DayOrderFacts``), never the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, tzinfo

import polars as pl

from shequn.errors import InputError
from shequn.importers.orders.values import reject

_TIME = (
    r"(?:[T\s]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<F>\d{1,9}))?)?"
    r"\s*(?P<P>[AaPp]\.?\s?[Mm]\.?)?)?\s*(?P<Z>[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$"
)
_YMD = r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})" + _TIME
_COMPACT = r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})" + _TIME
_NUMERIC = r"^(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4}|\d{2})" + _TIME
_FAST_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%Y%m%d")
_DATE_HINT = (
    "write dates like 2024-03-01 10:30, or name the format with "
    "--map date_format=%d/%m/%Y %H:%M (or date_format=dmy / mdy)"
)

# A batch of a file's date cells with their line numbers, for the day/month decision.
DateColumn = Iterable[tuple[pl.Series, pl.Series]]


class DateReader:
    """Reads the date column of one file, batch by batch, the same way for every batch.

    Args:
        tz: the zone of times without an offset.
        option: ``--map date_format`` (``dmy``, ``mdy``, a strftime format, or "").
        where: the file, for error messages.
        scan: the whole file's date cells, read again from the start; called at most
            once, when the day/month order of ``D/M/Y`` dates must be inferred.
    """

    def __init__(self, tz: tzinfo, option: str, where: str, scan: Callable[[], DateColumn]) -> None:
        self.tz, self.option, self.where, self.scan = tz, option, where, scan
        self._day_first: bool | None = None
        self._seen = _DayOrderFacts()  # the D/M/Y dates of the batches so far
        self._scanned = False  # decided from the whole file

    def parse(self, raw: pl.Series, lines: pl.Series) -> pl.Series:
        """UTC timestamps of a batch of date cells; errors name line and value."""
        hint = "fill in the order's date, or map another column with --map ts=<column>"
        reject(raw.is_null(), raw, lines, self.where, "ts", "no date on this row", hint)
        option = self.option
        if option and option.lower() not in ("dmy", "mdy"):
            return self._parse_with_format(raw, lines)
        if not option:  # the usual forms parse 50× faster by format than by pattern
            for fmt in _FAST_FORMATS:
                parsed = raw.str.to_datetime(fmt, strict=False, time_unit="us")
                if not parsed.null_count():
                    return _to_utc(parsed, self.tz)
        parts = self._date_parts(raw, lines)
        hour = parts["H"].cast(pl.Int64).fill_null(0)
        pm = parts["P"].str.to_lowercase().str.starts_with("p").cast(pl.Int64)
        hour = hour.zip_with(parts["P"].is_null(), hour % 12 + pm * 12)
        text = parts.select(
            pl.format(
                "{}-{}-{} {}:{}:{}.{}",
                "y",
                pl.col("m").str.zfill(2),
                pl.col("d").str.zfill(2),
                pl.lit(hour.cast(pl.String).str.zfill(2)),
                pl.col("M").fill_null("00"),
                pl.col("S").fill_null("00"),
                pl.col("F").fill_null("0").str.slice(0, 6).str.pad_end(6, "0"),
            )
        ).to_series()
        naive = text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us")
        message = "date {value!r} is not a date this importer reads"
        reject(naive.is_null(), raw, lines, self.where, "ts", message, _DATE_HINT)
        zone = parts["Z"].str.extract_groups(r"^(?P<s>[+-])(?P<h>\d{2}):?(?P<m>\d{2})?$").struct
        minutes = zone.field("h").cast(pl.Int64) * 60 + zone.field("m").cast(pl.Int64).fill_null(0)
        minutes = minutes.zip_with(zone.field("s") == "+", -minutes).fill_null(0)
        fixed = (naive - (minutes * 60_000_000).cast(pl.Duration("us"))).dt.replace_time_zone("UTC")
        return _to_utc(naive, self.tz).zip_with(parts["Z"].is_null(), fixed)

    def day_first(self, num: pl.DataFrame, lines: pl.Series) -> bool:
        """Whether D/M/Y dates put the day first: the option, else inferred once per file.

        Args:
            num: a batch's date fields (``_numeric``), in file order.
            lines: the batch's line numbers.
        """
        if self.option.lower() in ("dmy", "mdy"):
            return self.option.lower() == "dmy"
        if self._scanned:
            return bool(self._day_first)
        self._seen.add(num, lines)
        if self._seen.day_over_12 or self._seen.first_month_over_12 is not None:
            # Decided by the fields > 12 so far; raises when rows disagree, now or later.
            self._day_first = self._seen.decide(self.where)
        elif self._day_first is None:  # nothing > 12 yet: the whole file must say
            facts = _DayOrderFacts()
            for raw, scanned_lines in self.scan():
                raw = _normal(raw)
                if _has(raw, _NUMERIC):
                    facts.add(_numeric(raw), scanned_lines)
            self._day_first, self._scanned = facts.decide(self.where), True
        return bool(self._day_first)

    def _parse_with_format(self, raw: pl.Series, lines: pl.Series) -> pl.Series:
        """Dates in the strftime format the user named with --map date_format=..."""
        fmt = self.option
        try:
            parsed = raw.str.to_datetime(fmt, strict=False, time_unit="us")
        except pl.exceptions.PolarsError as exc:
            raise InputError(
                f"date_format {fmt!r} is not usable ({str(exc).splitlines()[0]})",
                field="date_format",
                hint="use strftime codes, e.g. --map date_format=%d/%m/%Y %H:%M",
            ) from None
        message = f"date {{value!r}} does not match --map date_format={fmt}"
        reject(parsed.is_null(), raw, lines, self.where, "ts", message, _DATE_HINT)
        if isinstance(parsed.dtype, pl.Datetime) and parsed.dtype.time_zone:
            return parsed.dt.convert_time_zone("UTC")
        return _to_utc(parsed, self.tz)

    def _date_parts(self, raw: pl.Series, lines: pl.Series) -> pl.DataFrame:
        """Year, month, day, time and zone strings of every recognised date form."""
        raw = _normal(raw)
        # Only the forms present are extracted: each costs a regex pass and nine columns.
        found = [
            raw.str.extract_groups(p).struct.unnest() for p in (_YMD, _COMPACT) if _has(raw, p)
        ]
        if _has(raw, _NUMERIC):
            num = _numeric(raw)
            order = ("b", "a") if self.day_first(num, lines) else ("a", "b")
            found.append(num.with_columns(m=pl.col(order[0]), d=pl.col(order[1])))
        if not found:
            message = "date {value!r} is not a date this importer reads"
            reject(raw.is_not_null(), raw, lines, self.where, "ts", message, _DATE_HINT)
        return pl.select(**{c: pl.coalesce(*(f[c] for f in found)) for c in "ymdHMSFPZ"})


@dataclass
class _DayOrderFacts:
    """What decides the day/month order of a file's D/M/Y dates, gathered batch by batch.

    A first field > 12 means day first, a second field > 12 month first (both: an
    error at the first row with the month first); else the order that keeps the rows
    in date order, else month first (US). Only counters are kept, never the rows.
    """

    day_over_12: bool = False
    first_month_over_12: int | None = None  # the line of the first such row
    # Rows earlier in time than the row before them, read day first / month first.
    backwards: list[int] = field(default_factory=lambda: [0, 0])
    last: list[int | None] = field(default_factory=lambda: [None, None])

    def add(self, num: pl.DataFrame, lines: pl.Series) -> None:
        """Count a batch's D/M/Y dates (the rows of other forms are null)."""
        a, b, year = (num[c].cast(pl.Int64) for c in "aby")
        self.day_over_12 = self.day_over_12 or bool((a > 12).any())
        if self.first_month_over_12 is None and bool((b > 12).any()):
            self.first_month_over_12 = int(lines[int((b > 12).fill_null(False).arg_true()[0])])
        for reading, (month, day) in enumerate(((b, a), (a, b))):
            key = (year * 10_000 + month * 100 + day).drop_nulls()
            if self.last[reading] is not None:  # the step from the previous batch's last row
                key = pl.concat([pl.Series([self.last[reading]], dtype=key.dtype), key])
            self.backwards[reading] += int((key.diff() < 0).sum())
            if key.len():
                self.last[reading] = int(key[-1])

    def decide(self, where: str) -> bool:
        """True for day first; raises at the first row with the month first when rows
        disagree (as when all were read at once)."""
        month_over_12 = self.first_month_over_12 is not None
        if self.day_over_12 and month_over_12:
            raise InputError(
                "dates put the day first on some rows and the month first on others",
                path=where,
                line=self.first_month_over_12,
                field="ts",
                hint="name the order with --map date_format=dmy (day first) or mdy (month first)",
            )
        if self.day_over_12 or month_over_12:
            return self.day_over_12
        return self.backwards[0] < self.backwards[1]


def _normal(raw: pl.Series) -> pl.Series:
    """Chinese dates in the digits-and-dashes form: 2024年3月1日 10时30分 is 2024-3-1 10:30."""
    raw = raw.str.replace_all("[年月]", "-").str.replace("日", " ").str.replace_all("[时分]", ":")
    return raw.str.replace("秒", "").str.strip_chars(" :")


def _numeric(raw: pl.Series) -> pl.DataFrame:
    """The parts of D/M/Y or M/D/Y dates (a, b: the first two fields; 2-digit years 20yy)."""
    num = raw.str.extract_groups(_NUMERIC).struct.unnest()
    return num.with_columns(y=num["y"].str.zfill(4).str.replace(r"^00", "20"))


def _has(values: pl.Series, pattern: str) -> bool:
    return bool(values.str.contains(pattern).any())


def _to_utc(naive: pl.Series, tz: tzinfo) -> pl.Series:
    """Local wall times in tz to UTC; times skipped by a DST change use Python's rule."""
    key = getattr(tz, "key", None)
    if key is None:  # a fixed offset such as datetime.timezone(timedelta(hours=8))
        return (naive - tz.utcoffset(None)).dt.replace_time_zone("UTC")
    local = naive.dt.replace_time_zone(key, ambiguous="earliest", non_existent="null")
    utc = local.dt.convert_time_zone("UTC")
    gaps = (utc.is_null() & naive.is_not_null()).arg_true()
    if gaps.len():
        fixed = [naive[i].replace(tzinfo=tz).astimezone(UTC) for i in gaps.to_list()]
        utc = utc.scatter(gaps, pl.Series(fixed, dtype=pl.Datetime("us", "UTC")))
    return utc
