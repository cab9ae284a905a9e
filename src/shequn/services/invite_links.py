"""Channel attribution by construction: one named invite link per (community, channel).

`link_channel` mints a join link in the community's group, named after the channel,
and records it. The platform puts the link's name on every join made through it
(Telegram `chat_member.invite_link.name`), so those joins carry the channel without
any guessing. Asking again for the same channel gives the recorded link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from sqlalchemy import select

from shequn.clock import Clock, SystemClock, to_micros
from shequn.errors import InputError
from shequn.platforms.base import Adapter, Capability
from shequn.services import audit
from shequn.store.engine import read_transaction, write_transaction
from shequn.store.live_links import invite_links
from shequn.workspace import Workspace


@runtime_checkable
class MintsInviteLinks(Protocol):
    """An adapter with Capability.INVITE_LINKS (Telegram)."""

    async def create_invite_link(self, group: str, name: str) -> str: ...


@dataclass(frozen=True)
class ChannelLink:
    community: str
    channel: str
    link: str
    new: bool


def _group(ws: Workspace, community: str, channel: str, adapter: Adapter) -> str:
    found = ws.settings.community(community)
    if found is None:
        raise InputError(
            f"no community {community!r} in shequn.toml",
            field="COMMUNITY",
            hint="use a key of a [[communities]] block",
        )
    if found.platform != adapter.platform or not found.group:
        raise InputError(
            f"community {community!r} is not bound to a {adapter.platform} group",
            field="COMMUNITY",
            hint=f"run `shequn communities bind {community} {adapter.platform} GROUP_ID` first",
        )
    if Capability.INVITE_LINKS not in adapter.capabilities or not isinstance(
        adapter, MintsInviteLinks
    ):
        raise InputError(
            f"{adapter.platform} cannot mint named invite links, so joins there cannot carry "
            "a channel",
            field="COMMUNITY",
            hint="see docs/platforms.md: joins on this platform record their inviter instead",
        )
    if found.channels and channel not in found.channels:
        raise InputError(
            f"channel {channel!r} is not one of community {community!r}'s channels "
            f"({', '.join(found.channels)})",
            field="CHANNEL",
            hint="add it to the community's channels in shequn.toml, or fix the spelling",
        )
    return found.group


async def link_channel(
    ws: Workspace, community: str, channel: str, adapter: Adapter, clock: Clock | None = None
) -> ChannelLink:
    """The invite link of `channel` into `community`'s group, minted if new."""
    clock = clock or SystemClock()
    group = _group(ws, community, channel, adapter)
    assert isinstance(adapter, MintsInviteLinks)
    with read_transaction(ws.engine) as conn:
        known = conn.scalar(
            select(invite_links.c.link).where(
                invite_links.c.community == community, invite_links.c.channel == channel
            )
        )
    if known is not None:
        return ChannelLink(community, channel, known, new=False)
    link = await adapter.create_invite_link(group, channel)
    with write_transaction(ws.engine) as conn:
        conn.execute(
            invite_links.insert().values(
                community=community,
                channel=channel,
                platform=adapter.platform,
                group_id=group,
                link=link,
                created_ts=to_micros(clock.now()),
            )
        )
        audit.record(conn, clock, "channel_linked", community=community, channel=channel)
    return ChannelLink(community, channel, link, new=True)


def channel_links(ws: Workspace, community: str | None = None) -> list[ChannelLink]:
    """The recorded links, by community and channel."""
    query = select(invite_links).order_by(invite_links.c.community, invite_links.c.channel)
    if community:
        query = query.where(invite_links.c.community == community)
    with read_transaction(ws.engine) as conn:
        return [ChannelLink(r.community, r.channel, r.link, new=False) for r in conn.execute(query)]
