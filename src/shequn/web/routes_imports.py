"""Imports: upload a chat export or an orders file; watch its progress; see the counts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import RedirectResponse, Response

from shequn.errors import InputError
from shequn.web.auth import Ctx, need
from shequn.web.jobs import Jobs, upload_folder
from shequn.web.render import page

router = APIRouter()
JOBS = Jobs()
CHUNK = 1 << 20


@router.get("/imports")
def imports_page(ctx: Annotated[Ctx, Depends(need("import"))]) -> Response:
    from shequn.importers import registry

    limit_mb = ctx.ws.settings.console.upload_limit_mb
    return page(ctx, "imports.html", formats=sorted(registry()), limit_mb=limit_mb)


@router.post("/imports")
async def upload(
    ctx: Annotated[Ctx, Depends(need("import"))],
    file: Annotated[UploadFile, File()],
    format: Annotated[str, Form()] = "auto",
    community: Annotated[str, Form()] = "",
) -> Response:
    name = Path(file.filename or "").name
    if not name:
        raise InputError("no file chosen", field="file", hint="choose an export to upload")
    target = upload_folder(ctx.ws) / name
    with target.open("wb") as out:
        while chunk := await file.read(CHUNK):
            out.write(chunk)
    job = JOBS.start(
        ctx.ws,
        target,
        ctx.user.name,
        ctx.request.app.state.clock,
        format_name=format,
        community=community.strip(),
    )
    return RedirectResponse(f"/imports/jobs/{job.id}", status_code=303)


@router.get("/imports/jobs/{job}")
def job_page(ctx: Annotated[Ctx, Depends(need("import"))], job: str) -> Response:
    found = JOBS.get(job)
    if found is None:
        raise InputError(
            f"no import {job!r} in this console",
            field="job",
            hint="imports are kept until the console restarts; upload again",
        )
    partial = ctx.request.headers.get("hx-request") == "true"
    return page(ctx, "_job.html" if partial else "job.html", job=found)
