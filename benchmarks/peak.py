"""Peak memory of this process.

VmHWM from /proc, not `ru_maxrss`: a child started with fork + exec keeps its
parent's `ru_maxrss` (measured: every step reported the runner's 1.4 GB), while
VmHWM belongs to the new program image.
"""

from __future__ import annotations


def peak_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(row for row in status if row.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024
