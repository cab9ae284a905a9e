"""The default simulation: a tea shop, a training class and a hiking group.

These three are what ``make demo`` shows. `default_spec` can scale them to a target
number of events, from about a thousand (one small community) to tens of millions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal

from shequn.errors import InputError
from shequn.simulate.generate import count_events
from shequn.simulate.spec import Campaign, Channel, CommunitySpec, Product, SimulationSpec

DEFAULT_START = date(2025, 9, 1)  # a Monday
# Below this many events the calibration reruns the exact simulation; above it, events
# grow linearly with scale and one pilot run is enough.
PILOT_LIMIT = 300_000
TOLERANCE = 0.1
EVENTS_PER_COMMUNITY_DAY = 600.0  # measured at scale 1 over 90 days: the first guess
MAX_ROUNDS = 5


def _at(days: int, share: float) -> int:
    """Campaign start day as a share of the simulated days."""
    return int(days * share)


def tea_shop(days: int) -> CommunitySpec:
    """A brand / shop community on WeChat: many channels, frequent repeat orders."""
    return CommunitySpec(
        key="tea-shop",
        kind="brand",
        platform="wechat",
        name="一叶茶舍·会员群",
        channels=(
            Channel("公众号", 70, 0.08, buyer_quality=1.4, engagement=1.1, weekend_factor=0.7),
            Channel("抖音", 180, 0.025, buyer_quality=0.5, engagement=0.75, weekend_factor=1.3),
            Channel("小红书", 90, 0.05, buyer_quality=1.0, weekend_factor=1.2),
            Channel("offline_qr", 12, 0.35, buyer_quality=1.7, engagement=1.25, weekend_factor=1.8),
        ),
        prices=(
            Product("明前龙井 50g", Decimal("128.00"), 3),
            Product("白茶饼 357g", Decimal("99.00"), 2),
            Product("茶具套装", Decimal("268.00"), 1),
            Product("体验装", Decimal("19.90"), 4),
            Product("月度茶包订阅", Decimal("59.00"), 2),
        ),
        campaigns=(
            Campaign("traffic", _at(days, 0.2), 3, 4.0, channel="抖音"),
            Campaign("sale", _at(days, 0.5), 3, 3.0),
            Campaign("referral", _at(days, 0.65), 7, 16.0),
        ),
        seed_members=30,
        operator_name="茶舍小助手Lily",
    )


def data_camp(days: int) -> CommunitySpec:
    """A training class on QQ: homework check-ins, weekly live classes, one big purchase."""
    return CommunitySpec(
        key="data-camp",
        kind="training",
        platform="qq",
        name="数据分析训练营",
        channels=(
            Channel("公众号", 50, 0.09, buyer_quality=1.3, engagement=1.1, weekend_factor=0.6),
            Channel("抖音", 140, 0.02, buyer_quality=0.5, engagement=0.7, weekend_factor=1.2),
            Channel("offline_qr", 8, 0.4, buyer_quality=1.6, engagement=1.3, weekend_factor=1.5),
        ),
        prices=(
            Product("体验课", Decimal("9.90"), 5),
            Product("正式课", Decimal("1999.00"), 1),
            Product("进阶课", Decimal("2999.00"), 0.3),
            Product("配套教材", Decimal("89.00"), 1.5),
        ),
        campaigns=(
            Campaign("traffic", _at(days, 0.1), 4, 3.0, channel="公众号"),
            Campaign("referral", _at(days, 0.3), 10, 18.0),
            Campaign("sale", _at(days, 0.8), 3, 2.0),
        ),
        seed_members=40,
        operator_name="班主任王老师",
    )


def hiking(days: int) -> CommunitySpec:
    """An open interest community on Telegram: weekend hikes, invite links, few orders."""
    return CommunitySpec(
        key="hiking",
        kind="interest",
        platform="telegram",
        name="城市周末徒步群",
        channels=(
            Channel("小红书", 50, 0.07, weekend_factor=1.3),
            Channel("invite_link", 20, 0.45, buyer_quality=1.1, engagement=1.2),
            Channel("offline_qr", 8, 0.5, buyer_quality=1.3, engagement=1.3, weekend_factor=2.0),
        ),
        prices=(
            Product("活动费 AA", Decimal("50.00"), 4),
            Product("队服", Decimal("129.00"), 1),
            Product("年度会员", Decimal("199.00"), 1),
        ),
        campaigns=(
            Campaign("traffic", _at(days, 0.25), 3, 3.0, channel="小红书"),
            Campaign("referral", _at(days, 0.45), 7, 18.0),
        ),
        seed_members=25,
        operator_name="领队阿山",
    )


DEFAULT_COMMUNITIES: tuple[Callable[[int], CommunitySpec], ...] = (tea_shop, data_camp, hiking)


def _communities(n: int, days: int, scale: float) -> tuple[CommunitySpec, ...]:
    """``n`` communities cycling through the defaults; repeats get a numbered key."""
    out = []
    for i in range(n):
        base = DEFAULT_COMMUNITIES[i % len(DEFAULT_COMMUNITIES)](days)
        round_ = i // len(DEFAULT_COMMUNITIES)
        key = base.key if round_ == 0 else f"{base.key}-{round_ + 1}"
        name = base.name if round_ == 0 else f"{base.name} {round_ + 1}"
        out.append(replace(base, key=key, name=name, scale=scale))
    return tuple(out)


def default_spec(
    n_communities: int = 3, days: int = 90, seed: int = 42, target_events: int | None = None
) -> SimulationSpec:
    """The default simulation, optionally scaled to about ``target_events`` events.

    The scale is found by running the simulation without building frames (counts
    only): exactly, a few times, for small targets; once, as a pilot of about 300k
    events, for large ones, where events grow linearly with scale. Deterministic for
    a given seed.

    Args:
        n_communities: how many communities (cycling shop, class, hiking group).
        days: simulated days from 2025-09-01.
        seed: the random seed.
        target_events: total events wanted; None keeps the default size (~160k events
            for three communities over 90 days).

    Returns:
        The spec to pass to `simulate`.
    """
    if n_communities < 1:
        raise InputError(
            f"n_communities is {n_communities}", field="n_communities", hint="use 1 or more"
        )

    def build(scale: float) -> SimulationSpec:
        return SimulationSpec(
            seed=seed,
            start=DEFAULT_START,
            days=days,
            communities=_communities(n_communities, days, scale),
        )

    if target_events is None:
        return build(1.0)
    if target_events < 1:
        raise InputError(
            f"target_events is {target_events}", field="target_events", hint="use 1 or more"
        )
    return build(_calibrate(build, target_events, n_communities, days))


def _calibrate(build: Callable[[float], SimulationSpec], target: int, n: int, days: int) -> float:
    """The scale whose event count is closest to ``target``.

    Starts from a rough prior (events a community-day at scale 1); small targets are
    then run exactly until within TOLERANCE; large ones get one pilot run of about
    PILOT_LIMIT events and are extrapolated linearly.
    """
    scale = target / (EVENTS_PER_COMMUNITY_DAY * n * days)
    pilot = min(1.0, PILOT_LIMIT / target)
    best = (float("inf"), scale)
    for _ in range(MAX_ROUNDS):
        total = max(sum(count_events(build(scale * pilot)).values()), 1)
        if pilot < 1.0:
            return scale * pilot * target / total
        best = min(best, (abs(total - target), scale))
        if abs(total - target) <= TOLERANCE * target:
            break
        scale *= target / total
    return best[1]
