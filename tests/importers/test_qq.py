"""The QQ message manager .txt importer, on hand-written exports in tests/data/qq."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from shequn.errors import InputError
from shequn.importers import detect
from shequn.importers.base import ImportContext
from shequn.importers.pipeline import read_frame
from shequn.importers.qq import IMPORTER
from shequn.importers.source import Source

DATA = Path(__file__).parent.parent / "data" / "qq"
TWO_GROUPS = DATA / "two_groups_bom_crlf.txt"
GBK = DATA / "gbk_12hour.txt"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def rows(frame: pl.DataFrame, *columns: str) -> list[tuple]:
    return list(frame.select(columns).iter_rows())


def metas(frame: pl.DataFrame) -> list[dict | None]:
    return [None if m is None else json.loads(m) for m in frame["meta"]]


@pytest.fixture(scope="module")
def two_groups() -> pl.DataFrame:
    return read_frame(TWO_GROUPS, "qq")


def test_two_groups_in_one_file(two_groups: pl.DataFrame) -> None:
    # Times are Asia/Shanghai (the default zone): 9:00 there is 01:00 UTC.
    one, two = "读书会一群", "读书会二群"
    assert rows(two_groups, "ts", "community", "type", "member", "inviter", "text") == [
        (utc(2023, 5, 1, 1, 0, 0), one, "join", "qq:name:小明", None, None),
        (utc(2023, 5, 1, 1, 1, 2), one, "message", "qq:10001", None, "大家好，我是小明"),
        (
            utc(2023, 5, 1, 1, 2, 3),
            one,
            "message",
            "qq:10002",
            None,
            "欢迎 @小明 ，看群公告\n第二行\n\n最后一行",
        ),
        # 阿花 was seen with her number: the inviter is keyed by it
        (utc(2023, 5, 1, 1, 3, 0), one, "join", "qq:name:小红", "qq:10002", None),
        (utc(2023, 5, 1, 1, 3, 0), one, "join", "qq:name:小刚", "qq:10002", None),
        (utc(2023, 5, 1, 2, 4, 5), one, "message", "qq:10003", None, "[图片]"),
        (utc(2023, 5, 1, 2, 5, 0), one, "message", "qq:10004", None, "好"),
        (utc(2023, 5, 1, 2, 5, 0), one, "message", "qq:10004", None, "好"),
        (utc(2023, 5, 1, 2, 6, 0), one, "message", "qq:xiaolan@example.com", None, "用邮箱的成员"),
        (utc(2023, 5, 1, 3, 0, 0), one, "join", "qq:name:小刚", None, None),
        # the recall notice at 11:30 is skipped
        (utc(2023, 5, 1, 4, 0, 0), one, "leave", "qq:name:小刚", None, None),
        (utc(2023, 5, 1, 4, 10, 0), one, "leave", "qq:10004", None, None),
        (utc(2023, 5, 2, 0, 0, 0), two, "message", "qq:10001", None, "二群第一条"),
        (utc(2023, 5, 2, 0, 0, 30), two, "leave", "qq:name:路人甲", None, None),
        (utc(2023, 5, 2, 0, 1, 0), two, "leave", "qq:10002", None, None),
        (
            utc(2023, 5, 2, 0, 2, 0),
            two,
            "message",
            "qq:10001",
            None,
            "================\n不是分隔线",
        ),
    ]


def test_names_and_meta(two_groups: pl.DataFrame) -> None:
    assert two_groups["member_name"].to_list() == [
        "小明", "小明", "阿花", "小红", "小刚", None, "小红", "小红",
        "小蓝", "小刚", "小刚", "小红", "小明", "路人甲", "阿花", "小明",
    ]  # fmt: skip
    assert two_groups["inviter_name"].to_list()[3:5] == ["阿花", "阿花"]
    meta = metas(two_groups)
    assert meta[2] == {"mentions": ["qq:10001"]}
    assert meta[5] == {"media": "image"}
    assert meta[10] is None  # left by themself
    assert meta[11] == {"removed": True}  # 被管理员移出: the admin is not named
    assert meta[13] == {"removed": True}
    assert meta[14] == {"removed": True, "removed_by": "qq:10001"}


def test_gbk_with_twelve_hour_clock() -> None:
    frame = read_frame(GBK, "qq")
    assert rows(frame, "ts", "community", "type", "member", "member_name", "text") == [
        (utc(2019, 9, 23, 12, 43, 38), "老友记", "message", "qq:87200175", "骰娘", "你好，世界"),
        (utc(2019, 9, 23, 12, 49, 12), "老友记", "join", "qq:name:真核生物", "真核生物", None),
        (utc(2019, 9, 22, 16, 5, 0), "老友记", "message", "qq:28084825", "暗夜", None),  # 12 AM
        (utc(2019, 9, 24, 4, 30, 0), "老友记", "message", "qq:28084825", "暗夜", "中午好"),
    ]


def test_timezone_and_community_come_from_the_context() -> None:
    ctx = ImportContext(community="book-club", timezone=ZoneInfo("Europe/Berlin"))
    frame = read_frame(GBK, "qq", ctx)
    assert frame["ts"][0] == utc(2019, 9, 23, 18, 43, 38)  # 20:43 CEST
    assert set(frame["community"]) == {"book-club"}


def test_ids_are_stable_and_unique(two_groups: pl.DataFrame, tmp_path: Path) -> None:
    ids = two_groups["source_id"].to_list()
    assert len(set(ids)) == len(ids)  # the two identical "好" differ by occurrence
    assert read_frame(TWO_GROUPS, "qq")["source_id"].to_list() == ids
    # The same chat saved as GBK with LF endings and no BOM is the same events.
    text = TWO_GROUPS.read_bytes().decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    resaved = tmp_path / "resaved.txt"
    resaved.write_bytes(text.encode("gbk"))
    assert read_frame(resaved, "qq").equals(two_groups)


def test_a_later_overlapping_export_keeps_ids(two_groups: pl.DataFrame, tmp_path: Path) -> None:
    text = TWO_GROUPS.read_bytes().decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    # The later export starts at 10:04 in group one and has one more message at its end.
    head, rest = text.split("2023-05-01 9:00:00 系统消息(10000)", 1)
    rest = rest[rest.index("2023-05-01 10:04:05") :]
    later = tmp_path / "later.txt"
    later.write_text(head + rest + "2023-05-03 9:00:00 小明(10001)\n新消息\n\n", encoding="utf-8")
    frame = read_frame(later, "qq")
    kept = two_groups.filter(pl.col("ts") >= utc(2023, 5, 1, 2, 4, 5))
    # Events keyed by name only (小刚 was never seen with a number) keep theirs too.
    assert frame["source_id"].to_list()[: kept.height] == kept["source_id"].to_list()
    assert frame.height == kept.height + 1


def test_header_with_an_impossible_date_is_an_error() -> None:
    with pytest.raises(InputError, match="impossible date") as caught:
        read_frame(DATA / "bad_date.txt", "qq")
    assert caught.value.path.endswith("bad_date.txt")
    assert caught.value.line == 12
    assert "YYYY-MM-DD H:MM:SS" in caught.value.hint


@pytest.mark.parametrize(
    "header",
    [
        "2023-05-01 25:00:00 小明(10001)",
        "2023-5-1 9:01 小明(10001)",
        "2023/05/01 9:01:00 小明(10001)",
    ],
)
def test_damaged_header_is_an_error_not_text(tmp_path: Path, header: str) -> None:
    path = tmp_path / "chat.txt"
    path.write_text(
        f"2023-05-01 9:00:00 小明(10001)\n第一条\n\n{header}\n第二条\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match="impossible date") as caught:
        read_frame(path, "qq")
    assert caught.value.line == 4


def test_file_without_headers_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\nnothing else\n", encoding="utf-8")
    with pytest.raises(InputError, match="no message header found"):
        read_frame(path, "qq")
    path.write_text("", encoding="utf-8")
    assert read_frame(path, "qq").height == 0


def test_sniff(tmp_path: Path) -> None:
    for path in (TWO_GROUPS, GBK):
        source = Source.open(path)
        assert detect(source) is IMPORTER
    layout_only = tmp_path / "no_title.txt"
    layout_only.write_text(
        "=" * 64 + "\n消息分组:我的群聊\n" + "=" * 64 + "\n消息对象:某群\n" + "=" * 64 + "\n",
        encoding="utf-8",
    )
    assert IMPORTER.sniff(Source.open(layout_only))
    other = tmp_path / "other.txt"
    other.write_text("12/03/2024, 10:00 - Ann: hi\n", encoding="utf-8")
    assert not IMPORTER.sniff(Source.open(other))
    assert not IMPORTER.sniff(Source.open(DATA))  # a folder of several files


def test_progress_adds_up_to_the_file_size() -> None:
    seen: list[int] = []
    source = Source.open(TWO_GROUPS)
    list(IMPORTER.read(source, ImportContext(progress=seen.append)))
    assert sum(seen) == TWO_GROUPS.stat().st_size


def lf_text() -> str:
    """The two-group fixture with LF endings only."""
    text = TWO_GROUPS.read_bytes().decode("utf-8-sig")
    return text.replace("\r\n", "\n").replace("\r", "\n")


@pytest.mark.parametrize("ending", ["\r\n", "\n", "\r"])
def test_every_line_ending_reads_the_same(
    two_groups: pl.DataFrame, tmp_path: Path, ending: str
) -> None:
    path = tmp_path / "chat.txt"
    path.write_bytes(lf_text().replace("\n", ending).encode("utf-8"))
    assert read_frame(path, "qq").equals(two_groups)


def test_crlf_split_between_two_reads_is_one_line_end(tmp_path: Path) -> None:
    # The text stream decodes 8 KiB at a time: put a CR LF on every side of that edge.
    path = tmp_path / "chat.txt"
    for pad in range(8180, 8200):
        head = "2023-05-01 9:00:00 小明(10001)\r\n"
        body = "x" * (pad - len(head.encode()))
        path.write_bytes(f"{head}{body}\r\n第二行\r\n\r\n".encode())
        frame = read_frame(path, "qq")
        assert frame["text"].to_list() == [f"{body}\n第二行"], pad


def test_a_bad_byte_past_the_head_names_the_file(tmp_path: Path) -> None:
    message = "2023-05-01 9:00:00 小明(10001)\n大家好，今天读第三章\n\n"
    path = tmp_path / "chat.txt"
    path.write_bytes(message.encode() * 3000 + b"2023-05-02 9:00:00 \xff(10001)\n\n")
    assert path.stat().st_size > 100_000  # well beyond the 64 KiB that pick the encoding
    with pytest.raises(InputError, match="cannot be read as utf-8") as caught:
        read_frame(path, "qq")
    assert caught.value.path == str(path)
    assert "UTF-8" in caught.value.hint


def test_reads_as_a_stream_with_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def whole_file(*_args: object) -> bytes:
        raise AssertionError("the importer read the whole file into memory")

    monkeypatch.setattr(Source, "read_bytes", whole_file)
    # Few messages, many lines: 3 MB that parse in a moment.
    lines = "".join(f"第{i}行\n" for i in range(60_000))
    path = tmp_path / "chat.txt"
    path.write_text(
        "".join(f"2023-05-01 9:0{m}:00 小明(10001)\n{lines}\n" for m in range(5)), encoding="utf-8"
    )
    seen: list[int] = []
    events = list(IMPORTER.read(Source.open(path), ImportContext(progress=seen.append)))
    assert [e.ts for e in events] == [utc(2023, 5, 1, 1, m) for m in range(5)]
    assert len(seen) >= 3 and sum(seen) == path.stat().st_size  # step by step, all of it


@pytest.mark.parametrize("ending", ["\r\n", "\n", "\r"])
def test_error_lines_count_every_line_ending(tmp_path: Path, ending: str) -> None:
    lines = ["2023-05-01 9:00:00 小明(10001)", *(f"第{i}行" for i in range(30_000)), ""]
    lines += ["2023-02-30 9:01:00 小明(10001)", "日期不存在", ""]
    path = tmp_path / "chat.txt"
    path.write_text(ending.join(lines), encoding="utf-8", newline="")
    with pytest.raises(InputError, match="impossible date") as caught:
        read_frame(path, "qq")
    assert caught.value.line == 30_003


def test_a_join_before_the_first_message_is_linked_to_the_number() -> None:
    # 张小凡 joins two days before posting as 张小凡(12345678); 李四 never posts.
    ctx = ImportContext()
    frame = read_frame(DATA / "join_before_first_message.txt", "qq", ctx)
    assert rows(frame, "type", "member") == [
        ("join", "qq:name:张小凡"),
        ("message", "qq:10002"),
        ("join", "qq:name:李四"),
        ("message", "qq:12345678"),
        ("message", "qq:12345678"),
    ]
    assert ctx.aliases == {"qq:name:张小凡": "qq:12345678"}
