"""Imports run in a background thread; the page polls the job for its progress (HTMX).

A job is kept in memory by the console process: the import itself is one transaction
(all or nothing), so a console restarted mid-import has stored nothing of it.
"""

from __future__ import annotations

import secrets
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shequn.clock import Clock
from shequn.errors import ShequnError
from shequn.services import audit
from shequn.services.imports import ImportResult, Progress, import_path
from shequn.workspace import Workspace

UPLOADS = "uploads"


@dataclass
class Job:
    id: str
    name: str
    user: str
    total: int = 0
    done: int = 0
    result: ImportResult | None = None
    error: str = ""
    hint: str = ""
    finished: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def percent(self) -> int:
        return 100 if self.finished else int(100 * self.done / self.total) if self.total else 0


def in_thread(
    job: Job, work: Callable[[], object], finish: Callable[[], None] | None = None
) -> None:
    """Run `work` in a daemon thread for a job a page polls: the job ends (`finish`, by
    default marking it finished) with the error the page must show, whatever happens."""

    def run() -> None:
        try:
            work()
        except ShequnError as exc:
            job.error, job.hint = exc.message, exc.hint
        except Exception as exc:  # the page must stop polling and say why
            job.error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            if finish is None:
                job.finished = True
            else:
                finish()

    threading.Thread(target=run, name=f"{job.name}-{job.id}", daemon=True).start()


class Jobs:
    """The console's import jobs, by id."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def start(
        self,
        ws: Workspace,
        upload: Path,
        user: str,
        clock: Clock,
        *,
        format_name: str = "auto",
        community: str = "",
    ) -> Job:
        """Import an uploaded file (moved under data/uploads/) in a thread."""
        job = Job(id=secrets.token_urlsafe(12), name=upload.name, user=user)
        self._jobs[job.id] = job

        def advance(n: int) -> None:
            job.done += n

        def start(total: int) -> None:
            job.total = total

        def run() -> None:
            with audit.acting_as(user):
                job.result = import_path(
                    ws,
                    upload,
                    format_name=format_name,
                    community=community,
                    progress=Progress(start, advance),
                    clock=clock,
                )

        def finish() -> None:
            job.finished = True
            shutil.rmtree(upload.parent, ignore_errors=True)

        in_thread(job, run, finish)
        return job


def upload_folder(ws: Workspace) -> Path:
    """A fresh private folder for one upload."""
    folder = ws.root / "data" / UPLOADS / secrets.token_urlsafe(8)
    folder.mkdir(parents=True)
    return folder
