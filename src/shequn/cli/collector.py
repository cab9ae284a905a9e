"""Python's cycle collector in a one-shot command: what it costs and when it is skipped.

A command's imports (SQLAlchemy, Polars, DuckDB, pyarrow) leave a few hundred thousand
long-lived objects, and the collector walks all of them again in each full collection,
three times at the interpreter's exit among them. Measured on `shequn members refresh`
after 10,000 events on a 1M-member workspace (docs/performance.md, round 11): the exit
took 0.13 s, of which 0.09 s was those walks, and collections during the run 0.03-0.04 s
for imports and as much for the work.

`frozen_at_exit` (every command, from `shequn.cli.main`) moves the objects alive when
the command returns out of the collector's reach, so the exit frees them by reference
count only: finalisation otherwise runs as before (atexit handlers, threads joined,
modules cleared). Only garbage in reference cycles is left to the OS, which frees the
process's memory anyway; shequn closes its files and connections with `with`, never by
a finaliser.

`paused` holds the collector off while a bounded batch command runs (its memory is in
Arrow, Polars and DuckDB buffers, freed by reference count; cycles it leaves are
collected once the collector is back on). Long-running commands (`serve`, `run`, `bot`)
never use it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


def frozen_at_exit() -> None:
    """Leave every live object to the exit's reference counting, not its collections."""
    gc.freeze()


@contextmanager
def paused() -> Iterator[None]:
    """Hold the cycle collector off for the block (restored as it was after it)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
