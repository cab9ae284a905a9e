"""`shequn channels link|links` (a named join link per channel) and `shequn platforms
uncertain|settle` (sends whose outcome is unknown on Telegram and QQ)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

from shequn.cli.options import WorkspaceOpt
from shequn.cli.output import console
from shequn.workspace import Workspace

if TYPE_CHECKING:
    from shequn.services.invite_links import ChannelLink

channels_app = typer.Typer(help="Traffic channels: a join link per channel, so joins carry it.")


async def _mint(ws: Workspace, community: str, channel: str) -> ChannelLink:
    from shequn.errors import InputError
    from shequn.platforms.registry import build
    from shequn.services.invite_links import link_channel

    found = ws.settings.community(community)
    platform = found.platform if found else ""
    if platform not in ws.settings.platforms:
        raise InputError(
            f"community {community!r} is not bound to a live platform",
            field="COMMUNITY",
            hint=f"run `shequn communities bind {community} telegram GROUP_ID` first",
        )
    adapter = build(platform, ws.settings.platforms[platform], ws.root / "data")
    try:
        return await link_channel(ws, community, channel, adapter)
    finally:
        await adapter.close()


@channels_app.command("link")
def link(
    community: Annotated[str, typer.Argument(help="The community's key in shequn.toml.")],
    channel: Annotated[str, typer.Argument(help="The channel's name (Telegram: 1-32 characters).")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Mint a join link for CHANNEL in the community's group, named after the channel, and
    record it: everyone who joins through it is counted for that channel. Asking again
    gives the same link.

    Example: `shequn channels link readers poster-a`
    """
    ws = Workspace.open(workspace)
    made = asyncio.run(_mint(ws, community, channel))
    state = "new" if made.new else "already made"
    console.print(f"{community} / {channel} ({state}): {made.link}")


@channels_app.command("links")
def links(
    community: Annotated[str | None, typer.Argument(help="Only this community.")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """List the join links minted per channel.

    Example: `shequn channels links readers`
    """
    from shequn.services.invite_links import channel_links

    ws = Workspace.open(workspace)
    for made in channel_links(ws, community):
        console.print(f"{made.community} / {made.channel}: {made.link}")


def uncertain(workspace: WorkspaceOpt = None) -> None:
    """List sends whose outcome is unknown (Telegram, QQ: a crash or time-out between
    sending and hearing back), with what to check. shequn never resends them by itself.

    Example: `shequn platforms uncertain`
    """
    from shequn.services.send_intents import uncertain as pending

    ws = Workspace.open(workspace)
    found = pending(ws.engine)
    if not found:
        console.print("no uncertain sends")
    for item in found:
        console.print(f"{item.key}: {item.what_to_check}")


def settle(
    key: Annotated[str, typer.Argument(help="The send's key, as `platforms uncertain` shows.")],
    sent: Annotated[
        bool,
        typer.Option(
            "--sent/--not-sent",
            help="--sent: the message is in the group (never send it); --not-sent: let "
            "the next delivery attempt send it.",
        ),
    ],
    workspace: WorkspaceOpt = None,
) -> None:
    """Settle an uncertain send after looking in the group.

    Example: `shequn platforms settle 'welcome|greet|telegram:user5004|1' --sent`
    """
    from shequn.services.send_intents import settle as settle_send

    ws = Workspace.open(workspace)
    if not settle_send(ws.engine, key, sent=sent):
        console.print(f"no uncertain send with key {key}")
        raise typer.Exit(1)
    console.print(f"settled {key}: {'sent' if sent else 'not sent, will be retried'}")


def register(platforms_app: typer.Typer) -> None:
    """Add `uncertain`/`settle` to the `platforms` group."""
    platforms_app.command("uncertain")(uncertain)
    platforms_app.command("settle")(settle)
