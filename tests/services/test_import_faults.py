"""Imports meeting faults and odd input: huge fields, DST times, stale staging, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shequn.analytics import sync
from shequn.errors import InputError
from shequn.importers.base import ImportContext
from shequn.importers.csv_fields import FIELD_LIMIT
from shequn.importers.pipeline import read_frame
from shequn.services.imports import import_path
from shequn.services.workspace import init_workspace
from shequn.store.engine import read_transaction
from shequn.store.staging import claim
from shequn.workspace import Workspace
from tests.helpers.paths import DATA
from tests.helpers.process import child_env

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


def _shequn(*args: str) -> subprocess.Popen[str]:
    env = child_env()
    env.pop("SHEQUN_DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "shequn", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(check: Callable[[], bool], proc: subprocess.Popen[str]) -> None:
    while not check():
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)


@pytest.fixture(scope="module")
def many_rows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "many.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write(HEADER)
        for i in range(150_000):
            fh.write(f"2026-10-01T09:00:00Z,c,m{i % 999},message,hello {i},s{i}\n")
    return path


@pytest.mark.parametrize("phase", ["parsing", "merging"])
def test_ctrl_c_stores_nothing_and_says_so(tmp_path: Path, many_rows: Path, phase: str) -> None:
    ws = init_workspace(tmp_path / "w", name="w")
    ws.close()  # the WAL is checkpointed away: it grows again only in the merge
    data = ws.root / "data"
    proc = _shequn("import", str(many_rows), "-w", str(ws.root))
    if phase == "parsing":
        # Staging, and building the analytics copy in the same pass.
        _wait_for(lambda: any(data.glob(".staging-*.db")) and _building(data), proc)
    else:
        _wait_for(lambda: _writing(data / "shequn.db-shm", proc.pid), proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    with read_transaction(Workspace.open(ws.root).engine) as conn:
        stored = conn.exec_driver_sql("SELECT count(*) FROM events").scalar()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and list(data.glob(".staging-*")) == []
    if stored == 0:
        assert err.strip().endswith(f"{many_rows}: interrupted, nothing stored"), err
        assert out == ""
        # The analytics copy the import was building in the same pass is gone with it.
        assert not (data / "analytics.duckdb").exists()
    else:  # the interrupt came as the merge committed: stored, and said so
        assert stored == 150_000 and "150,000 events added" in out
        assert err.strip().endswith(f"interrupted after {many_rows} was stored"), err
        # ... and the copy finished: the interrupt waited for it.
        assert sync(Workspace.open(ws.root)).events_read == 0


def _building(data: Path) -> bool:
    """True once the import's copy holds its first range (its file has grown)."""
    copy = data / "analytics.duckdb"
    return copy.exists() and copy.stat().st_size > 0


def _writing(shm: Path, pid: int) -> bool:
    """True while `pid` holds SQLite's WAL write lock (byte 120 of the -shm file)."""
    if not shm.exists():
        return False
    device, inode = shm.stat().st_dev, shm.stat().st_ino
    mark = f"{os.major(device):02x}:{os.minor(device):02x}:{inode}"
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if fields[1:2] == ["->"]:  # a waiter, not a holder
            continue
        if str(pid) in fields and mark in fields and fields[-2] == "120":
            return True
    return False


def test_a_killed_import_leaves_a_staging_file_the_next_one_removes(
    tmp_path: Path, many_rows: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ws = init_workspace(tmp_path / "w", name="w")
    data = ws.root / "data"
    proc = _shequn("import", str(many_rows), "-w", str(ws.root))
    _wait_for(lambda: any(data.glob(".staging-*.db")), proc)
    proc.kill()
    proc.wait()
    left = list(data.glob(".staging-*.db"))
    assert len(left) == 1
    running = data / ".staging-alive.db"  # an import in progress: its owner holds the lock
    owner = claim(running)
    try:
        assert import_path(ws, DATA / "canonical" / "events.csv").added == 8
    finally:
        owner.close()
    assert sorted(data.glob(".staging-*.db")) == [running]
    assert f"removed {left[0]}" in caplog.text
