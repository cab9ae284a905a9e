"""Which column of an orders file holds which field: --map, then common header names.

Everything here looks at the mapping and the file's first row only, so the decision is
made before the rows are streamed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import polars as pl

from shequn.errors import InputError
from shequn.importers.orders.values import decimal

# Header names per field, as norm leaves them, in order of preference.
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


def norm(name: str) -> str:
    """A header name without spaces and punctuation, in lower case."""
    return re.sub(r"[\s_\-.#()（）/:：]+", "", name).lower()


def recognise(header: list[str], taken: Mapping[str, int] | None = None) -> dict[str, int]:
    """Column index per field whose header is a common name for it (one column each)."""
    names = [norm(h) for h in header]
    taken = taken or {}
    used = set(taken.values())
    found: dict[str, int] = {}
    for field, candidates in _NAMES.items():
        hits = [names.index(c) for c in candidates if c in names and names.index(c) not in used]
        if field not in taken and hits:
            found[field] = hits[0]
            used.add(hits[0])
    return found


def separator(first_line: str) -> str:
    """The field separator of a file: the most frequent of , tab ; in its first line."""
    counts = {sep: first_line.count(sep) for sep in (",", "\t", ";")}
    return max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","


def split_mapping(mapping: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
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


def is_header(first: list[str | None], columns: dict[str, str]) -> bool:
    """Whether the first row is a header: always with names, with numbers if not data."""
    if not columns or not all(v.isdigit() for v in columns.values()):
        return True
    probe = int(columns.get("amount") or columns.get("quantity") or 0) - 1
    if not 0 <= probe < len(first) or first[probe] is None:
        return True
    return decimal(pl.Series([first[probe]]))[0] is None


def resolve(
    header: list[str] | None, columns: dict[str, str], first: list, where: str
) -> dict[str, int]:
    """Column index per field, from --map then from the header's names; -1 for an
    amount to compute from quantity × unit price."""
    shown = header or [f"{i + 1} ({v})" for i, v in enumerate(first)]
    listing = "the file's columns are: " + ", ".join(shown)
    normed = [norm(h) for h in header or []]
    resolved: dict[str, int] = {}
    for field, value in columns.items():
        if value.isdigit() and 1 <= int(value) <= len(shown):
            resolved[field] = int(value) - 1
        elif norm(value) in normed:
            exact = header.index(value) if value in (header or []) else None
            resolved[field] = normed.index(norm(value)) if exact is None else exact
        else:
            raise InputError(
                f"--map {field}={value}: no such column",
                path=where,
                line=1,
                field=field,
                hint=f"map {field} to a column name or number; {listing}",
            )
    if header:
        resolved.update(recognise(header, resolved))
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
    return resolved
