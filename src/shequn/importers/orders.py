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
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, tzinfo
from hashlib import blake2b

import polars as pl

from shequn.errors import InputError
from shequn.importers.base import ImportContext, Item
from shequn.importers.source import Source
from shequn.importers.text import decode, detect_encoding

BATCH_ROWS = 100_000

# Header names per field, as _norm leaves them, in order of preference.
_NAMES: dict[str, list[str]] = {
    field: names.split()
    for field, names in {
        "order_id": "orderid orderno ordernumber order invoiceno invoice invoiceid invoicenumber "
        "transactionid 订单号 订单编号 订单id 主订单编号 交易号 交易单号 单号",
        "member": "customerid customer customerno memberid member userid buyerid buyer clientid "
        "会员 会员id 会员号 会员编号 会员名 买家 买家id 买家会员名 买家账号 客户 客户id 客户编号 "
        "用户id 用户 customername buyername 买家昵称 买家姓名 客户名称 email customeremail 邮箱",
        "ts": "orderdate ordertime invoicedate createdat createtime date time datetime timestamp "
        "paidat paymentdate purchasedate 下单时间 订单创建时间 创建时间 付款时间 订单付款时间 "
        "支付时间 成交时间 交易时间 日期 时间 订单日期",
        "amount": "amount total totalamount ordertotal grandtotal orderamount totalprice "
        "paidamount netamount sales revenue 实付金额 订单实付金额 买家实际支付金额 实际支付金额 "
        "实收金额 支付金额 付款金额 订单金额 成交金额 金额 总金额 总价 合计",
        "quantity": "quantity qty units 数量 购买数量 商品数量",
        "unit_price": "unitprice price itemprice priceeach 单价 商品单价 价格",
        "channel": "channel saleschannel orderchannel source 渠道 订单来源 来源",
        "text": "product productname item itemname description title lineitemname 商品 商品名称 "
        "商品标题 宝贝标题 品名",
        "community": "community communityid 社群 社群名称 群 群名 群名称",
        "member_name": "membername nickname 昵称 会员昵称 姓名",
    }.items()
}
FIELDS = tuple(_NAMES)
_OPTIONS = ("date_format", "missing_member")
_ALIASES = {"date": "ts", "customer": "member", "total": "amount", "qty": "quantity"}
_ALIASES |= {"price": "unit_price", "product": "text", "name": "member_name"}

_CURRENCY = r"(?i)(?:US|HK|NT|[SAC])?\$|RMB|CNY|USD|EUR|GBP|HKD|JPY|[¥￥€£元\s]"
_PLAIN = r"^-?(?:\d+(?:\.\d*)?|\.\d+)$"
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
_NUMBER_HINT = "write numbers like 1299.00, -20 or ¥1,299.00, or map another column with --map"


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-.#()（）/:：]+", "", name).lower()


def _recognise(header: list[str], taken: Mapping[str, int] | None = None) -> dict[str, int]:
    """Column index per field whose header is a common name for it (one column each)."""
    names = [_norm(h) for h in header]
    taken = taken or {}
    used = set(taken.values())
    found: dict[str, int] = {}
    for field, candidates in _NAMES.items():
        hits = [names.index(c) for c in candidates if c in names and names.index(c) not in used]
        if field not in taken and hits:
            found[field] = hits[0]
            used.add(hits[0])
    return found


def _separator(first_line: str) -> str:
    counts = {sep: first_line.count(sep) for sep in (",", "\t", ";")}
    return max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","


class OrdersImporter:
    """Orders CSV: detected only by a header with order id, date and amount columns."""

    name = "orders"
    description = "orders CSV from a shop or spreadsheet (one row per order or line item)"

    def sniff(self, source: Source) -> bool:
        names = source.names()
        if len(names) != 1:
            return False
        head = source.head(names[0], 8192)
        try:
            text = head.decode(detect_encoding(head), errors="ignore").lstrip("\ufeff")
        except InputError:
            return False
        first = text.split("\n", 1)[0].strip("\r")
        header = next(csv.reader([first], delimiter=_separator(first)), [])
        if {"ts", "type"} <= {h.strip() for h in header}:
            return False  # the canonical event log
        found = _recognise(header)
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
        for name in names:
            yield from _read_file(source, name, ctx)


def _read_file(source: Source, name: str, ctx: ImportContext) -> Iterator[pl.DataFrame]:
    where = source.where(name)
    columns, options = _split_mapping(ctx.mapping)
    payload = _utf8(source.read_bytes(name), where)
    numbered = bool(columns) and all(v.isdigit() for v in columns.values())
    whitespace = numbered and not re.search(rb"[,;\t]", payload[:4096].split(b"\n", 1)[0])
    table = _table(payload, where, whitespace)
    del payload  # the frame holds it all now: keep peak memory down on big files
    first = [(v or "").strip() or None for v in table.row(0)[:-1]] if table.height else []
    header = [v or "" for v in first] if _is_header(first, columns) else None
    if table.height <= (1 if header else 0):  # no rows, or a header alone: no orders
        ctx.progress(source.size(name))
        return
    cols = _resolve(header, columns, first, where)
    used = sorted(set(cols.values()))  # only these columns are cleaned and kept
    rows = (table.slice(1) if header else table).select(*map(_cell, used), "_line")
    rows = _orders(rows, cols, ctx, options, where)
    yield from _batches(rows, ctx, source.size(name))


def _split_mapping(mapping: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """--map as field → column and option → value, checking the names."""
    columns: dict[str, str] = {}
    options: dict[str, str] = {}
    for key, value in mapping.items():
        field = _ALIASES.get(key.strip().lower(), key.strip().lower())
        if field not in (*FIELDS, *_OPTIONS):
            raise InputError(
                f"unknown field {key!r} in --map",
                field="--map",
                hint="map one of: " + ", ".join((*FIELDS, *_OPTIONS)),
            )
        (options if field in _OPTIONS else columns)[field] = value.strip()
    return columns, options


def _utf8(data: bytes, where: str) -> bytes:
    """The file as UTF-8 (GBK exports are recoded); errors name the line of a bad byte."""
    text = decode(data, where)
    if not text.strip():
        raise InputError(
            "the file is empty",
            path=where,
            hint="export the orders again: a header row, then one row per order",
        )
    return data if detect_encoding(data[:65536]) == "utf-8" else text.encode()


def _table(payload: bytes, where: str, whitespace: bool) -> pl.DataFrame:
    """The non-blank rows as raw strings in columns c0..cN, with their line numbers."""
    separator, quote = _separator(payload[:4096].decode("utf-8", "ignore").split("\n")[0]), '"'
    if whitespace:
        # Runs of spaces/tabs split columns: trim each line, then one separator per run.
        payload = re.sub(rb"(?m)^[ \t]+|[ \t]+(?=\r?$)", b"", payload)
        payload, separator, quote = re.sub(rb"[ \t]+", b"\x1f", payload), "\x1f", None
    try:
        table = pl.read_csv(
            payload, has_header=False, separator=separator, quote_char=quote, infer_schema=False
        )
    except pl.exceptions.PolarsError as exc:
        raise InputError(
            f"the rows cannot be read as CSV ({str(exc).splitlines()[0]})",
            path=where,
            line=_ragged_line(payload, separator),
            hint="every row needs the header's number of fields: quote fields that contain "
            f"{separator!r} or line breaks, and remove title lines above the header",
        ) from None
    table = table.rename({c: f"c{i}" for i, c in enumerate(table.columns)})
    line = pl.int_range(1, pl.len() + 1)
    if b'"' in payload:  # a quoted cell may span lines: count them so errors name the line
        breaks = pl.sum_horizontal(pl.all().str.count_matches("\n").fill_null(0))
        line = line + breaks.cum_sum() - breaks
    blank = table.select(pl.all_horizontal(pl.all().str.strip_chars().fill_null("") == ""))
    table = table.with_columns(line.alias("_line"))
    return table.filter(~blank.to_series()) if blank.to_series().any() else table


def _cell(column: str) -> pl.Expr:
    """A cell without surrounding spaces; blank is null."""
    cell = pl.col(column).str.strip_chars()
    return pl.when(cell != "").then(cell)


def _ragged_line(payload: bytes, separator: str) -> int | None:
    """The line of the first row with more fields than the first (on the error path only)."""
    reader = csv.reader(io.StringIO(payload.decode("utf-8", "replace")), delimiter=separator)
    width = len(next(reader, []))
    return next((reader.line_num for row in reader if len(row) > width), None)


def _reject(
    mask: pl.Series,
    values: pl.Series,
    lines: pl.Series,
    where: str,
    field: str,
    message: str,
    hint: str,
) -> None:
    """Raise InputError at the first row where mask holds; {value} is that row's value."""
    mask = mask.fill_null(False)
    if mask.any():
        index = int(mask.arg_true()[0])
        raise InputError(
            message.format(value=values[index]),
            path=where,
            line=int(lines[index]),
            field=field,
            hint=hint,
        )


def _is_header(first: list[str | None], columns: dict[str, str]) -> bool:
    """Whether the first row is a header: always with names, with numbers if not data."""
    if not columns or not all(v.isdigit() for v in columns.values()):
        return True
    probe = int(columns.get("amount") or columns.get("quantity") or 0) - 1
    if not 0 <= probe < len(first) or first[probe] is None:
        return True
    return _decimal(pl.Series([first[probe]]))[0] is None


def _resolve(
    header: list[str] | None, columns: dict[str, str], first: list, where: str
) -> dict[str, str]:
    """Internal column name per field, from --map then from the header's names."""
    shown = header or [f"{i + 1} ({v})" for i, v in enumerate(first)]
    listing = "the file's columns are: " + ", ".join(shown)
    normed = [_norm(h) for h in header or []]
    resolved: dict[str, int] = {}
    for field, value in columns.items():
        if value.isdigit() and 1 <= int(value) <= len(shown):
            resolved[field] = int(value) - 1
        elif _norm(value) in normed:
            exact = header.index(value) if value in (header or []) else None
            resolved[field] = normed.index(_norm(value)) if exact is None else exact
        else:
            raise InputError(
                f"--map {field}={value}: no such column",
                path=where,
                line=1,
                field=field,
                hint=f"map {field} to a column name or number; {listing}",
            )
    if header:
        resolved.update(_recognise(header, resolved))
    if {"quantity", "unit_price"} <= resolved.keys():
        resolved.setdefault("amount", -1)  # from quantity × unit price
    for field in ("ts", "member", "amount"):
        if field not in resolved:
            extra = " (or quantity=...,unit_price=...)" if field == "amount" else ""
            raise InputError(
                f"no column for the order's {field}",
                path=where,
                line=1,
                field=field,
                hint=f'name it with --map {field}="<column>"{extra}; {listing}',
            )
    return {f: f"c{i}" for f, i in resolved.items() if i >= 0}


def _decimal(values: pl.Series) -> pl.Series:
    """Money or quantity cells as plain decimal strings; null where one is not a number."""
    s = values.str.replace_all(_CURRENCY, "").str.replace(r"^\((.*)\)$", "-$1")
    grouped = s.str.contains(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$").fill_null(False)
    s = s.zip_with(~grouped, s.str.replace_all(",", "", literal=True)).str.strip_prefix("+")
    return pl.select(pl.when(s.str.contains(_PLAIN)).then(s)).to_series()


def _amounts(rows: pl.DataFrame, cols: dict[str, str], where: str) -> pl.Series:
    """Exact amounts: the amount column, else quantity × unit price; refunds negative."""
    wanted = ("amount", "quantity") if "amount" in cols else ("quantity", "unit_price")
    clean: dict[str, pl.Series] = {}
    for field in (f for f in wanted if f in cols):
        raw = rows[cols[field]]
        plain = bool(raw.str.contains(_PLAIN).all())  # the usual case: nothing to clean
        clean[field] = raw if plain else _decimal(raw)
        message = f"{field} {{value!r}} is not a number"
        _reject(clean[field].is_null(), raw, rows["_line"], where, field, message, _NUMBER_HINT)
    if "amount" in clean:
        amount = clean["amount"]
    else:
        factors = pl.DataFrame({"q": clean["quantity"], "p": clean["unit_price"]})
        amount = factors.select(_times(pl.col("q"), pl.col("p"))).to_series()
        message = "quantity {value!r} × unit price has too many digits"
        quantity = rows[cols["quantity"]]
        _reject(amount.is_null(), quantity, rows["_line"], where, "quantity", message, _NUMBER_HINT)
    refund = pl.repeat(False, rows.height, eager=True)
    if "order_id" in cols:
        refund |= rows[cols["order_id"]].str.contains(r"^C\d+$").fill_null(False)
    if "quantity" in clean:
        refund |= clean["quantity"].str.starts_with("-")
    negate = refund & ~amount.str.starts_with("-") & ~amount.str.contains(r"^[0.]+$")
    return amount.zip_with(~negate, "-" + amount)


def _times(quantity: pl.Expr, price: pl.Expr) -> pl.Expr:
    """quantity × price, exact: integers of their digits, and the sum of their decimals."""

    def digits(number: pl.Expr) -> pl.Expr:  # up to 18 digits each: the product fits
        return number.str.replace(".", "", literal=True).cast(pl.Int64, strict=False)

    def places(number: pl.Expr) -> pl.Expr:
        return number.str.extract(r"\.(\d*)$").str.len_chars().fill_null(0)

    product = digits(quantity).cast(pl.Int128) * digits(price)
    scale = places(quantity) + places(price)
    text = product.abs().cast(pl.String).str.zfill(scale + 1)
    whole = text.str.slice(0, text.str.len_chars() - scale)
    sign = pl.when(product < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return sign + whole + pl.when(scale > 0).then("." + text.str.tail(scale)).otherwise(pl.lit(""))


def _orders(
    rows: pl.DataFrame,
    cols: dict[str, str],
    ctx: ImportContext,
    options: dict[str, str],
    where: str,
) -> pl.DataFrame:
    """The order events of the table's rows (errors name the first bad row)."""
    if "order_id" in cols:  # Shopify: further line items of an order carry no date or total
        carry = (
            pl.col(cols["ts"]).is_null() & pl.col(cols.get("amount") or cols["quantity"]).is_null()
        )
        rows = rows.filter(~(carry & pl.col(cols["order_id"]).is_not_null()))
    rows = rows.with_columns(_ids(pl.col(cols["member"])).alias("_member"))
    if options.get("missing_member", "").lower() == "skip":
        rows = rows.filter(pl.col("_member").is_not_null())
    hint = "fill in the customer, or pass --map missing_member=skip to leave such rows out"
    message = "no customer on this row"
    _reject(
        rows["_member"].is_null(), rows["_member"], rows["_line"], where, "member", message, hint
    )
    member, lines = pl.col("_member"), rows["_line"]

    def column(field: str) -> pl.Expr:
        return pl.col(cols[field]) if field in cols else pl.lit(None, dtype=pl.String)

    return rows.select(
        ts=_parse_ts(rows[cols["ts"]], lines, ctx.timezone, options.get("date_format", ""), where),
        community=_community(rows, cols, ctx, where),
        member=pl.when(member.str.contains(":")).then(member).otherwise("order:" + member),
        type=pl.lit("order"),
        channel=column("channel"),
        order_id=_ids(column("order_id")),
        amount=_amounts(rows, cols, where),
        text=column("text"),
        member_name=column("member_name"),
        _line=lines,
    )


def _ids(cell: pl.Expr) -> pl.Expr:
    """Ids as written, but 17850.0 is 17850 (spreadsheets turn integer ids into floats)."""
    return cell.str.replace(r"^(\d+)\.0+$", "${1}")


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
    _reject(missing, rows["_line"], rows["_line"], where, "community", "no community", hint)
    return pl.col(cols["community"])


def _parse_ts(raw: pl.Series, lines: pl.Series, tz: tzinfo, option: str, where: str) -> pl.Series:
    """UTC timestamps of a date column; one format per file, errors name line and value."""
    hint = "fill in the order's date, or map another column with --map ts=<column>"
    _reject(raw.is_null(), raw, lines, where, "ts", "no date on this row", hint)
    if option and option.lower() not in ("dmy", "mdy"):
        return _parse_with_format(raw, lines, tz, option, where)
    if not option:  # the usual forms parse 50× faster by format than by pattern
        for fmt in _FAST_FORMATS:
            parsed = raw.str.to_datetime(fmt, strict=False, time_unit="us")
            if not parsed.null_count():
                return _to_utc(parsed, tz)
    parts = _date_parts(raw, option.lower(), lines, where)
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
    _reject(naive.is_null(), raw, lines, where, "ts", message, _DATE_HINT)
    zone = parts["Z"].str.extract_groups(r"^(?P<s>[+-])(?P<h>\d{2}):?(?P<m>\d{2})?$").struct
    minutes = zone.field("h").cast(pl.Int64) * 60 + zone.field("m").cast(pl.Int64).fill_null(0)
    minutes = minutes.zip_with(zone.field("s") == "+", -minutes).fill_null(0)
    fixed = (naive - (minutes * 60_000_000).cast(pl.Duration("us"))).dt.replace_time_zone("UTC")
    return _to_utc(naive, tz).zip_with(parts["Z"].is_null(), fixed)


def _parse_with_format(
    raw: pl.Series, lines: pl.Series, tz: tzinfo, fmt: str, where: str
) -> pl.Series:
    """Dates in the strftime format the user named with --map date_format=..."""
    try:
        parsed = raw.str.to_datetime(fmt, strict=False, time_unit="us")
    except pl.exceptions.PolarsError as exc:
        raise InputError(
            f"date_format {fmt!r} is not usable ({str(exc).splitlines()[0]})",
            field="date_format",
            hint="use strftime codes, e.g. --map date_format=%d/%m/%Y %H:%M",
        ) from None
    message = f"date {{value!r}} does not match --map date_format={fmt}"
    _reject(parsed.is_null(), raw, lines, where, "ts", message, _DATE_HINT)
    if isinstance(parsed.dtype, pl.Datetime) and parsed.dtype.time_zone:
        return parsed.dt.convert_time_zone("UTC")
    return _to_utc(parsed, tz)


def _date_parts(raw: pl.Series, option: str, lines: pl.Series, where: str) -> pl.DataFrame:
    """Year, month, day, time and zone strings of every recognised date form."""
    # 2024年3月1日 10时30分 is 2024-3-1 10:30.
    raw = raw.str.replace_all("[年月]", "-").str.replace("日", " ").str.replace_all("[时分]", ":")
    raw = raw.str.replace("秒", "").str.strip_chars(" :")
    # Only the forms present are extracted: each costs a regex pass and nine columns.
    found = [raw.str.extract_groups(p).struct.unnest() for p in (_YMD, _COMPACT) if _has(raw, p)]
    if _has(raw, _NUMERIC):
        num = raw.str.extract_groups(_NUMERIC).struct.unnest()
        year = num["y"].str.zfill(4).str.replace(r"^00", "20")  # 2-digit years are 20yy
        day_first = _day_first(num["a"].cast(pl.Int64), num["b"].cast(pl.Int64), year, option)
        if day_first is None:
            hint = "name the order with --map date_format=dmy (day first) or mdy (month first)"
            message = "dates put the day first on some rows and the month first on others"
            _reject(num["b"].cast(pl.Int64) > 12, raw, lines, where, "ts", message, hint)
        order = ("b", "a") if day_first else ("a", "b")
        found.append(num.with_columns(y=year, m=pl.col(order[0]), d=pl.col(order[1])))
    if not found:
        message = "date {value!r} is not a date this importer reads"
        _reject(raw.is_not_null(), raw, lines, where, "ts", message, _DATE_HINT)
    return pl.select(**{c: pl.coalesce(*(f[c] for f in found)) for c in "ymdHMSFPZ"})


def _has(values: pl.Series, pattern: str) -> bool:
    return bool(values.str.contains(pattern).any())


def _day_first(a: pl.Series, b: pl.Series, year: pl.Series, option: str) -> bool | None:
    """Whether D/M/Y dates put the day first, once per file; None if rows disagree."""
    if option in ("dmy", "mdy"):
        return option == "dmy"
    a_big, b_big = bool((a > 12).any()), bool((b > 12).any())
    if a_big or b_big:
        return None if a_big and b_big else a_big

    def backwards(month: pl.Series, day: pl.Series) -> int:
        key = (year.cast(pl.Int64) * 10_000 + month * 100 + day).drop_nulls()
        return int((key.diff() < 0).sum())

    # Nothing > 12: the reading that keeps the file in date order, else month first (US).
    return backwards(b, a) < backwards(a, b)


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


def _batches(rows: pl.DataFrame, ctx: ImportContext, size: int) -> Iterator[pl.DataFrame]:
    """Rows with their source ids, in batches, reporting progress as they go."""
    # content_id(community, order_id, ts, member, amount, occurrence) with the parts joined
    # by Polars: only the hash itself is computed row by row.
    text = [pl.col(c).fill_null("") for c in ("community", "order_id", "member", "amount")]
    stamp = pl.col("ts").dt.epoch("us").cast(pl.String)
    keys = rows.select(k=pl.concat_str([*text[:2], stamp, *text[2:]], separator="\x1f"))
    # Numbering identical rows is the slow part, and rarely needed.
    repeats = pl.int_range(pl.len()).over("k") if keys["k"].is_duplicated().any() else pl.lit(0)
    keys = keys.select(pl.concat_str("k", repeats.cast(pl.String), separator="\x1f")).to_series()
    reported = 0
    for start in range(0, rows.height, BATCH_ROWS):
        ids = [
            blake2b(k.encode(), digest_size=12).hexdigest()
            for k in keys.slice(start, BATCH_ROWS).to_list()
        ]
        yield rows.slice(start, BATCH_ROWS).with_columns(source_id=pl.Series(ids, dtype=pl.String))
        share = size * min(start + BATCH_ROWS, rows.height) // rows.height
        ctx.progress(share - reported)
        reported = share
    ctx.progress(size - reported)


IMPORTER = OrdersImporter()
