"""GBK/GB18030 exports are read whatever their length: format detection reads the first
4 or 8 KB and encoding detection the first 64 KB, and a cut may fall inside a two- or
four-byte character. Each file here is built so that the cut falls at every offset of
such a character; each must be detected and read whole."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from shequn.importers import detect
from shequn.importers.base import ImportContext
from shequn.importers.pipeline import read_frame
from shequn.importers.source import Source

CUTS = (4096, 8192, 65536)
# A GBK character (two bytes) and one only GB18030 has (four bytes).
WIDE = (("中", 2), ("😀", 4))
RUN = 200  # characters of the message that spans the cut


def _qq_message(n: int, text: str) -> str:
    return f"2023-05-01 9:{n // 60 % 60:02d}:{n % 60:02d} 小明(10001)\n{text}\n\n"


def _wechat_row(n: int, text: str) -> str:
    return f"{n},42,1,0,0,{1700000000 + n},2,{text},2023-11-15 06:13:20,,小李,wxid_xiaoli\n"


def _order_row(n: int, text: str) -> str:
    return f"A{n:05d},会员{text},88.00,2024-05-20 12:00:00\n"


SHAPES: dict[str, tuple[str, Callable[[int, str], str]]] = {
    "qq": ("消息记录（此消息记录为文本格式，不支持重新导入）\n\n", _qq_message),
    "wechat": (
        "localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,"
        "Remark,NickName,Sender\n",
        _wechat_row,
    ),
    "orders": ("订单编号,买家会员名,实付金额,付款时间\n", _order_row),
}


def cut_file(fmt: str, cut: int, char: str, width: int, offset: int) -> tuple[bytes, int]:
    """A GB18030 file of `fmt` whose byte `cut` is `offset` bytes into a run of `char`,
    and the number of rows it holds."""
    head, row = SHAPES[fmt]
    data, n = head.encode("gb18030"), 0
    while True:
        pad = row(n, "x" * 40).encode("gb18030")
        if len(data) + len(pad) + 200 > cut:
            break
        data, n = data + pad, n + 1
    # The row spanning the cut: ASCII up to the run, then the wide characters.
    run = (char * RUN).encode("gb18030")
    base = len(data) + row(n, char * RUN).encode("gb18030").index(run)
    data += row(n, "y" * (cut - offset - base) + char * RUN).encode("gb18030")
    assert data.index(run) + offset == cut
    return data, n + 1


@pytest.mark.parametrize("fmt", sorted(SHAPES))
@pytest.mark.parametrize("cut", CUTS)
@pytest.mark.parametrize(("char", "width"), WIDE)
def test_wide_character_at_every_offset_of_the_cut(
    tmp_path: Path, fmt: str, cut: int, char: str, width: int
) -> None:
    for offset in range(width):
        data, rows = cut_file(fmt, cut, char, width, offset)
        path = tmp_path / f"{fmt}-{cut}-{offset}.{'txt' if fmt == 'qq' else 'csv'}"
        path.write_bytes(data)
        source = Source.open(path)
        found = detect(source)
        source.close()
        assert found is not None and found.name == fmt, (cut, offset)
        frame = read_frame(path, "auto", ImportContext(community="c"))
        assert frame.height == rows
        wide = char * RUN
        column = "member" if fmt == "orders" else "text"
        assert frame.filter(pl.col(column).str.contains(wide, literal=True)).height == 1
