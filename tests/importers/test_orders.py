"""The orders CSV importer: column mapping and recognition, amounts, dates, ids, errors."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shequn.errors import InputError
from shequn.importers.base import ImportContext, content_id
from shequn.importers.orders import importer as orders
from shequn.importers.orders import values as orders_values
from shequn.importers.pipeline import read_frame
from shequn.importers.source import Source

DATA = Path(__file__).parent.parent / "data" / "orders"
LONDON = ZoneInfo("Europe/London")


def read(
    path: Path, community: str = "shop", tz: tzinfo | None = None, **mapping: str
) -> pl.DataFrame:
    ctx = ImportContext(community=community, mapping=mapping)
    if tz is not None:
        ctx.timezone = tz
    return read_frame(path, "orders", ctx)


def rows(frame: pl.DataFrame, *columns: str) -> list[tuple]:
    return list(frame.select(columns).iter_rows())


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def write(tmp_path: Path, text: str, name: str = "orders.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error(path: Path, **kwargs: str) -> InputError:
    with pytest.raises(InputError) as caught:
        read(path, **kwargs)
    return caught.value


# Good input


def test_english_headers_quantity_times_price_and_cancellations() -> None:
    frame = read(DATA / "retail_en.csv", community="uk-shop", tz=LONDON)
    assert rows(frame, "ts", "member", "order_id", "amount", "text", "_line") == [
        (utc(2023, 12, 1, 8, 26), "order:17001", "580001", "25.50", "GLASS STAR LANTERN", 2),
        (utc(2023, 12, 1, 8, 26), "order:17001", "580001", "3.70", 'MUG "HOME", BLUE', 3),
        (utc(2023, 12, 1, 9, 2), "order:17002", "580002", "12.50", "TEA SET\nWITH TRAY", 4),
        # A C-invoice (cancellation) and a negative quantity (refund) are negative.
        (utc(2023, 12, 2, 10, 15), "order:17001", "C580003", "-3.70", 'MUG "HOME", BLUE', 6),
        (utc(2023, 12, 13, 14, 0), "order:17003", "580004", "-8.85", "CANDLE HOLDER", 8),
        (utc(2023, 12, 13, 14, 5), "order:17002", "580005", "12.48", "SMALL JAR", 9),
        (utc(2023, 12, 13, 14, 5), "order:17002", "580005", "12.48", "SMALL JAR", 10),
    ]
    assert set(frame["type"]) == {"order"}
    assert set(frame["community"]) == {"uk-shop"}
    assert sum(Decimal(a) for a in frame["amount"]) == Decimal("54.11")
    assert frame["member_name"].is_null().all()


def test_chinese_headers_currency_and_community_column() -> None:
    frame = read(DATA / "youzan_zh.csv", community="")
    assert rows(frame, "ts", "community", "member", "order_id", "amount", "channel", "text") == [
        (
            utc(2024, 3, 1, 2, 30),
            "读书会",
            "wechat:wxid_alice",  # already a member key: kept as given
            "E20240301001",
            "1299.00",
            "小程序",
            "年度会员",
        ),
        (utc(2024, 3, 1, 13, 5, 9), "读书会", "order:张三", "E20240301002", "59.90", "公众号",
         "读书笔记"),
        (utc(2024, 3, 2, 0, 0), "读书会", "order:李四", "E20240302001", "-59.90", "小程序",
         "读书笔记（退款）"),
        (utc(2024, 3, 5, 15, 59, 59), "写作营", "order:王五", "E20240305001", "10.00", None,
         "体验课"),
    ]  # fmt: skip


def test_quantity_times_unit_price_is_exact(tmp_path: Path) -> None:
    text = (
        "Order ID,Customer,Date,Quantity,Unit Price\n"
        "1,c1,2024-01-01,3,0.1\n"
        "2,c1,2024-01-01,.5,2\n"
        "3,c1,2024-01-01,007,1.040\n"
        "4,c1,2024-01-01,1,-11.06\n"  # a bad-debt adjustment: negative price
        "5,c1,2024-01-01,123456789012345678,99.99\n"
        "6,c1,2024-01-01,0,2.55\n"
    )
    frame = read(write(tmp_path, text))
    assert frame["amount"].to_list() == [
        "0.3",
        "1.0",
        "7.280",
        "-11.06",
        "12344444333344444343.22",
        "0.00",
    ]


def test_refund_signs_with_an_amount_column(tmp_path: Path) -> None:
    text = (
        "Order ID,Customer,Date,Quantity,Total\n"
        "C1001,c1,2024-01-01,1,20.00\n"  # cancellation id: made negative
        "1002,c1,2024-01-01,-1,20.00\n"  # negative quantity: made negative
        "C1003,c1,2024-01-01,-1,-20.00\n"  # already negative: kept
        "CA-2016-152156,c1,2024-01-01,2,20.00\n"  # not a cancellation id
        "C1004,c1,2024-01-01,1,0.00\n"  # zero stays zero
    )
    assert read(write(tmp_path, text))["amount"].to_list() == [
        "-20.00",
        "-20.00",
        "-20.00",
        "20.00",
        "0.00",
    ]


@settings(max_examples=60, deadline=None)
@given(
    quantity=st.decimals(min_value=-10_000, max_value=10_000, places=3, allow_nan=False),
    price=st.decimals(min_value=-100_000, max_value=100_000, places=4, allow_nan=False),
)
def test_product_matches_decimal_arithmetic(quantity: Decimal, price: Decimal) -> None:
    factors = pl.DataFrame({"q": [str(quantity)], "p": [str(price)]})
    product = factors.select(orders_values.times(pl.col("q"), pl.col("p"))).item()
    assert Decimal(product) == quantity * price


def test_community_option_overrides_the_column() -> None:
    frame = read(DATA / "youzan_zh.csv", community="all-shop")
    assert set(frame["community"]) == {"all-shop"}


def test_gbk_export_is_decoded() -> None:
    frame = read(DATA / "taobao_gbk.csv", community="taobao")
    assert rows(frame, "ts", "member", "order_id", "amount", "text", "_line") == [
        (utc(2024, 5, 20, 4, 0), "order:tb_小明", "1688000000000001", "88.00", "手账本套装", 2),
        (utc(2024, 5, 21, 1, 30), "order:tb_小红", "1688000000000002", "0.00", "书签", 3),
    ]


def test_mapped_columns_with_semicolons_offsets_and_accounting_negatives() -> None:
    frame = read(
        DATA / "shop_mapped.csv",
        order_id="Ref",
        member="Who",
        ts="When",
        amount="Paid",
        channel="Via",
    )
    # Item is not mapped: it is recognised as the product.
    assert rows(frame, "ts", "member", "order_id", "amount", "channel", "text") == [
        (utc(2024, 6, 1, 7, 0), "order:u1001", "A-1", "12.50", "newsletter", "Sticker pack"),
        (utc(2024, 6, 1, 10, 0), "order:u1002", "A-2", "1200.00", "ads", "Annual plan"),
        # No offset: the context's time zone (Asia/Shanghai by default).
        (utc(2024, 6, 2, 4, 0), "order:u1001", "A-3", "-12.50", "newsletter",
         "Sticker pack refund"),
    ]  # fmt: skip


def test_mapping_accepts_case_insensitive_names_and_aliases() -> None:
    frame = read(
        DATA / "shop_mapped.csv", order_id="ref", customer="WHO", date="when", total="Paid"
    )
    assert frame["member"].to_list() == ["order:u1001", "order:u1002", "order:u1001"]


def test_shopify_further_line_items_are_skipped() -> None:
    frame = read(DATA / "shopify.csv", order_id="Name")
    assert rows(frame, "ts", "member", "order_id", "amount", "text") == [
        (utc(2024, 7, 1, 1, 58), "order:ana@example.com", "#1001", "128.00", "Notebook"),
        (utc(2024, 7, 2, 2, 59), "order:ben@example.com", "#1002", "40.00", "Pen set"),
    ]


def test_whitespace_columns_by_number_with_header() -> None:
    frame = read(DATA / "cdnow_like.txt", community="cdnow", member="1", ts="2", amount="4")
    assert rows(frame, "ts", "member", "order_id", "amount", "_line") == [
        (utc(1998, 1, 4, 16, 0), "order:00101", None, "23.54", 2),
        (utc(1998, 1, 4, 16, 0), "order:00102", None, "12.49", 3),
        (utc(1998, 2, 19, 16, 0), "order:00101", None, "35.97", 4),
    ]


def test_whitespace_columns_by_number_without_header() -> None:
    frame = read(DATA / "cdnow_noheader.txt", tz=UTC, member="1", ts="2", quantity="3", amount="4")
    assert rows(frame, "ts", "member", "amount", "_line") == [
        (utc(1998, 1, 5), "order:00101", "23.54", 1),
        (utc(1998, 1, 5), "order:00102", "12.49", 2),
        (utc(1998, 2, 20), "order:00101", "35.97", 4),
    ]


def test_fixed_offset_time_zone() -> None:
    tz = timezone(timedelta(hours=-5))
    frame = read(DATA / "cdnow_noheader.txt", tz=tz, member="1", ts="2", amount="4")
    assert frame["ts"][0] == utc(1998, 1, 5, 5, 0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-01T10:30:00+08:00", utc(2024, 3, 1, 2, 30)),
        ("2024-03-01T02:30:00Z", utc(2024, 3, 1, 2, 30)),
        ("2024-03-01 04:30:00 +0200", utc(2024, 3, 1, 2, 30)),
        ("2024-03-01 10:30:00", utc(2024, 3, 1, 2, 30)),
        ("2024-03-01T10:30:00.250", utc(2024, 3, 1, 2, 30, 0, 250_000)),
        ("2024/03/01 10:30", utc(2024, 3, 1, 2, 30)),
        ("2024-3-1", utc(2024, 2, 29, 16, 0)),
        ("20240301", utc(2024, 2, 29, 16, 0)),
        ("2024年3月1日 10:30", utc(2024, 3, 1, 2, 30)),
        ("3/1/2024 10:30", utc(2024, 3, 1, 2, 30)),  # month first unless the file says
        ("03/01/2024 10:30 AM", utc(2024, 3, 1, 2, 30)),
        ("3/1/2024 2:05 PM", utc(2024, 3, 1, 6, 5)),
        ("3/1/24 12:00 AM", utc(2024, 2, 29, 16, 0)),
    ],
)
def test_date_forms(tmp_path: Path, value: str, expected: datetime) -> None:
    path = write(tmp_path, f'Order ID,Customer,Date,Amount\n1,c1,"{value}",5\n')
    assert read(path)["ts"].to_list() == [expected]


def test_day_first_when_a_first_field_exceeds_12(tmp_path: Path) -> None:
    path = write(tmp_path, "Order ID,Customer,Date,Amount\n1,c1,02/04/2024,5\n2,c1,13/04/2024,5\n")
    assert read(path, tz=UTC)["ts"].to_list() == [utc(2024, 4, 2), utc(2024, 4, 13)]


def test_day_first_inferred_from_date_order(tmp_path: Path) -> None:
    text = (
        "Order ID,Customer,Date,Amount\n1,c1,05/01/2024,5\n2,c1,06/01/2024,5\n3,c1,01/02/2024,5\n"
    )
    frame = read(write(tmp_path, text), tz=UTC)
    assert frame["ts"].to_list() == [utc(2024, 1, 5), utc(2024, 1, 6), utc(2024, 2, 1)]


def test_date_format_option(tmp_path: Path) -> None:
    text = "Order ID,Customer,Date,Amount\n1,c1,01.03.2024 10:30,5\n"
    path = write(tmp_path, text)
    assert read(path, tz=UTC, date_format="dmy")["ts"].to_list() == [utc(2024, 3, 1, 10, 30)]
    assert read(path, tz=UTC, date_format="mdy")["ts"].to_list() == [utc(2024, 1, 3, 10, 30)]
    strftime = read(path, tz=UTC, date_format="%d.%m.%Y %H:%M")
    assert strftime["ts"].to_list() == [utc(2024, 3, 1, 10, 30)]


def test_local_time_in_a_dst_gap_is_not_lost(tmp_path: Path) -> None:
    path = write(tmp_path, "Order ID,Customer,Date,Amount\n1,c1,2024-03-31 01:30,5\n")
    # 01:30 does not exist in London that night; Python reads it as GMT.
    assert read(path, tz=LONDON)["ts"].to_list() == [utc(2024, 3, 31, 1, 30)]


def test_missing_member_skip_option(tmp_path: Path) -> None:
    text = "InvoiceNo,CustomerID,InvoiceDate,Total\n1,c1,2024-01-01,5\n2,,2024-01-01,7\n"
    frame = read(write(tmp_path, text), missing_member="skip")
    assert rows(frame, "order_id", "amount") == [("1", "5")]


def test_member_name_column(tmp_path: Path) -> None:
    text = "订单号,会员ID,会员昵称,下单时间,金额\nN1,88001,小鹿,2024-01-01 08:00,9.90\n"
    frame = read(write(tmp_path, text))
    assert rows(frame, "member", "member_name", "amount") == [("order:88001", "小鹿", "9.90")]


def test_header_only_file_has_no_orders(tmp_path: Path) -> None:
    assert read(write(tmp_path, "Order ID,Customer,Date,Amount\n")).height == 0


def test_folder_of_exports(tmp_path: Path) -> None:
    write(tmp_path, "Order ID,Customer,Date,Amount\n1,c1,2024-01-01,5\n", "a.csv")
    write(tmp_path, "Order ID,Customer,Date,Amount\n2,c2,2024-01-02,6\n", "b.csv")
    write(tmp_path, "notes", "README.md")
    assert rows(read(tmp_path), "order_id", "amount") == [("1", "5"), ("2", "6")]


# Ids and progress


def test_source_ids_are_stable_and_distinguish_duplicate_rows() -> None:
    first = read(DATA / "retail_en.csv", tz=LONDON)
    again = read(DATA / "retail_en.csv", tz=LONDON)
    assert first["source_id"].to_list() == again["source_id"].to_list()
    assert first["source_id"].n_unique() == first.height == 7


def test_source_id_is_the_documented_content_id() -> None:
    frame = read(DATA / "retail_en.csv", community="uk-shop", tz=LONDON)
    stamp = int(utc(2023, 12, 13, 14, 5).timestamp() * 1_000_000)
    parts = ("uk-shop", "580005", stamp, "order:17002", "12.48")
    assert frame["source_id"].to_list()[5:] == [content_id(*parts, 0), content_id(*parts, 1)]


def test_source_ids_survive_an_overlapping_export(tmp_path: Path) -> None:
    lines = (DATA / "retail_en.csv").read_text().splitlines(keepends=True)
    # A later export that starts one order later and has one more at the end.
    later = write(tmp_path, "".join([lines[0], *lines[3:]]) + lines[-1].replace("12.5", "1.5"))
    full = read(DATA / "retail_en.csv", tz=LONDON)
    overlap = read(later, tz=LONDON)
    assert overlap["source_id"].to_list()[:5] == full["source_id"].to_list()[2:]
    assert overlap.height == 6


def test_progress_adds_up_to_the_file_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(orders, "BATCH_ROWS", 3)
    reported: list[int] = []
    ctx = ImportContext(community="shop", progress=reported.append)
    source = Source.open(DATA / "retail_en.csv")
    frames = list(orders.IMPORTER.read(source, ctx))
    assert [f.height for f in frames] == [3, 3, 1]
    assert sum(reported) == (DATA / "retail_en.csv").stat().st_size
    assert len(reported) == 4


# Detection


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("retail_en.csv", True),
        ("youzan_zh.csv", True),
        ("taobao_gbk.csv", True),
        ("shop_mapped.csv", False),  # names nobody could guess: needs --map
        ("cdnow_like.txt", False),  # whitespace columns: only with --format orders
    ],
)
def test_sniff_fixtures(name: str, expected: bool) -> None:
    assert orders.IMPORTER.sniff(Source.open(DATA / name)) is expected


@pytest.mark.parametrize(
    "header",
    [
        "ts,type,community,member,order_id,amount",  # the canonical log
        "localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime",
        "AuthorID,Author,Date,Content,Attachments,Reactions",
        "Order ID,Customer,Amount",  # no date: not sure enough
    ],
)
def test_sniff_rejects_other_csv(tmp_path: Path, header: str) -> None:
    assert orders.IMPORTER.sniff(Source.open(write(tmp_path, header + "\n"))) is False


# Bad input


def test_missing_column_names_field_columns_and_fix(tmp_path: Path) -> None:
    exc = error(write(tmp_path, "InvoiceNo,Customer,Total\n1,c1,5\n"))
    assert exc.field == "ts" and exc.line == 1
    assert "orders.csv" in str(exc)
    assert "--map ts=" in exc.hint
    assert "InvoiceNo, Customer, Total" in exc.hint


def test_missing_amount_suggests_quantity_and_price(tmp_path: Path) -> None:
    exc = error(write(tmp_path, "Order ID,Customer,Date,Quantity\n1,c1,2024-01-01,2\n"))
    assert exc.field == "amount"
    assert "unit_price" in exc.hint


def test_mapped_column_not_in_file(tmp_path: Path) -> None:
    path = write(tmp_path, "Order ID,Customer,Date,Amount\n1,c1,2024-01-01,5\n")
    exc = error(path, amount="Paid")
    assert exc.field == "amount"
    assert "Paid" in str(exc) and "Order ID, Customer, Date, Amount" in exc.hint


def test_unknown_map_field(tmp_path: Path) -> None:
    path = write(tmp_path, "Order ID,Customer,Date,Amount\n1,c1,2024-01-01,5\n")
    exc = error(path, colour="Amount")
    assert exc.field == "--map" and "order_id" in exc.hint


@pytest.mark.parametrize("bad", ["abc", "12,50", "¥"])
def test_unparseable_amount_names_line_and_value(tmp_path: Path, bad: str) -> None:
    text = f'Order ID,Customer,Date,Amount\n1,c1,2024-01-01,5\n2,c1,2024-01-01,"{bad}"\n'
    exc = error(write(tmp_path, text))
    assert exc.line == 3 and exc.field == "amount"
    assert repr(bad) in str(exc)


def test_unparseable_quantity_names_line_after_multiline_cell(tmp_path: Path) -> None:
    text = (
        "InvoiceNo,Description,Quantity,InvoiceDate,UnitPrice,CustomerID\n"
        '1,"two\nlines",1,2024-01-01,2.00,c1\n'
        "2,plain,lots,2024-01-01,2.00,c1\n"
    )
    exc = error(write(tmp_path, text))
    assert exc.line == 4 and exc.field == "quantity" and "'lots'" in str(exc)


@pytest.mark.parametrize("bad", ["yesterday", "2024-02-30", "2024-13-01 10:00", "25:00"])
def test_unparseable_date_names_line_value_and_format_fix(tmp_path: Path, bad: str) -> None:
    text = f"Order ID,Customer,Date,Amount\n1,c1,2024-01-01,5\n2,c1,{bad},5\n"
    exc = error(write(tmp_path, text))
    assert exc.line == 3 and exc.field == "ts"
    assert repr(bad) in str(exc)
    assert "--map date_format=" in exc.hint


def test_date_not_matching_date_format(tmp_path: Path) -> None:
    path = write(tmp_path, "Order ID,Customer,Date,Amount\n1,c1,2024-01-01,5\n")
    exc = error(path, date_format="%d/%m/%Y")
    assert exc.line == 2 and "%d/%m/%Y" in str(exc)


def test_mixed_day_and_month_first(tmp_path: Path) -> None:
    text = "Order ID,Customer,Date,Amount\n1,c1,13/01/2024,5\n2,c1,01/13/2024,5\n"
    exc = error(write(tmp_path, text))
    assert exc.line == 3 and exc.field == "ts" and "date_format=dmy" in exc.hint


def test_missing_date_on_a_row(tmp_path: Path) -> None:
    exc = error(write(tmp_path, "Order ID,Customer,Date,Amount\n1,c1,2024-01-01,5\n2,c1,,5\n"))
    assert exc.line == 3 and exc.field == "ts"


def test_missing_customer_on_a_row(tmp_path: Path) -> None:
    text = "InvoiceNo,CustomerID,InvoiceDate,Total\n1,c1,2024-01-01,5\n\n2,,2024-01-01,7\n"
    exc = error(write(tmp_path, text))
    assert exc.line == 4 and exc.field == "member"
    assert "missing_member=skip" in exc.hint


def test_no_community(tmp_path: Path) -> None:
    path = write(tmp_path, "Order ID,Customer,Date,Amount\n1,c1,2024-01-01,5\n")
    exc = error(path, community="")
    assert exc.field == "community" and "--community" in exc.hint


def test_blank_community_cell(tmp_path: Path) -> None:
    path = write(
        tmp_path, "订单号,买家,下单时间,金额,社群\n1,c1,2024-01-01,5,读书会\n2,c2,2024-01-01,5,\n"
    )
    exc = error(path, community="")
    assert exc.line == 3 and exc.field == "community"


def test_empty_file(tmp_path: Path) -> None:
    for text in ("", "\n\n"):
        exc = error(write(tmp_path, text))
        assert "empty" in str(exc) and "orders.csv" in str(exc)


def test_undecodable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(b"Order ID,Customer,Date,Amount\n1,\xff\xfe,2024-01-01,5\n")
    exc = error(path)
    assert "orders.csv" in str(exc) and "UTF-8" in exc.hint


def test_quantity_with_too_many_digits(tmp_path: Path) -> None:
    text = "Order ID,Customer,Date,Quantity,Unit Price\n1,c1,2024-01-01,1234567890123456789012,2\n"
    exc = error(write(tmp_path, text))
    assert exc.line == 2 and exc.field == "quantity"


def test_spreadsheet_instead_of_csv(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    exc = error(path)
    assert "orders.xlsx" in str(exc) and "CSV" in exc.hint


def test_ragged_row_names_its_line(tmp_path: Path) -> None:
    text = "Order ID,Customer,Date,Amount\n1,c1,2024-01-01,5\n2,c1,2024-01-01,1,299.00\n"
    exc = error(write(tmp_path, text))
    assert exc.line == 3 and "quote" in exc.hint


# Streaming


def dates_file(tmp_path: Path, *dates: str) -> Path:
    body = "".join(f"{i},c1,{d},5\n" for i, d in enumerate(dates, start=1))
    return write(tmp_path, "Order ID,Customer,Date,Amount\n" + body)


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_batches_change_nothing(monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    whole = read(DATA / "retail_en.csv", tz=LONDON)
    monkeypatch.setattr(orders, "BATCH_ROWS", size)
    assert read(DATA / "retail_en.csv", tz=LONDON).equals(whole)


def test_identical_rows_in_neighbouring_batches_keep_their_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(orders, "BATCH_ROWS", 1)  # the two SMALL JAR rows meet across batches
    frame = read(DATA / "retail_en.csv", community="uk-shop", tz=LONDON)
    stamp = int(utc(2023, 12, 13, 14, 5).timestamp() * 1_000_000)
    parts = ("uk-shop", "580005", stamp, "order:17002", "12.48")
    assert frame["source_id"].to_list()[5:] == [content_id(*parts, 0), content_id(*parts, 1)]


def test_a_later_batch_decides_day_first_for_earlier_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orders, "BATCH_ROWS", 2)
    path = dates_file(tmp_path, "05/01/2024", "06/01/2024", "07/01/2024", "13/01/2024")
    assert read(path, tz=UTC)["ts"].to_list() == [utc(2024, 1, d) for d in (5, 6, 7, 13)]


def test_date_order_is_inferred_across_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each batch holds one date twice: only the step between batches says day first.
    monkeypatch.setattr(orders, "BATCH_ROWS", 2)
    path = dates_file(tmp_path, "02/01/2024", "02/01/2024", "01/02/2024", "01/02/2024")
    expected = [utc(2024, 1, 2)] * 2 + [utc(2024, 2, 1)] * 2
    assert read(path, tz=UTC)["ts"].to_list() == expected


@pytest.mark.parametrize(
    "dates",
    [
        ("13/01/2024", "05/01/2024", "01/13/2024"),  # day first, then a month first
        ("01/13/2024", "05/01/2024", "13/01/2024"),  # month first, then a day first
    ],
)
def test_mixed_day_and_month_first_across_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dates: tuple[str, ...]
) -> None:
    monkeypatch.setattr(orders, "BATCH_ROWS", 1)
    exc = error(dates_file(tmp_path, *dates))
    # As when the file was read whole: the first row that puts the month first.
    line = 2 + dates.index(next(d for d in dates if int(d[3:5]) > 12))
    assert exc.line == line and exc.field == "ts" and "date_format=dmy" in exc.hint


@pytest.mark.parametrize("ending", ["\r\n", "\n", "\r"])
def test_every_line_ending(tmp_path: Path, ending: str) -> None:
    text = (DATA / "retail_en.csv").read_text(encoding="utf-8")
    path = tmp_path / "orders.csv"
    path.write_text(text.replace("\n", ending), encoding="utf-8", newline="")
    expected = read(DATA / "retail_en.csv", tz=LONDON).drop("text")
    frame = read(path, tz=LONDON)
    assert frame.drop("text").equals(expected)  # the same rows, ids and line numbers
    assert frame["text"][2] == "TEA SET" + ending.replace("\r", "") + "WITH TRAY"


def test_undecodable_byte_past_the_head(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    rows = "".join(f"{i},c1,2024-01-01,5\n" for i in range(8000))
    path.write_bytes(f"Order ID,Customer,Date,Amount\n{rows}".encode() + b"9,\xff,2024-01-01,5\n")
    assert path.stat().st_size > 100_000  # well beyond the 64 KiB that pick the encoding
    exc = error(path)
    assert exc.path == str(path) and "cannot be read as utf-8" in str(exc)
    assert "UTF-8" in exc.hint


def test_reads_as_a_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def whole_file(*_args: object) -> bytes:
        raise AssertionError("the importer read the whole file into memory")

    monkeypatch.setattr(Source, "read_bytes", whole_file)
    monkeypatch.setattr(orders, "BATCH_ROWS", 1000)
    rows = "".join(f"{i},c{i % 7},{i % 28 + 1}/3/2024,{i}.50\n" for i in range(5000))
    path = write(tmp_path, f"Order ID,Customer,Date,Amount\n{rows}")
    frames = list(orders.IMPORTER.read(Source.open(path), ImportContext(community="shop")))
    assert [f.height for f in frames] == [1000] * 5
    # Row 4999 is 16/3/2024: day first (days reach 28), 16 March 00:00 at +08:00.
    assert frames[-1]["ts"][-1] == utc(2024, 3, 15, 16)


def test_ragged_row_of_a_whitespace_file(tmp_path: Path) -> None:
    path = write(tmp_path, "00101 19980105 2 23.54\n\n00102 19980105 1 12.49 extra\n", "log.txt")
    exc = error(path, member="1", ts="2", amount="4")
    assert exc.line == 3 and "5 fields" in str(exc)
