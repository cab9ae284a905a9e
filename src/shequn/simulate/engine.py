"""One community, day by day: traffic, joins, invitations, leaves and rejoins.

Each day is simulated for all members at once with NumPy; the loop is per day, never
per event. Membership rules hold by construction: whoever leaves on a day was a member
since an earlier day and does nothing else that day; whoever joins does nothing before
joining; only members present since an earlier day (and not leaving) act or invite.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from shequn.simulate import behaviour
from shequn.simulate.batch import META_REMOVED_BY, Batch, DayEvents
from shequn.simulate.population import Population
from shequn.simulate.profiles import PROFILES, WEEKDAY_CDF, WEEKEND_CDF
from shequn.simulate.spec import CommunitySpec

MINUTE = 60_000_000  # microseconds
HOUR = 60 * MINUTE
REFERRAL_QUALITY = 1.2  # invited members buy a little more than average
REFERRAL_ENGAGEMENT = 1.15
MAX_INVITES_A_DAY = 30


def community_rng(seed: int, key: str) -> np.random.Generator:
    """The community's own stream: adding a community does not change the others."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, zlib.crc32(key.encode())]))
    )


class CommunitySim:
    """The state of one simulated community and the membership steps of a day."""

    def __init__(self, spec: CommunitySpec, seed: int, first_date: date, days: int) -> None:
        self.spec = spec
        self.profile = PROFILES[spec.kind]
        self.rng = community_rng(seed, spec.key)
        self.pop = Population(self.profile)
        self.first_date = first_date
        self.days = days
        channels = spec.channels
        self.visits = np.array([c.daily_visits for c in channels]) * spec.scale
        self.conversion = np.array([c.conversion for c in channels])
        self.quality = np.array([c.buyer_quality for c in channels])
        self.engagement = np.array([c.engagement for c in channels])
        self.weekend = np.array([c.weekend_factor for c in channels])
        self.counters = {"visitor": 0, "msg": 0, "content": 0, "order": 0}
        self.behaviour = behaviour.Behaviour(self)
        zone = ZoneInfo(spec.timezone)
        starts = [
            int(datetime.combine(first_date + timedelta(d), time(), zone).timestamp() * 1e6)
            for d in range(days + 1)
        ]
        self.day_start = np.array(starts, dtype=np.int64)
        # today's clock, set by run()
        self.day = 0
        self.t0 = 0
        self.t1 = 0
        self.weekday = 0

    def run(self) -> Iterator[Batch]:
        """Every day's events, one time-sorted batch per day."""
        for day in range(self.days):
            self.day = day
            self.t0 = int(self.day_start[day])
            self.t1 = int(self.day_start[day + 1])
            self.weekday = (self.first_date + timedelta(day)).weekday()
            events = DayEvents()
            if day == 0:
                joiners = self._open(events)
                actors = np.empty(0, dtype=np.int64)
            else:
                actors = self._leaves(events)
                joiners = [*self._rejoins(events), *self._traffic(events)]
                joiners.extend(self._invites(events, actors))
            self.behaviour.day(events, actors, joiners)
            yield events.finish()

    # -- clock ---------------------------------------------------------------------------

    def times(self, n: int, cdf: np.ndarray | None = None) -> np.ndarray:
        """``n`` instants of today (UTC microseconds) following an hour-of-day profile."""
        if cdf is None:
            cdf = WEEKEND_CDF if self.weekday >= 5 else WEEKDAY_CDF
        hours = np.searchsorted(cdf, self.rng.random(n), side="right")
        local = (hours + self.rng.random(n)) / 24.0
        # Scaled to the day's real length, so DST days stay inside their day.
        return self.t0 + (local * (self.t1 - self.t0)).astype(np.int64)

    def after(self, ts: np.ndarray, mean_minutes: float, min_seconds: float = 5.0) -> np.ndarray:
        """A moment after each of ``ts``; -1 where it would fall after today."""
        delay = self.rng.exponential(mean_minutes * MINUTE, len(ts)) + min_seconds * 1e6
        later = ts + delay.astype(np.int64)
        return np.where(later < self.t1, later, -1)

    def next_numbers(self, counter: str, n: int) -> np.ndarray:
        """``n`` fresh sequence numbers of a counter (messages, orders...)."""
        first = self.counters[counter]
        self.counters[counter] = first + n
        return np.arange(first, first + n, dtype=np.int64)

    def campaign_multiplier(self, kind: str, channel: str | None = None) -> float:
        """Product of the multipliers of today's campaigns of ``kind`` (for ``channel``)."""
        factor = 1.0
        for campaign in self.spec.campaigns:
            if campaign.kind != kind or not campaign.covers(self.day):
                continue
            if campaign.channel is None or campaign.channel == channel:
                factor *= campaign.multiplier
        return factor

    # -- membership ----------------------------------------------------------------------

    def _open(self, events: DayEvents) -> list[tuple[np.ndarray, np.ndarray]]:
        """Day 0: the operator founds the group and adds the seed members."""
        pop = self.pop
        one = np.ones(1)
        pop.add(self.rng, 0, np.array([-1], np.int16), one, one, np.zeros(1, bool))
        pop.make_operator(self.profile.operator_messages * min(1.0, self.spec.scale**0.5))
        founded = np.array([self.t0 + 9 * HOUR], dtype=np.int64)
        events.add("join", founded, member=0)
        n = round(self.spec.seed_members * self.spec.scale)
        index = pop.add(
            self.rng,
            0,
            np.full(n, -1, np.int16),
            np.full(n, REFERRAL_QUALITY),
            np.full(n, REFERRAL_ENGAGEMENT),
            np.zeros(n, bool),
        )
        ts = np.sort(founded[0] + self.rng.integers(MINUTE, 12 * HOUR, n))
        events.add("join", ts, member=index, inviter=0)
        return [(np.zeros(1, np.int64), founded), (index, ts)]

    def _leaves(self, events: DayEvents) -> np.ndarray:
        """Members drift away and leave; returns the members who act today.

        Most departures end a drift (engagement fell over weeks before it); of the
        members who turn away, a share (``abrupt_share``) leave at once instead.
        Spammers are removed soon after they post.
        """
        pop, profile, rng = self.pop, self.profile, self.rng
        present = np.flatnonzero(pop["alive"] & (pop["join_day"] < self.day))
        # One draw decides both for a member not drifting yet: below churn × abrupt they
        # leave at once, else below churn they start to drift.
        draw = rng.random(len(present))
        churn = pop["churn"][present]
        steady = pop["drift_day"][present] < 0
        pop.start_drift(rng, present[steady & (draw < churn)], self.day)
        began = pop["drift_day"][present]
        ended = (began >= 0) & (self.day - began >= pop["drift_len"][present])
        ended &= pop["quits"][present]
        spam = pop["spammer"][present] & (self.day - pop["join_day"][present] <= 2)
        abrupt = steady & (draw < churn * profile.abrupt_share)
        leaving = np.where(spam, draw < 0.8, ended | abrupt)
        leavers = present[leaving]
        ts = self.times(len(leavers))
        removed = pop["spammer"][leavers]
        events.add("leave", ts[~removed], member=leavers[~removed])
        events.add(
            "leave", ts[removed], member=leavers[removed], meta_kind=META_REMOVED_BY, meta_arg=0
        )
        pop.arrays["alive"][leavers] = False
        pop.arrays["left_day"][leavers] = self.day
        return present[pop["alive"][present]]

    def _visit_and_join(
        self, events: DayEvents, channel: np.ndarray, members: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Visits on ``channel`` codes; the converting ones join (new members if None)."""
        n = len(channel)
        visit_ts = self.times(n)
        visitor = self.next_numbers("visitor", n)
        events.add("visit", visit_ts, channel=channel, visitor=visitor)
        # Half the time left in the day at most, so the join stays on the same day.
        delay = self.rng.exponential(5 * MINUTE, n) + 10e6
        join_ts = visit_ts + np.minimum(delay, (self.t1 - visit_ts) / 2).astype(np.int64)
        if members is None:
            spam = self.rng.random(n) < self.profile.spam_share
            members = self.pop.add(
                self.rng, self.day, channel, self.quality[channel], self.engagement[channel], spam
            )
        events.add("join", join_ts, member=members, channel=channel, visitor=visitor)
        return members, join_ts

    def _traffic(self, events: DayEvents) -> list[tuple[np.ndarray, np.ndarray]]:
        """Visits per channel (weekday effects, campaigns); a share of visitors join."""
        weekend = self.weekday >= 5
        rates = [
            self.visits[c]
            * (self.weekend[c] if weekend else 1.0)
            * self.campaign_multiplier("traffic", channel.name)
            for c, channel in enumerate(self.spec.channels)
        ]
        counts = self.rng.poisson(rates)
        channel = np.repeat(np.arange(len(counts), dtype=np.int16), counts)
        converts = self.rng.random(len(channel)) < self.conversion[channel]
        events.add(
            "visit",
            self.times(int((~converts).sum())),
            channel=channel[~converts],
            visitor=self.next_numbers("visitor", int((~converts).sum())),
        )
        return [self._visit_and_join(events, channel[converts], None)]

    def _rejoins(self, events: DayEvents) -> list[tuple[np.ndarray, np.ndarray]]:
        """Some former members come back, through a channel like anyone else."""
        pop = self.pop
        gone = np.flatnonzero(~pop["alive"] & (pop["left_day"] >= 0) & (pop["left_day"] < self.day))
        back = gone[self.rng.random(len(gone)) < pop["rejoin"][gone]]
        if not len(back):
            return []
        channel = pop["channel"][back].astype(np.int16)
        random_channel = self.rng.integers(0, len(self.spec.channels), len(back))
        channel = np.where(channel >= 0, channel, random_channel).astype(np.int16)
        back, join_ts = self._visit_and_join(events, channel, back)
        pop.arrays["alive"][back] = True
        pop.arrays["drift_day"][back] = -1
        pop.arrays["join_day"][back] = self.day
        return [(back, join_ts)]

    def _invites(
        self, events: DayEvents, actors: np.ndarray
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Members invite others (裂变); new members are keenest, campaigns multiply it."""
        pop = self.pop
        boost = self.campaign_multiplier("referral")
        age = self.day - pop["join_day"][actors]
        rate = pop["invite"][actors] * boost * (1.0 + 2.0 * np.exp(-age / 5.0))
        counts = np.minimum(self.rng.poisson(rate), MAX_INVITES_A_DAY)
        inviters = np.repeat(actors, counts)
        n = len(inviters)
        if not n:
            return []
        members = pop.add(
            self.rng,
            self.day,
            np.full(n, -1, np.int16),
            np.full(n, REFERRAL_QUALITY),
            np.full(n, REFERRAL_ENGAGEMENT),
            np.zeros(n, bool),
        )
        ts = self.times(n)
        events.add("join", ts, member=members, inviter=inviters)
        return [(members, ts)]
