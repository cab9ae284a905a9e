"""POST a JSON body to a URL (platforms.webhook delivers it)."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from shequn.sop.kinds import HTTP_WEBHOOK, ActionKind, Context, Payload, register
from shequn.sop.model_base import Strict, compiles
from shequn.sop.render import RenderError, render


class Webhook(Strict):
    """POST to a URL (from the environment when it holds a secret) with a JSON body."""

    type: Literal["webhook"]
    url_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    body: str | None = None  # a Jinja2 template of a JSON document
    timeout: float = Field(default=10.0, gt=0, le=120)

    _body = field_validator("body")(compiles)

    @model_validator(mode="after")
    def _one_url(self) -> Webhook:
        if (self.url is None) == (self.url_env is None):
            raise ValueError(
                "a webhook needs exactly one of url_env: and url:; write url_env: NAME "
                "(the URL is read from that environment variable: keep secrets out of files)"
            )
        return self


def payload(action: Webhook, values: dict[str, Any], _ctx: Context) -> Payload:
    """The URL's source (never a secret: the variable's name) and the JSON body."""
    if action.body is None:
        body: Any = {
            "community": values["community"]["key"],
            "member": values["member"]["key"] or None,
            "playbook": values["_playbook"],
            "step": values["_step"],
        }
    else:
        rendered = render(action.body, values)
        try:
            body = json.loads(rendered)
        except json.JSONDecodeError as exc:
            raise RenderError(f"the webhook body is not JSON ({exc.msg} at {exc.pos})") from None
    return {"url_env": action.url_env, "url": action.url, "body": body, "timeout": action.timeout}


register(ActionKind("webhook", Webhook, "community", HTTP_WEBHOOK, payload))
