"""Analytics: the columnar copy of the event log, the metric registry and the engine.

Every figure is defined in docs/metrics.md. `shequn.analytics.sync` keeps a DuckDB copy
of the log up to date by event id; `shequn.analytics.engine` computes the metrics of
`shequn.domain.metrics` over it.

Example:
    >>> from datetime import date
    >>> from shequn.analytics import compute
    >>> figures = compute(ws, date(2026, 10, 1), date(2026, 11, 1))  # doctest: +SKIP
    >>> figures["*"]["active_rate"]  # doctest: +SKIP
"""

from shequn.analytics.engine import compute
from shequn.analytics.series import daily_series, report, retention
from shequn.analytics.sync import SyncResult, open_copy, sync

__all__ = [
    "SyncResult",
    "compute",
    "daily_series",
    "open_copy",
    "report",
    "retention",
    "sync",
]
