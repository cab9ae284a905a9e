"""`shequn platforms ...` and `shequn communities bind`: connect a workspace to live
platforms, check what the bot may do there, bind communities to groups."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.text import Text

from shequn.cli import channels
from shequn.cli.options import WorkspaceOpt
from shequn.cli.output import console
from shequn.config import PlatformConfig
from shequn.platforms.base import Capability, Identity, PermanentError, TransientError
from shequn.workspace import Workspace

platforms_app = typer.Typer(
    help="Live platforms: connect the workspace to Matrix, Telegram and QQ (OneBot v11)."
)
communities_app = typer.Typer(help="Communities: bind one to a live platform's group.")

# What an operator most needs to know the bot can do, in the order shown.
CHECKED = (Capability.MEMBER_LIST, Capability.SEND_GROUP, Capability.DELETE, Capability.MUTE,
           Capability.REMOVE, Capability.BAN)  # fmt: skip


UrlOpt = Annotated[
    str,
    typer.Option(
        "--homeserver",
        "--url",
        help="Matrix: the homeserver URL. QQ: the OneBot WebSocket (forward mode). "
        "Telegram: the Bot API root (default https://api.telegram.org/bot).",
    ),
]
TokenEnvOpt = Annotated[
    str,
    typer.Option(
        help="The environment variable that holds the bot's access token (Telegram: "
        "the bot token; QQ: the OneBot access_token)."
    ),
]
ModeOpt = Annotated[
    str,
    typer.Option(
        help="Telegram: polling (default) or webhook. QQ: forward (default: shequn "
        "connects to --url) or reverse (the OneBot implementation connects to --listen)."
    ),
]
SecretEnvOpt = Annotated[
    str,
    typer.Option(help="Telegram webhook: the variable holding the webhook's secret token."),
]


@platforms_app.command("add")
def add(
    platform: Annotated[str, typer.Argument(help="The platform: matrix, telegram or qq.")],
    url: UrlOpt = "",
    user: Annotated[str, typer.Option(help="The bot's user id, e.g. @shequn:example.org.")] = "",
    token_env: TokenEnvOpt = "",
    password_env: Annotated[
        str, typer.Option(help="The environment variable that holds the bot's password.")
    ] = "",
    mode: ModeOpt = "",
    listen: Annotated[
        str, typer.Option(help="HOST:PORT shequn serves on (Telegram webhook, QQ reverse).")
    ] = "",
    public_url: Annotated[
        str, typer.Option(help="Telegram webhook: the https URL Telegram posts to.")
    ] = "",
    secret_env: SecretEnvOpt = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Connect the workspace to a platform: writes [platforms.NAME] in shequn.toml with
    the NAME of the variable holding the secret, never the secret.

    Examples: `shequn platforms add matrix --homeserver https://matrix.example.org
    --user @shequn:example.org --password-env SHEQUN_MATRIX_PASSWORD`;
    `shequn platforms add telegram --token-env SHEQUN_TELEGRAM_TOKEN`;
    `shequn platforms add qq --url ws://127.0.0.1:3001/ --token-env SHEQUN_ONEBOT_TOKEN`
    """
    from shequn.services.platforms import add_platform

    ws = Workspace.open(workspace)
    config = PlatformConfig.model_validate(
        {
            "url": url,
            "user": user,
            "token_env": token_env,
            "password_env": password_env,
            "mode": mode,
            "listen": listen,
            "public_url": public_url,
            "secret_env": secret_env,
        }
    )
    add_platform(ws.root, platform, config)
    secrets = " and ".join(v for v in (token_env or password_env, secret_env) if v)
    where = url or listen or "the default server"
    console.print(
        f"added [platforms.{platform}] ({where} as {user or '-'}); "
        f"export {secrets}, then run `shequn platforms test`"
    )


def _show(identity: Identity, bound: dict[str, str]) -> None:
    console.print(f"{identity.platform}: connected as {identity.user_id} ({identity.name})")
    if not identity.groups:
        console.print("  the bot is in no group yet: invite it to a room and run this again")
    for group in identity.groups:
        community = bound.get(group.group_id)
        label = f" -> community {community}" if community else " (not bound)"
        console.print(f"  {group.group_id} {group.title}{label}")
        marks = " ".join(f"{c.value}:{'yes' if c in group.can else 'NO'}" for c in CHECKED)
        console.print(f"    {marks}")
        for hint in group.missing:
            console.print(f"    missing {hint}")


async def _identity(ws: Workspace, name: str) -> Identity:
    from shequn.platforms.registry import build

    adapter = build(name, ws.settings.platforms[name], ws.root / "data")
    try:
        return await adapter.identity()
    finally:
        await adapter.close()


@platforms_app.command("test")
def test(
    platform: Annotated[
        str | None, typer.Argument(help="Only this platform (default: every one added).")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Connect to each platform; show the bot's identity, the groups it sees and what it
    may do in each (see members, send, delete, mute, remove, ban), with how to grant a
    missing permission.

    Example: `shequn platforms test matrix`
    """
    ws = Workspace.open(workspace)
    names = [platform] if platform else sorted(ws.settings.platforms)
    if not names:
        console.print("no platform added: run `shequn platforms add matrix ...`")
        raise typer.Exit(1)
    failed = False
    for name in names:
        if name not in ws.settings.platforms:
            console.print(f"{name}: not added (run `shequn platforms add {name} ...`)")
            failed = True
            continue
        bound = {c.group: c.key for c in ws.settings.communities if c.platform == name}
        try:
            _show(asyncio.run(_identity(ws, name)), bound)
        except (TransientError, PermanentError) as exc:
            console.print(Text.assemble(f"{name}: ", ("cannot connect", "red"), f": {exc}"))
            failed = True
    if failed:
        raise typer.Exit(1)


@communities_app.command("bind")
def bind(
    community: Annotated[str, typer.Argument(help="The community's key in shequn.toml.")],
    platform: Annotated[str, typer.Argument(help="The platform added with `platforms add`.")],
    group_id: Annotated[
        str,
        typer.Argument(
            help="The group's id there (a Matrix room id, a Telegram chat id such as "
            "-1001234567890 — write `--` before a negative id —, a QQ group number)."
        ),
    ],
    workspace: WorkspaceOpt = None,
) -> None:
    """Bind a community to a platform's group: its events come from there, its SOP
    messages go there.

    Example: `shequn communities bind fans matrix '!abcdef:example.org'`
    """
    from shequn.services.platforms import bind as bind_group

    ws = Workspace.open(workspace)
    bind_group(ws.root, community, platform, group_id)
    console.print(f"community {community} is bound to {platform} group {group_id}")


channels.register(platforms_app)
