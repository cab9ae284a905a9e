"""Cell values of the orders importer: cleaning, numbers, exact amounts, errors by row.

Every function works on one batch of rows at a time (Polars columns), so the orders
importer can stream; none of them needs the rest of the file.
"""

from __future__ import annotations

import polars as pl

from shequn.errors import InputError

_CURRENCY = r"(?i)(?:US|HK|NT|[SAC])?\$|RMB|CNY|USD|EUR|GBP|HKD|JPY|[¥￥€£元\s]"
PLAIN = r"^-?(?:\d+(?:\.\d*)?|\.\d+)$"
NUMBER_HINT = "write numbers like 1299.00, -20 or ¥1,299.00, or map another column with --map"


def cell(column: str) -> pl.Expr:
    """A cell without surrounding spaces; blank is null."""
    value = pl.col(column).str.strip_chars()
    return pl.when(value != "").then(value)


def reject(
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


def decimal(values: pl.Series) -> pl.Series:
    """Money or quantity cells as plain decimal strings; null where one is not a number."""
    s = values.str.replace_all(_CURRENCY, "").str.replace(r"^\((.*)\)$", "-$1")
    grouped = s.str.contains(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$").fill_null(False)
    s = s.zip_with(~grouped, s.str.replace_all(",", "", literal=True)).str.strip_prefix("+")
    return pl.select(pl.when(s.str.contains(PLAIN)).then(s)).to_series()


def amounts(rows: pl.DataFrame, cols: dict[str, str], where: str) -> pl.Series:
    """Exact amounts: the amount column, else quantity × unit price; refunds negative."""
    wanted = ("amount", "quantity") if "amount" in cols else ("quantity", "unit_price")
    clean: dict[str, pl.Series] = {}
    for field in (f for f in wanted if f in cols):
        raw = rows[cols[field]]
        plain = bool(raw.str.contains(PLAIN).all())  # the usual case: nothing to clean
        clean[field] = raw if plain else decimal(raw)
        message = f"{field} {{value!r}} is not a number"
        reject(clean[field].is_null(), raw, rows["_line"], where, field, message, NUMBER_HINT)
    if "amount" in clean:
        amount = clean["amount"]
    else:
        factors = pl.DataFrame({"q": clean["quantity"], "p": clean["unit_price"]})
        amount = factors.select(times(pl.col("q"), pl.col("p"))).to_series()
        message = "quantity {value!r} × unit price has too many digits"
        quantity = rows[cols["quantity"]]
        reject(amount.is_null(), quantity, rows["_line"], where, "quantity", message, NUMBER_HINT)
    refund = pl.repeat(False, rows.height, eager=True)
    if "order_id" in cols:
        refund |= rows[cols["order_id"]].str.contains(r"^C\d+$").fill_null(False)
    if "quantity" in clean:
        refund |= clean["quantity"].str.starts_with("-")
    negate = refund & ~amount.str.starts_with("-") & ~amount.str.contains(r"^[0.]+$")
    return amount.zip_with(~negate, "-" + amount)


def times(quantity: pl.Expr, price: pl.Expr) -> pl.Expr:
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
