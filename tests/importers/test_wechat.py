"""The WeChat (MemoTrace / 留痕 CSV) importer, on hand-written CSVs in tests/data/wechat."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from shequn.errors import InputError
from shequn.importers import detect
from shequn.importers.base import ImportContext
from shequn.importers.pipeline import read_frame
from shequn.importers.source import Source
from shequn.importers.wechat import HEADER, IMPORTER

DATA = Path(__file__).parent.parent / "data" / "wechat"
ROOM_CSV = DATA / "chatroom_utf8.csv"
GBK_CSV = DATA / "friends_gbk.csv"
T0 = 1700000000  # 2023-11-14 22:13:20 UTC


def at(offset: int) -> datetime:
    return datetime.fromtimestamp(T0 + offset, UTC)


def rows(frame: pl.DataFrame, *columns: str) -> list[tuple]:
    return list(frame.select(columns).iter_rows())


def metas(frame: pl.DataFrame) -> list[dict | None]:
    return [None if m is None else json.loads(m) for m in frame["meta"]]


def write_csv(path: Path, header: list[str], body: list[list[object]], encoding: str) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(body)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


@pytest.fixture(scope="module")
def room() -> pl.DataFrame:
    return read_frame(ROOM_CSV, "wechat")


def test_joins_and_removals_of_a_chatroom(room: pl.DataFrame) -> None:
    people = room.filter(pl.col("type") != "message")
    zhang = "wechat:wxid_zhangsan"
    assert rows(people, "ts", "type", "member", "inviter", "channel", "member_name") == [
        (at(0), "join", "wechat:self", zhang, None, None),  # "张三"邀请你加入了群聊
        (at(60), "join", "wechat:wxid_lisi", zhang, None, "李四"),  # 李四 has spoken: wxid
        (at(60), "join", "wechat:name:王五", zhang, None, "王五"),  # never spoke: name
        (at(180), "join", "wechat:name:赵六", zhang, "qr_code", "赵六"),
        (at(360), "join", "wechat:name:孙七", "wechat:self", None, "孙七"),  # 你邀请
        (at(420), "leave", "wechat:name:王五", None, None, "王五"),  # "张三"将"王五"移出
        (at(1140), "join", "wechat:wxid_zhouba", zhang, None, "周八"),  # template with wxids
        (at(1200), "join", "wechat:name:吴九", "wechat:self", "qr_code", "吴九"),
        (at(1260), "leave", "wechat:name:吴九", None, None, "吴九"),  # 你将"吴九"移出
    ]
    assert people["inviter_name"].to_list() == ["张三"] * 4 + [None, None, "张三", None, None]
    assert [m for m in metas(people) if m] == [
        {"removed": True, "removed_by": zhang},
        {"removed": True, "removed_by": "wechat:self"},
    ]
    assert set(room["community"]) == {"20230001@chatroom"}


def test_messages_of_every_type(room: pl.DataFrame) -> None:
    said = room.filter(pl.col("type") == "message")
    li, zhang = "wechat:wxid_lisi", "wechat:wxid_zhangsan"
    assert rows(said, "ts", "member", "member_name", "text") == [
        (at(120), li, "李四", "大家好，我是李四"),
        (at(240), zhang, "张三", "欢迎 @李四\u2005和 @所有人\u2005"),
        (at(300), "wechat:self", None, "谢谢邀请"),  # IsSender=1 without a Sender
        (at(480), li, "李四", None),  # the image's XML is not text
        (at(540), li, "李四", None),
        (at(600), zhang, "张三", None),
        (at(660), zhang, "张三", None),
        (at(720), li, "李四", None),
        (at(780), li, "李四", None),
        (at(840), li, "李四", None),
        # the rename (900) and the pat (960) are skipped
        (at(1020), li, "李四", "收到"),
        (at(1020), li, "李四", "收到"),
        (at(1080), zhang, "张三", "第一行，有逗号\n第二行"),
        # the recall (10002 revokemsg) is skipped
    ]
    assert metas(said)[1:10] == [
        {"mentions": [li]},  # @所有人 is everyone, not a member
        None,
        {"media": "image"},
        {"media": "voice"},
        {"media": "video"},
        {"media": "sticker"},
        {"media": "link"},
        {"media": "file"},
        {"media": "mini_program"},
    ]


def test_gbk_file_with_numeric_talker_is_named_by_the_file() -> None:
    frame = read_frame(GBK_CSV, "wechat")
    me, wang = "wechat:wxid_me", "wechat:wxid_laowang"
    assert rows(frame, "ts", "community", "type", "member", "inviter", "text") == [
        (at(0), "friends_gbk", "join", "wechat:wxid_xiaoli", wang, None),
        (at(60), "friends_gbk", "message", "wechat:wxid_xiaoli", None, "你好，老王"),
        (at(120), "friends_gbk", "message", me, None, "欢迎欢迎"),  # IsSender=1 with Sender
        (at(180), "friends_gbk", "message", wang, None, "在吗"),
        (at(240), "friends_gbk", "leave", me, None, None),  # 你被"老王"移出群聊
    ]
    assert metas(frame)[4] == {"removed": True, "removed_by": wang}
    assert frame["member_name"].to_list() == ["小李", "小李", "我自己", "老王", "我自己"]


def test_ids_do_not_depend_on_device_row_numbers(tmp_path: Path) -> None:
    original = read_frame(GBK_CSV, "wechat")
    assert original["source_id"].n_unique() == original.height
    # Another device: other localId and TalkerId, UTF-8 with a BOM, same file name.
    table = list(csv.reader(io.StringIO(GBK_CSV.read_bytes().decode("gbk"))))
    moved = [[str(900 + i), "77", *row[2:]] for i, row in enumerate(table[1:])]
    other = write_csv(tmp_path / "friends_gbk.csv", table[0], moved, "utf-8-sig")
    assert read_frame(other, "wechat")["source_id"].to_list() == original["source_id"].to_list()


def test_ids_are_stable_and_repeats_differ(room: pl.DataFrame) -> None:
    assert room["source_id"].n_unique() == room.height
    assert read_frame(ROOM_CSV, "wechat")["source_id"].to_list() == room["source_id"].to_list()
    joins = room.filter(pl.col("ts") == at(60))["source_id"].to_list()
    assert joins[1] == joins[0] + ":1"  # two people from one system line


def test_community_override(tmp_path: Path) -> None:
    frame = read_frame(GBK_CSV, "wechat", ImportContext(community="vip"))
    assert set(frame["community"]) == {"vip"}


def test_missing_column_names_it_and_the_header() -> None:
    with pytest.raises(InputError, match="column 'CreateTime' is missing") as caught:
        read_frame(DATA / "missing_column.csv", "wechat")
    assert caught.value.field == "CreateTime"
    assert caught.value.line == 1
    assert ",".join(HEADER) in caught.value.hint


def csv_row(**cells: str) -> list[str]:
    """A valid message row with some cells changed."""
    row = dict(zip(HEADER, ["1", "a@chatroom", "1", "0", "0", str(T0), "2", "fine"], strict=False))
    row |= {"StrTime": "", "Remark": "", "NickName": "A", "Sender": "wxid_a"} | cells
    return [row[column] for column in HEADER]


@pytest.mark.parametrize(
    ("row", "message", "field"),
    [
        (csv_row(CreateTime="soon"), "not a number", "CreateTime"),
        (csv_row(CreateTime="1e400"), "not a number", "CreateTime"),
        (csv_row(CreateTime="99999999999999999"), "not a time", "CreateTime"),
        (csv_row(Type="text"), "not a number", "Type"),
        (csv_row(CreateTime="", StrTime="yesterday"), "no time", "CreateTime"),
        (csv_row(NickName="", Sender=""), "without a sender", "Sender"),
        (csv_row()[:8], "8 fields", ""),
    ],
)
def test_bad_rows_name_line_and_field(
    tmp_path: Path, row: list[str], message: str, field: str
) -> None:
    path = write_csv(tmp_path / "bad.csv", list(HEADER), [csv_row(), row], "utf-8")
    with pytest.raises(InputError, match=message) as caught:
        read_frame(path, "wechat")
    assert caught.value.path == str(path)
    assert caught.value.line == 3
    assert caught.value.field == field


def test_unclosed_quote_is_an_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "cut.csv", list(HEADER), [csv_row(), csv_row()], "utf-8")
    text = path.read_text(encoding="utf-8").replace(",fine,", ',"fine,', 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="8 fields where the header has 12") as caught:
        read_frame(path, "wechat")
    assert caught.value.line == 2  # where the row with the open quote starts


@pytest.mark.parametrize("ending", [b"\r", b"\n", b"\r\n"])
def test_every_line_ending(tmp_path: Path, ending: bytes) -> None:
    body = [csv_row(), csv_row(StrContent="two\r\nlines"), csv_row(CreateTime="soon")]
    path = write_csv(tmp_path / "mac.csv", list(HEADER), body, "utf-8")
    path.write_bytes(path.read_bytes().replace(b"\r\n", ending))
    with pytest.raises(InputError, match="not a number") as caught:
        read_frame(path, "wechat")
    assert caught.value.line == 5  # the quoted line break counts as a line
    path.write_bytes(path.read_bytes().replace(b"soon", str(T0).encode()))
    texts = read_frame(path, "wechat")["text"].to_list()
    # CR is a control character: validation drops it, LF stays.
    assert texts == ["fine", "two" + ending.decode().replace("\r", "") + "lines", "fine"]


def test_local_strtime_and_millisecond_createtime(tmp_path: Path) -> None:
    body = [
        csv_row(CreateTime="", StrTime="2023-11-15 06:13:20"),  # Asia/Shanghai
        csv_row(localId="2", CreateTime=str(T0 * 1000)),
    ]
    frame = read_frame(write_csv(tmp_path / "t.csv", list(HEADER), body, "utf-8"), "wechat")
    assert frame["ts"].to_list() == [at(0), at(0)]


def test_sniff(tmp_path: Path) -> None:
    for path in (ROOM_CSV, GBK_CSV, DATA / "missing_column.csv"):
        assert detect(Source.open(path)) is IMPORTER
    orders = tmp_path / "orders.csv"
    orders.write_text("order_id,amount,ts\n1,9.5,2024-01-01\n", encoding="utf-8")
    assert not IMPORTER.sniff(Source.open(orders))


def test_progress_adds_up_to_the_file_size() -> None:
    seen: list[int] = []
    list(IMPORTER.read(Source.open(ROOM_CSV), ImportContext(progress=seen.append)))
    assert sum(seen) == ROOM_CSV.stat().st_size


def test_a_bad_byte_past_the_head_names_the_file(tmp_path: Path) -> None:
    body = [csv_row(localId=str(i), CreateTime=str(T0 + i)) for i in range(2000)]
    path = write_csv(tmp_path / "big.csv", list(HEADER), body, "utf-8")
    path.write_bytes(path.read_bytes() + b"9,a@chatroom,1,0,0,1700000000,2,\xff,,,A,wxid_a\r\n")
    assert path.stat().st_size > 100_000  # well beyond the 64 KiB that pick the encoding
    with pytest.raises(InputError, match="cannot be read as utf-8") as caught:
        read_frame(path, "wechat")
    assert caught.value.path == str(path)
    assert "UTF-8" in caught.value.hint


def test_reads_as_a_stream_in_two_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def whole_file(*_args: object) -> bytes:
        raise AssertionError("the importer read the whole file into memory")

    monkeypatch.setattr(Source, "read_bytes", whole_file)
    # A join announced before the member first speaks: the first pass learns the wxid.
    body = [
        csv_row(Type="10000", StrContent='"A"邀请"B"加入了群聊', NickName="", Sender=""),
        *(csv_row(localId=str(i), CreateTime=str(T0 + i)) for i in range(1, 60_001)),
        csv_row(CreateTime=str(T0 + 99_999), NickName="B", Sender="wxid_b"),
    ]
    path = write_csv(tmp_path / "big.csv", list(HEADER), body, "utf-8")
    seen: list[int] = []
    events = list(IMPORTER.read(Source.open(path), ImportContext(progress=seen.append)))
    assert len(events) == 60_002
    assert (events[0].type, events[0].member, events[0].inviter) == (
        "join",
        "wechat:wxid_b",
        "wechat:wxid_a",
    )
    assert len(seen) >= 3 and sum(seen) == path.stat().st_size
