"""`shequn serve` (the web console) and `shequn users` (its sign-ins).

Registered in the CLI root (`shequn.cli.app`): `serve` and `users_app`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from shequn.cli.options import WorkspaceOpt
from shequn.cli.output import console
from shequn.errors import InputError

users_app = typer.Typer(help="Console users: who may sign in to `shequn serve`, with which role.")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workspace: WorkspaceOpt = None,
) -> None:
    """Run the web console for the workspace: dashboard, members, SOP, tasks, reviews.

    Sign in with a user made by `shequn users add`. Listen on 127.0.0.1 (the default)
    and put a TLS proxy in front to reach it from other machines.

    Example: `shequn serve --port 8000`
    """
    try:
        import uvicorn
    except ModuleNotFoundError:
        raise InputError(
            "the web console needs uvicorn", hint="pip install 'shequn[web]'"
        ) from None
    from shequn.web import create_app
    from shequn.workspace import Workspace

    ws = Workspace.open(workspace)
    ws.engine  # noqa: B018 - migrate before the first request
    console.print(f"shequn console for {ws.root} on http://{host}:{port}/")
    uvicorn.run(create_app(ws), host=host, port=port, log_level="warning")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The user name to sign in with.")],
    role: Annotated[str, typer.Option(help="owner, operator, analyst or viewer.")],
    community: Annotated[
        list[str] | None,
        typer.Option("--community", "-c", help="Limit to this community (repeat for more)."),
    ] = None,
    password_env: Annotated[
        str, typer.Option(help="Read the password from this environment variable.")
    ] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Add a console user; the password is asked for (or read from --password-env).

    Roles: owner (everything), operator (tasks, members and SOP of their communities),
    analyst (reads everything, exports), viewer (dashboards only).

    Example: `shequn users add alice --role operator --community book-club`
    """
    from shequn.services.users import add_user
    from shequn.workspace import Workspace

    password = _password(password_env)
    ws = Workspace.open(workspace)
    user = add_user(ws, name, password, role, tuple(community or ()))
    scope = ", ".join(user.communities) or "all communities"
    console.print(f"Added {user.name} ({user.role}; {scope})")


def _password(password_env: str) -> str:
    """A new password from the environment variable named, else asked for twice."""
    if not password_env:
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    password = os.environ.get(password_env, "")
    if not password:
        raise InputError(
            f"${password_env} is empty or unset",
            field="--password-env",
            hint=f"export {password_env}=... first",
        )
    return password


@users_app.command("disable")
def users_disable(
    name: Annotated[str, typer.Argument(help="The user to disable.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Disable a console user: their sessions end at once and sign-in is refused.

    Example: `shequn users disable alice`
    """
    _set_enabled(name, False, workspace)


@users_app.command("enable")
def users_enable(
    name: Annotated[str, typer.Argument(help="The user to enable again.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Enable a disabled console user again.

    Example: `shequn users enable alice`
    """
    _set_enabled(name, True, workspace)


def _set_enabled(name: str, enabled: bool, workspace: Path | None) -> None:
    from shequn.services.accounts import set_enabled
    from shequn.workspace import Workspace

    user = set_enabled(Workspace.open(workspace), name, enabled)
    console.print(f"{user.name} is {'disabled' if user.disabled else 'enabled'}")


@users_app.command("passwd")
def users_passwd(
    name: Annotated[str, typer.Argument(help="The user whose password to set.")],
    password_env: Annotated[
        str, typer.Option(help="Read the new password from this environment variable.")
    ] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Set a console user's password (asked for, or read from --password-env); every
    session of the user ends.

    Example: `shequn users passwd alice`
    """
    from shequn.services.accounts import reset_password
    from shequn.workspace import Workspace

    ws = Workspace.open(workspace)
    reset_password(ws, name, _password(password_env))
    console.print(f"New password set for {name}; their sessions have ended")


@users_app.command("list")
def users_list(workspace: WorkspaceOpt = None) -> None:
    """List the console users and their roles.

    Example: `shequn users list`
    """
    from shequn.services.users import list_users
    from shequn.workspace import Workspace

    table = Table("name", "role", "communities", "status")
    for user in list_users(Workspace.open(workspace)):
        scope = ", ".join(user.communities) or "all"
        table.add_row(user.name, user.role, scope, "disabled" if user.disabled else "")
    console.print(table)
