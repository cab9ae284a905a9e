"""The console/file platform: deliveries appended to a file, one JSON line each.

The file is the platform's own record, fsynced before `send` returns, so after a
crash the dispatcher can ask `delivered(key)` and never send twice. An exclusive
file lock around check-and-append keeps two processes from both appending a key.
The lock is waited for `lock_wait` seconds at most: a process paused while holding
it (SIGSTOP, a debugger) must not freeze its successor, which gets a TransientError
and retries later instead.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from shequn.platforms.base import Outgoing, TransientError

FILE_NAME = "console-deliveries.jsonl"


class ConsolePlatform:
    """Delivers by appending to `path` (and echoing to `echo`, if given).

    Args:
        path: the append-only delivery record.
        echo: a text stream to print each delivery to, e.g. sys.stdout.
        fail: for tests and drills: called before each delivery; may raise
            TransientError or PermanentError.
    """

    name = "console"

    def __init__(
        self,
        path: Path,
        *,
        echo: IO[str] | None = None,
        fail: Callable[[Outgoing], None] | None = None,
        lock_wait: float = 5.0,
    ) -> None:
        self.path = path
        self.lock_wait = lock_wait
        self.echo = echo
        self.fail = fail
        self._keys: set[str] = set()
        self._offset = 0

    def _refresh(self, handle: IO[bytes]) -> None:
        """Read lines appended since we last looked (by us or another process)."""
        handle.seek(self._offset)
        data = handle.read()
        end = data.rfind(b"\n") + 1  # a torn last line (crash mid-write) is not a delivery
        for line in data[:end].splitlines():
            self._keys.add(json.loads(line)["key"])
        self._offset += end

    def delivered(self, key: str) -> bool:
        if key in self._keys:
            return True
        if not self.path.exists():
            return False
        with self.path.open("rb") as handle:
            self._lock(handle, fcntl.LOCK_SH)
            self._refresh(handle)
        return key in self._keys

    def send(self, message: Outgoing) -> None:
        if self.fail is not None:
            self.fail(message)
        line = json.dumps(
            {
                "key": message.key,
                "community": message.community,
                "target": message.target,
                "action": message.action,
                **message.payload,
            },
            ensure_ascii=False,
            sort_keys=True,
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+b") as handle:
            self._lock(handle, fcntl.LOCK_EX)
            self._refresh(handle)
            if message.key in self._keys:
                return
            self._repair(handle)
            handle.write(line.encode() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
            self._keys.add(message.key)
            self._offset = handle.tell()
        if self.echo is not None:
            self.echo.write(f"[{message.community} -> {message.target}] {message.payload}\n")

    def _lock(self, handle: IO[bytes], mode: int) -> None:
        """Take the file lock, waiting `lock_wait` seconds at most (released on close)."""
        deadline = time.monotonic() + self.lock_wait
        while True:
            try:
                fcntl.flock(handle, mode | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TransientError(
                        f"{self.path} is locked by another process (paused or stuck?); "
                        "retrying later"
                    ) from None
                time.sleep(0.05)

    def _repair(self, handle: IO[bytes]) -> None:
        """Cut a torn last line left by a crash, so the next line starts clean."""
        size = handle.seek(0, os.SEEK_END)
        if size > self._offset:
            handle.truncate(self._offset)


def deliveries(path: Path) -> list[dict[str, object]]:
    """Every delivery in a console record (complete lines only)."""
    if not path.exists():
        return []
    data = path.read_bytes()
    return [json.loads(line) for line in data[: data.rfind(b"\n") + 1].splitlines()]
