"""What to simulate: communities, their channels, prices and campaigns.

Specs are plain frozen dataclasses, so a simulation is fully described by its spec and
its seed: the same spec always yields the same events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shequn.errors import InputError

KINDS: tuple[str, ...] = ("brand", "training", "interest")
PLATFORMS: tuple[str, ...] = ("whatsapp", "telegram", "discord", "slack", "qq", "wechat")
CampaignKind = Literal["traffic", "referral", "sale"]

# Keys end up inside member keys and JSON meta strings: keep them plain.
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True, slots=True)
class Channel:
    """A traffic channel: an entry point people see, scan or click.

    Attributes:
        name: the channel name on visits and joins (e.g. ``公众号``, ``invite_link``).
        daily_visits: mean visits on an ordinary weekday at scale 1.
        conversion: share of visits that join the community.
        buyer_quality: multiplies the purchase propensity of members from this channel.
        engagement: multiplies activity and divides churn of members from this channel.
        weekend_factor: visits on Saturday and Sunday relative to a weekday.
    """

    name: str
    daily_visits: float
    conversion: float
    buyer_quality: float = 1.0
    engagement: float = 1.0
    weekend_factor: float = 1.0


@dataclass(frozen=True, slots=True)
class Campaign:
    """A period when something is pushed harder.

    Attributes:
        kind: ``traffic`` multiplies visits (of ``channel``, or of every channel),
            ``referral`` multiplies invitations (裂变), ``sale`` multiplies orders.
        start_day: first day, counted from the community's start (day 0).
        days: how many days it lasts.
        multiplier: the factor applied during the campaign.
        channel: for ``traffic``, the one channel pushed; None for all.
    """

    kind: CampaignKind
    start_day: int
    days: int
    multiplier: float
    channel: str | None = None

    def covers(self, day: int) -> bool:
        """Whether community day ``day`` falls in the campaign."""
        return self.start_day <= day < self.start_day + self.days


@dataclass(frozen=True, slots=True)
class Product:
    """One line of a price list; ``weight`` is its relative share of orders."""

    name: str
    price: Decimal
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class CommunitySpec:
    """One community to simulate.

    Attributes:
        key: the community key (letters, digits, ``-``, ``_``, ``.``).
        kind: behaviour profile: ``brand`` (shop), ``training`` (class) or ``interest``.
        platform: where the group lives (informational, for the workspace record).
        name: display name of the group.
        channels: traffic channels.
        prices: the price list orders draw from.
        campaigns: traffic, referral and sale campaigns.
        start: the day the community opens; None means the simulation's start.
        timezone: local time zone for the daily rhythm.
        scale: multiplies traffic and seed members (so members and events).
        seed_members: members the operator adds on day 0 at scale 1.
        operator_name: display name of the operator (member 0), who founds the group.
    """

    key: str
    kind: str
    platform: str
    name: str
    channels: tuple[Channel, ...]
    prices: tuple[Product, ...]
    campaigns: tuple[Campaign, ...] = ()
    start: date | None = None
    timezone: str = "Asia/Shanghai"
    scale: float = 1.0
    seed_members: int = 20
    operator_name: str = "群主"

    def __post_init__(self) -> None:
        where = f"community {self.key!r}"
        if not _KEY.match(self.key):
            raise InputError(
                f"community key {self.key!r} is not plain",
                field="key",
                hint="use letters, digits, '-', '_' or '.', starting with a letter or digit",
            )
        if self.kind not in KINDS:
            raise InputError(
                f"{where}: unknown kind {self.kind!r}", field="kind", hint=f"use one of {KINDS}"
            )
        if self.platform not in PLATFORMS:
            raise InputError(
                f"{where}: unknown platform {self.platform!r}",
                field="platform",
                hint=f"use one of {PLATFORMS}",
            )
        _check_channels(where, self.channels)
        _check_prices(where, self.prices)
        names = {c.name for c in self.channels}
        for campaign in self.campaigns:
            if campaign.channel is not None and campaign.channel not in names:
                raise InputError(
                    f"{where}: campaign names unknown channel {campaign.channel!r}",
                    field="campaigns",
                    hint=f"use one of the community's channels: {sorted(names)}",
                )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InputError(
                f"{where}: unknown time zone {self.timezone!r}",
                field="timezone",
                hint="use an IANA name such as Asia/Shanghai",
            ) from None
        if self.scale < 0 or self.seed_members < 0:
            raise InputError(
                f"{where}: scale and seed_members must not be negative",
                field="scale",
                hint="use 1.0 for the default size",
            )


def _check_channels(where: str, channels: tuple[Channel, ...]) -> None:
    if not channels:
        raise InputError(
            f"{where}: no channels", field="channels", hint="give at least one traffic channel"
        )
    if len({c.name for c in channels}) != len(channels):
        raise InputError(
            f"{where}: channel names repeat", field="channels", hint="give each channel once"
        )
    for channel in channels:
        if not 0 <= channel.conversion <= 1 or channel.daily_visits < 0:
            raise InputError(
                f"{where}: channel {channel.name!r} has conversion {channel.conversion} "
                f"and daily_visits {channel.daily_visits}",
                field="channels",
                hint="conversion is a share between 0 and 1; daily_visits is not negative",
            )
        if min(channel.buyer_quality, channel.weekend_factor) < 0 or channel.engagement <= 0:
            raise InputError(
                f"{where}: channel {channel.name!r} has a negative factor or no engagement",
                field="channels",
                hint="buyer_quality and weekend_factor are >= 0, engagement > 0 (1 = average)",
            )


def _check_prices(where: str, prices: tuple[Product, ...]) -> None:
    if not prices:
        raise InputError(f"{where}: empty price list", field="prices", hint="give one product")
    for product in prices:
        if product.price <= 0 or product.price != product.price.quantize(Decimal("0.01")):
            raise InputError(
                f"{where}: price {product.price} of {product.name!r}",
                field="prices",
                hint="prices are positive with at most two decimals, e.g. Decimal('99.00')",
            )


@dataclass(frozen=True, slots=True)
class SimulationSpec:
    """A whole simulation.

    Attributes:
        seed: the random seed; the same spec and seed give identical frames.
        start: the first simulated local day.
        days: how many days to simulate.
        communities: the communities.
        chunk_rows: the largest frame ``simulate`` yields.
    """

    seed: int
    start: date
    days: int
    communities: tuple[CommunitySpec, ...] = field(default_factory=tuple)
    chunk_rows: int = 500_000

    def __post_init__(self) -> None:
        if self.days < 1:
            raise InputError(f"days is {self.days}", field="days", hint="simulate at least 1 day")
        if self.chunk_rows < 1:
            raise InputError(
                f"chunk_rows is {self.chunk_rows}", field="chunk_rows", hint="use e.g. 500000"
            )
        keys = [c.key for c in self.communities]
        if len(set(keys)) != len(keys):
            raise InputError(
                "community keys repeat", field="communities", hint="give each community once"
            )
        if self.seed < 0:
            raise InputError(f"seed is {self.seed}", field="seed", hint="use a seed >= 0")
        for community in self.communities:
            if community.start is not None and community.start < self.start:
                raise InputError(
                    f"community {community.key!r} starts {community.start}, before the "
                    f"simulation ({self.start})",
                    field="start",
                    hint="open the community on or after the simulation's start, or give none",
                )
