"""Ctrl-C around a commit: before it nothing is stored, after it everything is.

An interrupt that lands while an import commits, or just after, must not be
reported as "nothing stored". `uninterrupted()` holds Ctrl-C back from the start of
the commit to the end of the command's own bookkeeping; the CLI then prints what
was stored and says that it stopped there (`interrupted_late`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_late: list[bool] = []


@contextmanager
def uninterrupted() -> Iterator[None]:
    """Hold SIGINT back inside the block (main thread, default handler only)."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    caught: list[int] = []

    def hold(signum: int, _frame: FrameType | None) -> None:
        caught.append(signum)

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            _late.append(True)


def interrupted_late() -> bool:
    """True once if Ctrl-C was held back by `uninterrupted` since the last call."""
    was = bool(_late)
    _late.clear()
    return was
