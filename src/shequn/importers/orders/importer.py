"""Orders exported from shops as CSV (Youzan, Weidian, Shopify, Taobao, spreadsheets).

Each row becomes one ``order`` event: ``ts``, ``community``, ``member``, ``order_id``,
``amount`` (an exact decimal string; refunds negative), ``channel``, ``text`` (product).

Columns. ``--map field=Column`` (``ctx.mapping``) names a field's column (by name, any
case, or by 1-based number); fields not mapped are recognised from common header names
in English or Chinese (``InvoiceNo``, ``订单号``, ``CustomerID``, ``买家``, ``下单时间``,
``实付金额``, ``数量``, ``单价`` ...). Fields: ``order_id``, ``member``, ``ts``, ``amount``,
``quantity``, ``unit_price``, ``channel``, ``text``, ``community``, ``member_name``.
Required: ``member``, ``ts``, and ``amount`` or ``quantity`` + ``unit_price`` (then the
amount is their exact product). Options in the same mapping: ``date_format`` (``dmy``,
``mdy`` or a strftime format such as ``%d/%m/%Y %H:%M``) and ``missing_member=skip``
(leave out rows without a customer instead of failing, as UCI Online Retail needs).

Whitespace-separated files (the CDNOW log ``customer date quantity amount``) are never
detected: they are read so only when every mapped value is a column number and the
first line has no comma, tab or semicolon, e.g. ``--map member=1,ts=2,amount=4``. With
column numbers the first line is a header only if its amount (or quantity) cell is not
a number.

Amounts. Currency signs and codes (¥ ￥ $ € £ RMB CNY USD 元 ...) and thousands
separators (``¥1,299.00``) are stripped and ``(12.50)`` is negative; ``12,50`` is an
error, never guessed. An amount is made negative (if positive) when the row's quantity
is negative or its order id is a cancellation: ``C`` and digits only (``C536379`` as in
UCI Online Retail; ``CA-2016-152156`` is not one). The id is kept as it is: a
cancellation is an order of its own with a negative net amount.

Dates. ``YYYY-MM-DD[ HH:MM[:SS[.f]]]`` (or with ``T``, ``/``, ``.``, ``年月日``), with or
without an offset; ``YYYYMMDD``; ``D/M/YYYY`` or ``M/D/YYYY`` (``yy`` is 20yy) with an
optional AM/PM. The day/month order is decided once per file: a first field > 12 means
day first, a second field > 12 month first, else the order that keeps the rows in date
order, else month first (US). Times without an offset are in ``ctx.timezone`` (a time
skipped by a DST change is read with the offset before it; a repeated one, the first).

Members are ``order:<customer>`` unless the value holds ``:`` (then as given), so they
can be merged with chat members later; ``17850.0`` (a spreadsheet's float) is ``17850``.
The community is ``--community``, else the community column, else an error. Skipped:
blank rows, and rows with an order id but neither date nor amount (Shopify puts an
order's total on its first line item only). A folder or zip is read file by file.

``source_id`` is ``content_id(community, order_id, ts, member, amount, occurrence)``,
the occurrence counting identical earlier rows of the file: stable on re-import.

Memory. The file is streamed: rows are read with ``csv`` and converted ``BATCH_ROWS``
at a time with Polars, so memory does not grow with the file. Two things would need
the whole file and are bounded instead: the day/month order (a second pass over the
file that keeps a few counters, only for files with ``D/M/Y`` dates and no
``date_format``), and the occurrence numbers, which count identical rows exactly when
they are fewer than ``BATCH_ROWS`` rows apart (the counts of one batch's rows are kept
for the next; farther apart, identical rows would share an id). Shops export in date
order, so identical rows, which share their time, sit together.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from hashlib import blake2b

import polars as pl

from shequn.errors import InputError
from shequn.importers.base import ImportContext, Item
from shequn.importers.csv_fields import allow_long_fields
from shequn.importers.orders.columns import (
    is_header,
    recognise,
    resolve,
    separator,
    split_mapping,
)
from shequn.importers.orders.dates import DateColumn, DateReader
from shequn.importers.orders.rows import reading
from shequn.importers.orders.values import amounts, cell, reject
from shequn.importers.source import Source
from shequn.importers.text import head_text

BATCH_ROWS = 100_000


class OrdersImporter:
    """Orders CSV: detected only by a header with order id, date and amount columns."""

    name = "orders"
    description = "orders CSV from a shop or spreadsheet (one row per order or line item)"

    def sniff(self, source: Source) -> bool:
        text = head_text(source)
        if text is None:
            return False
        first = text.split("\n", 1)[0].strip("\r")
        header = next(csv.reader([first], delimiter=separator(first)), [])
        if {"ts", "type"} <= {h.strip() for h in header}:
            return False  # the canonical event log
        found = recognise(header)
        amountish = "amount" in found or {"quantity", "unit_price"} <= found.keys()
        return "order_id" in found and "ts" in found and amountish

    def read(self, source: Source, ctx: ImportContext) -> Iterator[Item]:
        names = source.names()
        if source.is_container:
            names = [n for n in names if n.lower().endswith((".csv", ".tsv", ".txt"))]
            if not names:
                raise InputError(
                    "no .csv, .tsv or .txt file in it",
                    path=str(source.path),
                    hint="save the orders sheet as CSV (an .xlsx file must be saved as CSV first)",
                )
        allow_long_fields()  # long cells: HTML product descriptions
        for name in names:
            yield from _read_file(source, name, ctx)


def _read_file(source: Source, name: str, ctx: ImportContext) -> Iterator[pl.DataFrame]:
    where = source.where(name)
    columns, options = split_mapping(ctx.mapping)
    with reading(source, name, columns) as (rows, consumed):
        first_row = rows.first()
        if first_row is None:
            raise InputError(
                "the file is empty",
                path=where,
                hint="export the orders again: a header row, then one row per order",
            )
        first = [v.strip() or None for v in first_row[1]]
        header = [v or "" for v in first] if is_header(first, columns) else None
        index = resolve(header, columns, first, where)
        used = sorted({i for i in index.values() if i >= 0})  # only these are kept
        cols = {f: f"c{i}" for f, i in index.items() if i >= 0}

        def scan() -> DateColumn:
            return _scan_dates(source, name, columns, bool(header), used, cols, options)

        dates = DateReader(ctx.timezone, options.get("date_format", ""), where, scan)
        numbering, reported = _Occurrences(), 0
        for batch in rows.batches(used, BATCH_ROWS, None if header else first_row):
            frame = _orders(_cleaned(batch), cols, ctx, options, where, dates)
            if frame.height:
                yield frame.with_columns(source_id=numbering.source_ids(frame))
            ctx.progress(consumed() - reported)
            reported = consumed()
        ctx.progress(consumed() - reported)


def _cleaned(batch: pl.DataFrame) -> pl.DataFrame:
    """Cells trimmed, blank ones null."""
    return batch.select(*(cell(c) for c in batch.columns if c != "_line"), "_line")


def _scan_dates(
    source: Source,
    name: str,
    columns: dict[str, str],
    header: bool,
    used: list[int],
    cols: dict[str, str],
    options: dict[str, str],
) -> DateColumn:
    """The date cells of the rows that become orders, read again from the start."""
    with reading(source, name, columns) as (rows, _):
        first = rows.first()
        for batch in rows.batches(used, BATCH_ROWS, None if header else first):
            kept = _kept(_cleaned(batch), cols, options)
            yield kept[cols["ts"]], kept["_line"]


def _kept(rows: pl.DataFrame, cols: dict[str, str], options: dict[str, str]) -> pl.DataFrame:
    """The rows that are orders, with their customer id cleaned in _member."""
    if "order_id" in cols:  # Shopify: further line items of an order carry no date or total
        carry = (
            pl.col(cols["ts"]).is_null() & pl.col(cols.get("amount") or cols["quantity"]).is_null()
        )
        rows = rows.filter(~(carry & pl.col(cols["order_id"]).is_not_null()))
    rows = rows.with_columns(_ids(pl.col(cols["member"])).alias("_member"))
    if options.get("missing_member", "").lower() == "skip":
        rows = rows.filter(pl.col("_member").is_not_null())
    return rows


def _orders(
    rows: pl.DataFrame,
    cols: dict[str, str],
    ctx: ImportContext,
    options: dict[str, str],
    where: str,
    dates: DateReader,
) -> pl.DataFrame:
    """The order events of a batch of rows (errors name the first bad row)."""
    rows = _kept(rows, cols, options)
    hint = "fill in the customer, or pass --map missing_member=skip to leave such rows out"
    message = "no customer on this row"
    reject(
        rows["_member"].is_null(), rows["_member"], rows["_line"], where, "member", message, hint
    )
    member, lines = pl.col("_member"), rows["_line"]

    def column(field: str) -> pl.Expr:
        return pl.col(cols[field]) if field in cols else pl.lit(None, dtype=pl.String)

    return rows.select(
        ts=dates.parse(rows[cols["ts"]], lines),
        community=_community(rows, cols, ctx, where),
        member=pl.when(member.str.contains(":")).then(member).otherwise("order:" + member),
        type=pl.lit("order"),
        channel=column("channel"),
        order_id=_ids(column("order_id")),
        amount=amounts(rows, cols, where),
        text=column("text"),
        member_name=column("member_name"),
        _line=lines,
    )


def _ids(value: pl.Expr) -> pl.Expr:
    """Ids as written, but 17850.0 is 17850 (spreadsheets turn integer ids into floats)."""
    return value.str.replace(r"^(\d+)\.0+$", "${1}")


def _community(rows: pl.DataFrame, cols: dict[str, str], ctx: ImportContext, where: str) -> pl.Expr:
    """--community for every row, else the community column (which must be filled)."""
    if ctx.community:
        return pl.lit(ctx.community)
    if "community" not in cols:
        raise InputError(
            "no community for these orders",
            path=where,
            field="community",
            hint="pass --community KEY (or map a column with --map community=<column>)",
        )
    hint = "fill in the community, or pass --community KEY for the whole file"
    missing = rows[cols["community"]].is_null()
    reject(missing, rows["_line"], rows["_line"], where, "community", "no community", hint)
    return pl.col(cols["community"])


class _Occurrences:
    """Source ids: content_id(community, order_id, ts, member, amount, occurrence).

    The occurrence counts identical earlier rows. Counts are kept only for the keys of
    the last batch, so identical rows are numbered exactly when they are fewer than
    BATCH_ROWS rows apart (always, in a file in date order: they share their time).
    """

    def __init__(self) -> None:
        self.last: dict[str, int] = {}  # occurrences so far of the last batch's keys

    def source_ids(self, rows: pl.DataFrame) -> pl.Series:
        # The parts are joined by Polars; counting and hashing go row by row, in one
        # loop (a Polars window over the keys costs more than this dictionary).
        text = [pl.col(c).fill_null("") for c in ("community", "order_id", "member", "amount")]
        stamp = pl.col("ts").dt.epoch("us").cast(pl.String)
        keys = rows.select(pl.concat_str([*text[:2], stamp, *text[2:]], separator="\x1f"))
        last, counts, digests = self.last, {}, []
        for key in keys.to_series().to_list():
            occurrence = counts.get(key)
            if occurrence is None:
                occurrence = last.get(key, 0)
            counts[key] = occurrence + 1
            digests.append(blake2b(f"{key}\x1f{occurrence}".encode(), digest_size=12).hexdigest())
        self.last = counts
        return pl.Series("source_id", digests, dtype=pl.String)


IMPORTER = OrdersImporter()
