"""Imports meeting faults and odd input: huge fields, DST times, stale staging, Ctrl-C."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shequn.errors import InputError
from shequn.importers.base import ImportContext
from shequn.importers.csv_fields import FIELD_LIMIT
from shequn.importers.pipeline import read_frame
from shequn.services.imports import import_path
from shequn.workspace import Workspace
from tests.conftest import DATA

HEADER = "ts,community,member,type,text,source_id\n"


def test_a_field_over_128_kib_is_read(ws: Workspace, tmp_path: Path) -> None:
    text = "长" * 200_000  # 600 KB of UTF-8, over the csv module's default 128 KiB
    path = tmp_path / "long.csv"
    path.write_text(HEADER + f'2026-10-01T09:00:00Z,c,m,message,"{text}",a\n', encoding="utf-8")
    assert import_path(ws, path).added == 1


def test_a_field_over_the_limit_names_the_line(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "open-quote.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write(HEADER + "2026-10-01T09:00:00Z,c,m,message,ok,a\n")
        fh.write('2026-10-01T09:01:00Z,c,m,message,"never closed,b\n')  # line 3
        for _ in range(FIELD_LIMIT // 65_536 + 1):
            fh.write("x" * 65_535 + "\n")
    with pytest.raises(InputError) as caught:
        import_path(ws, path)
    assert (caught.value.path, caught.value.line) == (str(path), 3)
    assert "longer than 64 MiB" in str(caught.value) and "quote" in caught.value.hint


def test_qq_times_in_the_dst_gap_and_fold() -> None:
    ctx = ImportContext(timezone=ZoneInfo("America/New_York"))
    frame = read_frame(DATA / "qq" / "dst_new_york.txt", "qq", ctx)
    assert frame["ts"].to_list() == [
        datetime(2026, 3, 8, 6, 59, tzinfo=UTC),  # 01:59 EST
        datetime(2026, 3, 8, 7, 30, tzinfo=UTC),  # 02:30 does not exist: 03:30 EDT
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # 01:30 twice: the first, EDT
    ]
