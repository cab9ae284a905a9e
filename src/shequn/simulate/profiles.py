"""Behaviour profiles: how members of each kind of community act.

One `Profile` per community kind, declared as data. The numbers are daily rates and
shares calibrated so that the stylised facts of real groups hold (docs/simulator.md,
`shequn.simulate.facts`): a share of lurkers who never speak, a heavy-tailed (lognormal)
activity among the others, bursts on event days, engagement that fades after joining,
and members who drift into silence over weeks before they leave.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Relative message volume by local hour, 0..23. Weekdays peak on the commute, at lunch
# and in the evening; weekends start late and stay busy through the afternoon.
_WEEKDAY_HOURS = (
    0.5, 0.25, 0.12, 0.06, 0.05, 0.1, 0.35, 1.1, 2.0, 1.7, 1.3, 1.2,
    1.8, 1.5, 1.0, 1.0, 1.1, 1.2, 1.4, 1.9, 2.5, 2.7, 2.1, 1.1,
)  # fmt: skip
_WEEKEND_HOURS = (
    0.8, 0.5, 0.25, 0.1, 0.06, 0.06, 0.12, 0.35, 0.8, 1.3, 1.6, 1.7,
    1.7, 1.5, 1.5, 1.6, 1.6, 1.5, 1.5, 1.8, 2.2, 2.4, 2.0, 1.3,
)  # fmt: skip
# Check-ins (打卡) cluster in the early morning and before sleep.
_CHECKIN_HOURS = (
    0.3, 0.1, 0.02, 0.01, 0.01, 0.1, 1.5, 3.0, 2.2, 1.0, 0.5, 0.4,
    0.6, 0.4, 0.3, 0.3, 0.3, 0.4, 0.6, 0.9, 1.6, 2.6, 2.8, 1.2,
)  # fmt: skip


def cdf(weights: tuple[float, ...]) -> np.ndarray:
    """Cumulative distribution of hour weights, for inverse-transform sampling."""
    array = np.asarray(weights, dtype=np.float64)
    out = np.cumsum(array / array.sum())
    out[-1] = 1.0
    return out


WEEKDAY_CDF = cdf(_WEEKDAY_HOURS)
WEEKEND_CDF = cdf(_WEEKEND_HOURS)
CHECKIN_CDF = cdf(_CHECKIN_HOURS)


@dataclass(frozen=True, slots=True)
class Profile:
    """Behaviour parameters of one community kind (daily rates unless said otherwise).

    Attributes:
        msg_median: median messages a day of a newly joined member who speaks.
        msg_sigma: spread (lognormal sigma) of activity between members.
        lurker_share: share of members who never write (they read, click and buy).
        leader_share: share of members who are opinion leaders (very active, replied to).
        reply_mean: mean share of a member's messages that reply to someone.
        react_ratio: reactions per message, on average.
        checkin_share: share of members committed to daily check-ins.
        click_mean: mean chance a member clicks a content item on its day.
        buy_rate: daily chance an average fresh member orders.
        repeat_boost: purchase rate multiplier after a first order.
        refund_rate: share of orders refunded.
        invite_rate: mean invitations a day per member outside campaigns.
        churn_base: median daily chance to start drifting away.
        drift_days: mean days a drift lasts: engagement falls to ~5 % over it.
        drift_leave: share of drifting members who leave at the end (the others stay,
            silent).
        abrupt_share: share of the members who turn away that leave at once instead
            of drifting.
        tau_days: median days for engagement to fade to 37 %.
        floor_mean: mean lasting engagement after the fade (0..1).
        rejoin_share: share of members who may come back after leaving.
        spam_share: share of channel joins that are spammers (removed by the operator).
        intro_prob: chance a new member who speaks says hello on joining.
        day_shape: gamma shape of the group's day-to-day mood (lower: burstier days).
        event_burst: message multiplier on an activity's day and on sale days.
        weekday_factor: message volume Monday..Sunday.
        content_weekdays: weekdays the operator sends a content item.
        activity_weekday: weekday of the regular activity (live class, hike, tasting).
        activity_every: days between activities.
        activity_hour: local start hour of activities.
        signup_rate: daily chance an average member signs up during the window.
        attend_prob: chance a signed-up member attends.
        operator_messages: operator messages a day at scale 1.
    """

    msg_median: float
    msg_sigma: float
    lurker_share: float
    leader_share: float
    reply_mean: float
    react_ratio: float
    checkin_share: float
    click_mean: float
    buy_rate: float
    repeat_boost: float
    refund_rate: float
    invite_rate: float
    churn_base: float
    drift_days: float
    drift_leave: float
    abrupt_share: float
    tau_days: float
    floor_mean: float
    rejoin_share: float
    spam_share: float
    intro_prob: float
    day_shape: float
    event_burst: float
    weekday_factor: tuple[float, ...]
    content_weekdays: tuple[int, ...]
    activity_weekday: int
    activity_every: int
    activity_hour: float
    signup_rate: float
    attend_prob: float
    operator_messages: float


PROFILES: dict[str, Profile] = {
    # A brand / shop community: chatty on weekdays, buys often, repeat customers.
    "brand": Profile(
        msg_median=0.2,
        msg_sigma=1.4,
        lurker_share=0.7,
        leader_share=0.02,
        reply_mean=0.35,
        react_ratio=0.5,
        checkin_share=0.08,
        click_mean=0.12,
        buy_rate=0.012,
        repeat_boost=3.0,
        refund_rate=0.05,
        invite_rate=0.0015,
        churn_base=0.005,
        drift_days=21.0,
        drift_leave=0.5,
        abrupt_share=0.2,
        tau_days=25.0,
        floor_mean=0.2,
        rejoin_share=0.15,
        spam_share=0.01,
        intro_prob=0.35,
        day_shape=3.0,
        event_burst=2.5,
        weekday_factor=(1.0, 1.0, 1.0, 1.0, 1.05, 0.85, 0.8),
        content_weekdays=(0, 2, 4),
        activity_weekday=3,
        activity_every=14,
        activity_hour=20.0,
        signup_rate=0.03,
        attend_prob=0.6,
        operator_messages=4.0,
    ),
    # A training class: homework check-ins, weekly live class, one big purchase.
    "training": Profile(
        msg_median=0.18,
        msg_sigma=1.4,
        lurker_share=0.75,
        leader_share=0.02,
        reply_mean=0.45,
        react_ratio=0.6,
        checkin_share=0.35,
        click_mean=0.25,
        buy_rate=0.006,
        repeat_boost=0.8,
        refund_rate=0.03,
        invite_rate=0.0015,
        churn_base=0.005,
        drift_days=21.0,
        drift_leave=0.5,
        abrupt_share=0.2,
        tau_days=28.0,
        floor_mean=0.25,
        rejoin_share=0.1,
        spam_share=0.005,
        intro_prob=0.6,
        day_shape=3.0,
        event_burst=2.5,
        weekday_factor=(1.1, 1.1, 1.05, 1.05, 1.0, 0.7, 0.75),
        content_weekdays=(0, 1, 2, 3, 4),
        activity_weekday=2,
        activity_every=7,
        activity_hour=20.0,
        signup_rate=0.08,
        attend_prob=0.75,
        operator_messages=6.0,
    ),
    # An open interest community (weekend hiking): busy weekends, few purchases.
    "interest": Profile(
        msg_median=0.18,
        msg_sigma=1.5,
        lurker_share=0.78,
        leader_share=0.02,
        reply_mean=0.4,
        react_ratio=0.7,
        checkin_share=0.05,
        click_mean=0.08,
        buy_rate=0.003,
        repeat_boost=2.0,
        refund_rate=0.04,
        invite_rate=0.0025,
        churn_base=0.007,
        drift_days=21.0,
        drift_leave=0.5,
        abrupt_share=0.2,
        tau_days=20.0,
        floor_mean=0.15,
        rejoin_share=0.25,
        spam_share=0.02,
        intro_prob=0.45,
        day_shape=3.0,
        event_burst=2.5,
        weekday_factor=(0.8, 0.8, 0.85, 0.9, 1.1, 1.5, 1.4),
        content_weekdays=(1, 4),
        activity_weekday=5,
        activity_every=7,
        activity_hour=8.0,
        signup_rate=0.05,
        attend_prob=0.7,
        operator_messages=2.0,
    ),
}
