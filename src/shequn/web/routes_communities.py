"""Communities: positioning, target users, channels, goals; owners edit them (shequn.toml)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response

from shequn.errors import InputError
from shequn.services.settings_edit import TEXT_FIELDS, edit_community
from shequn.web.auth import Ctx, need
from shequn.web.render import page

router = APIRouter()
LEVELS = ("long_term_goals", "short_term_goals")


@router.get("/communities")
def communities_page(ctx: Annotated[Ctx, Depends(need("read"))]) -> Response:
    shown = [c for c in ctx.ws.settings.communities if ctx.user.sees(c.key)]
    return page(
        ctx,
        "communities.html",
        communities=shown,
        levels=LEVELS,
        saved=ctx.request.query_params.get("saved", ""),
    )


@router.post("/communities/{key}")
async def community_edit(ctx: Annotated[Ctx, Depends(need("admin"))], key: str) -> Response:
    """Form: name, positioning, target_users, and `target:<level>:<index>` per goal."""
    form = await ctx.request.form()
    fields = {name: str(form[name]).strip() for name in TEXT_FIELDS if name in form}
    targets: dict[tuple[str, int], float] = {}
    for name, value in form.items():
        if not name.startswith("target:"):
            continue
        _prefix, level, index = name.split(":", 2)
        try:
            targets[(level, int(index))] = float(str(value))
        except ValueError:
            raise InputError(
                f"{value!r} is not a number",
                field=f"{level}[{index}].target",
                hint="write the target as a number, e.g. 0.3 or 100",
            ) from None
    with ctx.acting():
        edit_community(ctx.ws, key, fields, targets, ctx.request.app.state.clock)
    return RedirectResponse(f"/communities?saved={key}#c-{key}", status_code=303)
