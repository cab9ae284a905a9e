"""The columnar copy brought up to date in the background when it is far behind the log.

A dashboard after a large import would otherwise hang on the copy's build (tens of
seconds at millions of events). The route asks `waiting` first: when the copy lacks
more than `analytics.sync.LARGE_CATCH_UP` events, a build starts in a thread and the
route shows a page that polls it (HTMX) and reloads when it is done. Smaller
catch-ups are done inside the request, as before.
"""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

from shequn.web.jobs import Job, in_thread
from shequn.workspace import Workspace


class CopyBuilds:
    """At most one background build of the copy per workspace."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[Path, Job] = {}
        # Per workspace, the newest event id last found close enough to read now.
        self._checked: dict[Path, int] = {}

    def get(self, job_id: str) -> Job | None:
        return next((job for job in self._jobs.values() if job.id == job_id), None)

    def waiting(self, ws: Workspace, user: str, newest: int) -> Job | None:
        """The build to wait for (started now if the copy is far behind), or None when
        the copy can be brought up to date within the request. `newest` is the log's
        newest event id: the copy is looked at only once per new id."""
        from shequn.analytics.sync import LARGE_CATCH_UP, behind

        with self._lock:
            running = self._jobs.get(ws.root)
            if running is not None and not running.finished:
                return running
            if newest == self._checked.get(ws.root):
                return None
            lag = behind(ws)
            if lag is not None and lag <= LARGE_CATCH_UP:
                self._checked[ws.root] = newest
                return None
            # A copy far behind, or one another process is building: wait in a thread.
            self._jobs[ws.root] = job = self._start(ws, user, lag or 0)
            return job

    def _start(self, ws: Workspace, user: str, lag: int) -> Job:
        from shequn.analytics.sync import sync

        job = Job(id=secrets.token_urlsafe(12), name="analytics", user=user, total=lag)

        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        in_thread(job, lambda: sync(ws, progress))
        return job
