"""Staging files of imports in progress, and the ones a killed import left behind.

An SQLite import stages its events in `data/.staging-<random>.db` (store/bulk.py).
The importing process holds an exclusive `flock` on its staging file for as long
as it lives; the kernel drops the lock when the process ends, however it ends
(SIGKILL, power loss of the process, OOM killer). So a staging file nobody holds
a lock on belongs to a process that is gone, and the next import removes it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

log = logging.getLogger("shequn.import")
STAGING_PREFIX = ".staging-"


def claim(path: Path) -> IO[bytes]:
    """Create the staging file and hold its lock; close the handle to let it go.

    The file is created and locked under another name, then renamed: it never
    exists under its staging name unlocked, where another import would remove it.
    """
    draft = path.with_name(f".claim-{path.name}")
    handle = draft.open("a+b")
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    draft.rename(path)
    return handle


def remove_stale(folder: Path) -> list[Path]:
    """Delete staging files whose owner process is gone; the ones removed."""
    removed = []
    for path in sorted(folder.glob(f"{STAGING_PREFIX}*.db")):
        try:
            handle = path.open("rb")
        except FileNotFoundError:  # its owner finished meanwhile
            continue
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # an import in progress
                continue
            size = os.fstat(handle.fileno()).st_size
            path.unlink(missing_ok=True)
        log.warning("removed %s (%d bytes) left by an import that was killed", path, size)
        removed.append(path)
    return removed


# How the merging connection runs: temporary data on disk, a 64 MiB page cache (the
# workspace's connections keep 256 MiB for reading) and no memory-mapped reads, so
# neither the staged file nor the growing store is mapped into the process.
# No checkpoint at the merge's commit either: the staged file is deleted first.
_MERGE_PRAGMAS = {"temp_store": 1, "cache_size": -65_536, "mmap_size": 0, "wal_autocheckpoint": 0}


@contextmanager
def bounded_memory(raw: sqlite3.Connection) -> Iterator[None]:
    """For a merge: temporary data (sorts, statement journals) on disk, a smaller
    page cache, no mmap (`_MERGE_PRAGMAS`); the connection's settings come back after.

    Must be entered outside a transaction (SQLite resets temp storage on change).
    """
    saved = {name: raw.execute(f"PRAGMA {name}").fetchone()[0] for name in _MERGE_PRAGMAS}
    for name, value in _MERGE_PRAGMAS.items():
        raw.execute(f"PRAGMA {name}={value}")
    try:
        yield
    finally:
        with suppress(sqlite3.Error):  # a connection closed by an interrupt
            for name, value in saved.items():
                raw.execute(f"PRAGMA {name}={int(value)}")
