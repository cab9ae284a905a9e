"""The members of one simulated community: state and propensities as NumPy arrays.

Member ``i`` has key ``sim:<community>:<i>``; member 0 is the operator who founds the
community. Propensities are drawn once, when a member first joins, from skewed
distributions that share one latent "activity" draw, so that the members who talk most
also react, sign up and buy more, and are replied to more. A share of members are
lurkers who never write. A member may start to drift away: their engagement then falls
over a few weeks, and most of them leave at the end of it.
"""

from __future__ import annotations

import numpy as np

from shequn.simulate.profiles import Profile

# name -> dtype of every per-member array.
FIELDS: dict[str, type] = {
    "alive": np.bool_,
    "join_day": np.int32,  # day of the latest join
    "left_day": np.int32,  # day of the latest leave, -1 if never left
    "channel": np.int16,  # channel code of the first join, -1 if invited
    "activity": np.float64,  # messages a day when fresh
    "influence": np.float64,  # how much others reply and react to them
    "reply": np.float64,  # share of messages that are replies
    "react": np.float64,  # reactions a day when fresh
    "checkin": np.float64,  # daily check-in chance (0 for most)
    "click": np.float64,  # chance to click a content item on its day
    "buy": np.float64,  # daily order chance when fresh
    "repeat": np.float64,  # order rate multiplier once a customer
    "invite": np.float64,  # invitations a day
    "churn": np.float64,  # base daily leave chance
    "tau": np.float64,  # days for engagement to fade
    "floor": np.float64,  # lasting share of engagement
    "rejoin": np.float64,  # daily chance to come back after leaving
    "signup": np.float64,  # daily activity sign-up chance
    "satisfaction": np.float64,  # latent: feedback scores, churn
    "orders": np.int32,  # orders so far
    "spammer": np.bool_,
    "lurker": np.bool_,  # never writes
    "drift_day": np.int32,  # day the current drift began, -1 if not drifting
    "drift_len": np.float64,  # days the current drift lasts
    "quits": np.bool_,  # whether the current drift ends in a leave
}
DRIFT_DECAY = 3.0  # engagement at the end of a drift: exp(-3) ~ 5 %
LURKER_REACT = 0.05  # lurkers react, rarely: this share of a speaker's reactions


class Population:
    """Growable per-member arrays; ``n`` members exist, indices ``0 .. n - 1``."""

    def __init__(self, profile: Profile, capacity: int = 1024) -> None:
        self.profile = profile
        self.n = 0
        self.arrays: dict[str, np.ndarray] = {
            name: np.zeros(capacity, dtype=dtype) for name, dtype in FIELDS.items()
        }

    def __getitem__(self, name: str) -> np.ndarray:
        """The array ``name`` over the existing members."""
        return self.arrays[name][: self.n]

    def _reserve(self, extra: int) -> None:
        capacity = len(self.arrays["alive"])
        if self.n + extra <= capacity:
            return
        capacity = max(capacity * 2, self.n + extra)
        for name, array in self.arrays.items():
            grown = np.zeros(capacity, dtype=array.dtype)
            grown[: self.n] = array[: self.n]
            self.arrays[name] = grown

    def add(
        self,
        rng: np.random.Generator,
        day: int,
        channel: np.ndarray,
        buyer_quality: np.ndarray,
        engagement: np.ndarray,
        spammer: np.ndarray,
    ) -> np.ndarray:
        """New members joining on ``day``; returns their indices.

        Args:
            rng: the community's random generator.
            day: the community day of the join.
            channel: channel code per new member (-1 for invited members).
            buyer_quality: purchase multiplier per new member (from the channel).
            engagement: activity multiplier per new member (from the channel).
            spammer: whether each new member is a spammer.
        """
        count = len(channel)
        self._reserve(count)
        index = np.arange(self.n, self.n + count)
        self.n += count
        values = self._draw(rng, count, buyer_quality, engagement)
        values["channel"] = channel
        for name, array in values.items():
            self.arrays[name][index] = array
        for name in ("activity", "react", "checkin", "buy", "invite", "rejoin", "signup"):
            self.arrays[name][index[spammer]] = 0.0
        self.arrays["spammer"][index] = spammer
        self.arrays["alive"][index] = True
        self.arrays["join_day"][index] = day
        self.arrays["left_day"][index] = -1
        self.arrays["drift_day"][index] = -1
        return index

    def _draw(
        self, rng: np.random.Generator, n: int, buyer_quality: np.ndarray, engagement: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Propensities of ``n`` new members, driven by one shared activity latent."""
        p = self.profile
        z = rng.standard_normal(n)  # the activity latent
        leader = rng.random(n) < p.leader_share
        satisfaction = rng.standard_normal(n)
        noise = rng.standard_normal((6, n))
        spread = p.msg_sigma * z
        committed = rng.random(n) < p.checkin_share * np.clip(engagement, 0.5, 1.5)
        # Members from engaging channels lurk less. Lurkers may still check in (打卡
        # is homework, not conversation).
        lurker = rng.random(n) < np.minimum(p.lurker_share / engagement, 0.95)
        reply_b = 2.0 * (1 - p.reply_mean) / p.reply_mean
        floor_b = 1.2 * (1 - p.floor_mean) / p.floor_mean
        return {
            "activity": np.where(
                lurker, 0.0, p.msg_median * np.exp(spread) * engagement * np.where(leader, 4.0, 1.0)
            ),
            "influence": np.exp(0.5 * spread + 0.6 * noise[0]) * np.where(leader, 8.0, 1.0),
            "reply": rng.beta(2.0, reply_b, n),
            "react": p.react_ratio
            * p.msg_median
            * np.exp(0.8 * spread + 0.5 * noise[1])
            * np.where(lurker, LURKER_REACT, 1.0),
            "checkin": np.where(committed, rng.beta(6.0, 2.0, n), 0.0),
            "click": np.minimum(p.click_mean * np.exp(0.3 * z + 0.6 * noise[2] - 0.2), 0.9),
            "buy": p.buy_rate * buyer_quality * np.exp(0.45 * spread + 0.5 * noise[3] - 0.5),
            "repeat": p.repeat_boost * np.exp(0.7 * noise[4] - 0.25),
            "invite": p.invite_rate * np.exp(1.3 * noise[5] - 0.85) * np.where(leader, 3.0, 1.0),
            "churn": p.churn_base * np.exp(0.5 * noise[1] - 0.3 * satisfaction) / engagement,
            "tau": p.tau_days * np.exp(0.5 * noise[2]),
            "floor": rng.beta(1.2, floor_b, n),
            "rejoin": np.where(rng.random(n) < p.rejoin_share, rng.uniform(0.005, 0.04, n), 0.0),
            "signup": p.signup_rate * np.exp(0.4 * spread + 0.4 * noise[4]),
            "satisfaction": satisfaction,
            "lurker": lurker,
        }

    def make_operator(self, messages_per_day: float) -> None:
        """Turn member 0 into the operator: talks and answers, never buys or leaves."""
        values = {
            "activity": messages_per_day,
            "influence": 5.0,
            "reply": 0.5,
            "react": 0.0,
            "checkin": 0.0,
            "click": 0.0,
            "buy": 0.0,
            "invite": 0.0,
            "churn": 0.0,
            "floor": 1.0,
            "rejoin": 0.0,
            "signup": 0.0,
            "satisfaction": 0.0,
        }
        for name, value in values.items():
            self.arrays[name][0] = value
        self.arrays["tau"][0] = 1e9
        self.arrays["lurker"][0] = False

    def life(self, index: np.ndarray, day: int) -> np.ndarray:
        """Engagement of members ``index`` on ``day``: fades from 1 after each join,
        and falls towards nothing over a drift."""
        age = day - self.arrays["join_day"][index]
        floor = self.arrays["floor"][index]
        life = floor + (1.0 - floor) * np.exp(-age / self.arrays["tau"][index])
        began = self.arrays["drift_day"][index]
        drifting = began >= 0
        if drifting.any():
            since = (day - began[drifting]) / self.arrays["drift_len"][index[drifting]]
            life[drifting] *= np.exp(-DRIFT_DECAY * since)
        return life

    def start_drift(self, rng: np.random.Generator, members: np.ndarray, day: int) -> None:
        """Members who begin to drift away today, and how long it lasts."""
        p = self.profile
        self.arrays["drift_day"][members] = day
        self.arrays["drift_len"][members] = rng.gamma(3.0, p.drift_days / 3.0, len(members)) + 3.0
        self.arrays["quits"][members] = rng.random(len(members)) < p.drift_leave
