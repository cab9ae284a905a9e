"""What members do on a day: talk, reply, react, check in, click, sign up, buy, rate.

Every step draws per-member counts for the members acting today as arrays, then
expands them with ``np.repeat``; nothing loops per event.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from shequn.simulate.affinity import click_weight
from shequn.simulate.batch import META_ACTIVITY, META_MENTION, META_ORDER, DayEvents
from shequn.simulate.profiles import CHECKIN_CDF
from shequn.simulate.spec import Product
from shequn.simulate.texts import TextTable

if TYPE_CHECKING:
    from shequn.simulate.engine import CommunitySim

HOUR = 3_600_000_000
REPLY_WINDOW = 400  # earlier messages a reply may answer
REPLY_LAG_P = 0.12  # replies answer recent messages: geometric lag, mean ~8 back
CANDIDATES = 3  # a reply picks the most influential of this many recent authors
MENTION_SHARE = 0.25
MEDIA_SHARE = 0.06
CLICK_DECAY = (1.0, 0.3, 0.1)  # click chance by days since the content was sent
ORDER_FEEDBACK_SHARE = 0.12
ACTIVITY_FEEDBACK_SHARE = 0.45
SIGNUP_WINDOW = 6  # days before an activity when members sign up
FIRST_ACTIVITY = 10  # no activity in the first days of a community
EMOJI = ("👍", "❤️", "😂", "🎉", "🙏", "👏")
EMOJI_P = (0.4, 0.2, 0.15, 0.1, 0.1, 0.05)
MEDIA = ("image", "video", "file")
MEDIA_P = (0.8, 0.12, 0.08)
QUANTITY_P = (0.85, 0.12, 0.03)  # of buying 1, 2 or 3 of an item


def amount_strings(prices: tuple[Product, ...]) -> list[str]:
    """Amount strings by code: orders by (product, quantity), the same as refunds, scores.

    Amounts are few distinct values, so events carry a code and frames look the exact
    decimal string up instead of formatting millions of numbers.
    """
    orders = [f"{p.price * q:.2f}" for p in prices for q in range(1, len(QUANTITY_P) + 1)]
    return orders + [f"-{amount}" for amount in orders] + [str(s) for s in range(11)]


def fixed_meta(product_names: list[str]) -> list[str]:
    """The fixed meta strings of a community: emoji, media kinds, then items."""
    emoji = [f'{{"emoji": "{e}"}}' for e in EMOJI]
    media = [f'{{"media": "{m}"}}' for m in MEDIA]
    items = [f'{{"item": "{name}"}}' for name in product_names]
    return emoji + media + items


class Behaviour:
    """The day's activity of a community's members, with what it carries across days."""

    def __init__(self, sim: CommunitySim) -> None:
        self.sim = sim
        self.texts = TextTable(sim.spec.kind)
        prices = sim.spec.prices
        weights = np.array([p.weight for p in prices], dtype=np.float64)
        self.price_p = weights / weights.sum()
        self.refund_code = len(prices) * len(QUANTITY_P)  # added to an order's amount code
        self.score_code = 2 * self.refund_code  # + the score 0..10
        self.item_code = len(EMOJI) + len(MEDIA)
        self.recent_num = np.empty(0, np.int64)
        self.recent_author = np.empty(0, np.int64)
        self.contents: list[tuple[int, int, int, int]] = []  # (number, sent ts, day, topic)
        self.refunds: dict[int, list[tuple[np.ndarray, ...]]] = defaultdict(list)
        self.order_feedback: dict[int, list[tuple[np.ndarray, ...]]] = defaultdict(list)
        self.activities = self._schedule_activities()
        self.signups: dict[int, np.ndarray] = {}

    def _schedule_activities(self) -> dict[int, int]:
        """Community day -> activity number, on the profile's weekday and rhythm."""
        profile, sim = self.sim.profile, self.sim
        first = next(
            (
                d
                for d in range(FIRST_ACTIVITY, sim.days)
                if (sim.first_date.weekday() + d) % 7 == profile.activity_weekday
            ),
            sim.days,
        )
        days = range(first, sim.days, profile.activity_every)
        return {day: number for number, day in enumerate(days)}

    def day(
        self, events: DayEvents, actors: np.ndarray, joiners: list[tuple[np.ndarray, np.ndarray]]
    ) -> None:
        """Everything members do today (``actors`` were members all day)."""
        life = self.sim.pop.life(actors, self.sim.day)
        mood = self.mood()
        msg_num, msg_author, msg_ts = self.messages(events, actors, life * mood, joiners)
        self.reactions(events, actors, life * mood, msg_num, msg_author, msg_ts)
        self.checkins(events, actors, life)
        self.content(events, actors, life)
        self.orders(events, actors, life)
        self.activity(events, actors, life)
        self.due(events, actors)

    def mood(self) -> float:
        """Today's chattiness of the whole group: a gamma draw around 1 (busy and quiet
        days), multiplied on an activity's day (half of it the day before) and in sales."""
        sim = self.sim
        shape = sim.profile.day_shape
        mood = float(sim.rng.gamma(shape, 1.0 / shape))
        burst = sim.profile.event_burst
        if sim.day in self.activities or sim.campaign_multiplier("sale") > 1.0:
            return mood * burst
        if sim.day + 1 in self.activities:
            return mood * (1.0 + burst) / 2.0
        return mood

    def _intros(
        self, joiners: list[tuple[np.ndarray, np.ndarray]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """New members' hello (or spam) shortly after joining: (authors, ts, text codes)."""
        sim, rng = self.sim, self.sim.rng
        if not joiners:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64)
        members = np.concatenate([m for m, _ in joiners]).astype(np.int64)
        joined = np.concatenate([t for _, t in joiners])
        spammer = sim.pop["spammer"][members]
        speaks = ~sim.pop["lurker"][members] & (rng.random(len(members)) < sim.profile.intro_prob)
        says = spammer | speaks | (members == 0)
        ts = sim.after(joined[says], 4.0, 20.0)
        members, spammer = members[says], spammer[says]
        text = np.where(
            spammer,
            self.texts.pick(rng, "spam", len(members)),
            self.texts.pick(rng, "intro", len(members)),
        )
        text = np.where(members == 0, self.texts.pick(rng, "announce", len(members)), text)
        kept = ts >= 0
        return members[kept], ts[kept], text[kept]

    def messages(
        self,
        events: DayEvents,
        actors: np.ndarray,
        life: np.ndarray,
        joiners: list[tuple[np.ndarray, np.ndarray]],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Messages of the day; returns their (numbers, authors, ts) in time order."""
        sim, rng, pop = self.sim, self.sim.rng, self.sim.pop
        # Gamma-mixed Poisson: people have busy and quiet days. Lurkers (no activity,
        # most members) are left out before drawing.
        activity = pop["activity"][actors]
        talk = activity > 0
        rate = activity[talk] * life[talk] * sim.profile.weekday_factor[sim.weekday]
        counts = rng.poisson(rate * rng.gamma(2.0, 0.5, len(rate)))
        authors = np.repeat(actors[talk], counts)
        text = self.texts.pick(rng, "message", len(authors))
        text[authors == 0] = self.texts.pick(rng, "announce", int((authors == 0).sum()))
        intro_authors, intro_ts, intro_text = self._intros(joiners)
        authors = np.concatenate([authors, intro_authors])
        ts = np.concatenate([sim.times(len(authors) - len(intro_authors)), intro_ts])
        text = np.concatenate([text, intro_text])
        # Chatter may reply or carry media; hellos and spam stand alone.
        chatter = np.arange(len(authors)) < len(authors) - len(intro_authors)
        order = np.argsort(ts, kind="stable")
        authors, ts, text, chatter = authors[order], ts[order], text[order], chatter[order]
        numbers = sim.next_numbers("msg", len(authors))
        reply, replied = self._reply_targets(authors, numbers, chatter)
        is_reply = reply >= 0
        text[is_reply] = self.texts.pick(rng, "reply", int(is_reply.sum()))
        meta_fixed, meta_kind, meta_arg = self._message_meta(authors, replied, chatter)
        text[meta_fixed >= 0] = -1  # media messages carry no text
        events.add(
            "message",
            ts,
            member=authors,
            msg=numbers,
            reply=reply,
            text=text,
            meta_fixed=meta_fixed,
            meta_kind=meta_kind,
            meta_arg=meta_arg,
        )
        return numbers, authors, ts

    def _reply_targets(
        self, authors: np.ndarray, numbers: np.ndarray, chatter: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(message number replied to, its author) per message, -1 if not a reply.

        A reply answers one of a few recent messages, the one whose author has the most
        influence, so replies concentrate on active members and opinion leaders.
        """
        rng, pop = self.sim.rng, self.sim.pop
        n = len(authors)
        all_authors = np.concatenate([self.recent_author, authors])
        all_numbers = np.concatenate([self.recent_num, numbers])
        self.recent_author = all_authors[-REPLY_WINDOW:]
        self.recent_num = all_numbers[-REPLY_WINDOW:]
        if not n:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        wants = chatter & (rng.random(n) < pop["reply"][authors])
        lag = rng.geometric(REPLY_LAG_P, (n, CANDIDATES))
        position = len(all_authors) - n + np.arange(n)[:, None] - lag
        valid = position >= 0
        position = np.maximum(position, 0)
        candidate = all_authors[position]
        score = np.where(valid & (candidate != authors[:, None]), pop["influence"][candidate], -1.0)
        best = np.argmax(score, axis=1)
        rows = np.arange(n)
        ok = wants & (score[rows, best] > 0)
        replied = np.where(ok, candidate[rows, best], -1)
        return np.where(ok, all_numbers[position[rows, best]], -1), replied

    def _message_meta(
        self, authors: np.ndarray, replied: np.ndarray, chatter: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mentions of the replied-to author on some replies; media on some messages."""
        rng = self.sim.rng
        n = len(authors)
        mention = (replied >= 0) & (rng.random(n) < MENTION_SHARE)
        media = chatter & (replied < 0) & (authors != 0) & (rng.random(n) < MEDIA_SHARE)
        media_code = len(EMOJI) + rng.choice(len(MEDIA), n, p=MEDIA_P)
        meta_fixed = np.where(media, media_code, -1)
        meta_kind = np.where(mention, META_MENTION, -1)
        meta_arg = np.where(mention, replied, -1)
        return meta_fixed, meta_kind, meta_arg

    def reactions(
        self,
        events: DayEvents,
        actors: np.ndarray,
        life: np.ndarray,
        msg_num: np.ndarray,
        msg_author: np.ndarray,
        msg_ts: np.ndarray,
    ) -> None:
        """Reactions to today's messages, drawn to influential authors, never one's own."""
        sim, rng, pop = self.sim, self.sim.rng, self.sim.pop
        if not len(msg_num):
            return
        rate = pop["react"][actors] * life * sim.profile.weekday_factor[sim.weekday]
        reactors = np.repeat(actors, rng.poisson(rate))
        n = len(reactors)
        candidate = rng.integers(0, len(msg_num), (n, CANDIDATES))
        author = msg_author[candidate]
        score = np.where(author != reactors[:, None], pop["influence"][author], -1.0)
        best = np.argmax(score, axis=1)
        target = candidate[np.arange(n), best]
        ts = sim.after(msg_ts[target], 25.0)
        kept = (score[np.arange(n), best] > 0) & (ts >= 0)
        reactors, target, ts = reactors[kept], target[kept], ts[kept]
        emoji = rng.choice(len(EMOJI), len(reactors), p=EMOJI_P)
        events.add("reaction", ts, member=reactors, reply=msg_num[target], meta_fixed=emoji)

    def checkins(self, events: DayEvents, actors: np.ndarray, life: np.ndarray) -> None:
        """Daily check-ins (打卡) by committed members, fading slower than chatter."""
        sim, rng, pop = self.sim, self.sim.rng, self.sim.pop
        chance = pop["checkin"][actors] * life**0.7
        who = actors[rng.random(len(actors)) < chance]
        events.add(
            "checkin",
            sim.times(len(who), CHECKIN_CDF),
            member=who,
            text=self.texts.pick(rng, "checkin", len(who)),
        )

    def content(self, events: DayEvents, actors: np.ndarray, life: np.ndarray) -> None:
        """The operator sends content on set weekdays; members click over a few days."""
        sim, rng, pop = self.sim, self.sim.rng, self.sim.pop
        if sim.day > 0 and sim.weekday in sim.profile.content_weekdays:
            hour = 10.0 if rng.random() < 0.5 else 20.0
            sent = sim.t0 + int((hour + rng.normal(0, 0.3)) * HOUR)
            number = int(sim.next_numbers("content", 1)[0])
            title = self.texts.pick(rng, "content", 1)
            events.add("content_sent", np.array([sent]), member=0, content=number, text=title)
            topic = int(title[0]) - self.texts.ranges["content"][0]
            self.contents.append((number, sent, sim.day, topic))
        self.contents = [c for c in self.contents if sim.day - c[2] < len(CLICK_DECAY)]
        topics = self.texts.ranges["content"][1] - self.texts.ranges["content"][0]
        for number, sent, day, topic in self.contents:
            age = sim.day - day
            taste = click_weight(actors, topic, topics, sim.spec.key)
            chance = pop["click"][actors] * life * CLICK_DECAY[age] * taste
            clickers = actors[rng.random(len(actors)) < chance]
            if age == 0:
                ts = sim.after(np.full(len(clickers), sent), 90.0, 30.0)
                clickers, ts = clickers[ts >= 0], ts[ts >= 0]
            else:
                ts = sim.times(len(clickers))
            events.add("content_click", ts, member=clickers, content=number)

    def orders(self, events: DayEvents, actors: np.ndarray, life: np.ndarray) -> None:
        """Orders from the price list; customers come back; some refund, some rate."""
        sim, rng, pop = self.sim, self.sim.rng, self.sim.pop
        customer = pop["orders"][actors] > 0
        rate = pop["buy"][actors] * np.sqrt(life) * np.where(customer, pop["repeat"][actors], 1.0)
        rate = np.minimum(rate * sim.campaign_multiplier("sale"), 0.5)
        buyers = actors[rng.random(len(actors)) < rate]
        n = len(buyers)
        product = rng.choice(len(self.price_p), n, p=self.price_p)
        amount = product * len(QUANTITY_P) + rng.choice(len(QUANTITY_P), n, p=QUANTITY_P)
        numbers = sim.next_numbers("order", n)
        meta = self.item_code + product
        events.add(
            "order", sim.times(n), member=buyers, order=numbers, amount=amount, meta_fixed=meta
        )
        pop.arrays["orders"][buyers] += 1
        refund = rng.random(n) < sim.profile.refund_rate
        refund_day = sim.day + rng.integers(1, 8, n)
        for day in np.unique(refund_day[refund]):
            pick = refund & (refund_day == day)
            refund_amount = amount[pick] + self.refund_code
            self.refunds[int(day)].append((buyers[pick], numbers[pick], refund_amount, meta[pick]))
        rate_it = rng.random(n) < ORDER_FEEDBACK_SHARE
        rate_day = sim.day + rng.integers(2, 8, n)
        for day in np.unique(rate_day[rate_it]):
            pick = rate_it & (rate_day == day)
            self.order_feedback[int(day)].append((buyers[pick], numbers[pick]))

    def scores(self, members: np.ndarray) -> np.ndarray:
        """Amount codes of feedback scores 0..10, higher for satisfied members."""
        rng, pop = self.sim.rng, self.sim.pop
        raw = 7.3 + 1.6 * pop["satisfaction"][members] + rng.normal(0, 1.2, len(members))
        return self.score_code + np.clip(np.rint(raw), 0, 10).astype(np.int64)

    def due(self, events: DayEvents, actors: np.ndarray) -> None:
        """Refunds and order ratings scheduled for today."""
        sim = self.sim
        for members, numbers, amount, meta in self.refunds.pop(sim.day, []):
            ts = sim.times(len(members))
            events.add("order", ts, member=members, order=numbers, amount=amount, meta_fixed=meta)
        for members, numbers in self.order_feedback.pop(sim.day, []):
            here = np.isin(members, actors)  # only members still in the group rate
            members, numbers = members[here], numbers[here]
            events.add(
                "feedback",
                sim.times(len(members)),
                member=members,
                amount=self.scores(members),
                meta_kind=META_ORDER,
                meta_arg=numbers,
            )

    def activity(self, events: DayEvents, actors: np.ndarray, life: np.ndarray) -> None:
        """Sign-ups in the days before an activity; attendance and ratings on the day."""
        sim, rng, pop = self.sim, self.sim.rng, self.sim.pop
        for day, number in self.activities.items():
            if not 0 < day - sim.day <= SIGNUP_WINDOW:
                continue
            chance = pop["signup"][actors] * life
            new = actors[rng.random(len(actors)) < chance]
            signed = self.signups.get(day, np.empty(0, np.int64))
            new = new[~np.isin(new, signed)]
            self.signups[day] = np.concatenate([signed, new])
            title = self.texts.ranges["activity"][0] + number % self._n_titles()
            events.add(
                "activity_signup",
                sim.times(len(new)),
                member=new,
                text=title,
                meta_kind=META_ACTIVITY,
                meta_arg=number,
            )
        if sim.day in self.activities:
            self._attend(events, actors, self.activities[sim.day])

    def _n_titles(self) -> int:
        low, high = self.texts.ranges["activity"]
        return high - low

    def _attend(self, events: DayEvents, actors: np.ndarray, number: int) -> None:
        sim, rng = self.sim, self.sim.rng
        signed = self.signups.pop(sim.day, np.empty(0, np.int64))
        come = np.isin(signed, actors) & (rng.random(len(signed)) < sim.profile.attend_prob)
        who = signed[come]
        start = sim.t0 + int(sim.profile.activity_hour * HOUR)
        ts = start + rng.normal(0, 8 * 60e6, len(who)).astype(np.int64)
        events.add("activity_attend", ts, member=who, meta_kind=META_ACTIVITY, meta_arg=number)
        rates = who[rng.random(len(who)) < ACTIVITY_FEEDBACK_SHARE]
        ts = sim.after(np.full(len(rates), start + 2 * HOUR), 40.0)
        rates, ts = rates[ts >= 0], ts[ts >= 0]
        events.add(
            "feedback",
            ts,
            member=rates,
            amount=self.scores(rates),
            meta_kind=META_ACTIVITY,
            meta_arg=number,
        )
