"""Synthetic community histories: a model of community behaviour, not uniform noise.

`simulate` turns a `SimulationSpec` into frames of the canonical event schema
(`shequn.importers.frame.FRAME_SCHEMA`) that metrics and member analysis can work on:
traffic that converts through channels, lurkers who never write and heavy-tailed
activity among the others (a few very active opinion leaders), referral chains during
campaigns, a daily and weekly rhythm, busy and quiet days with bursts on event days,
replies and reactions that concentrate on active members, check-ins, content clicks,
activities, orders with repeat buyers and refunds, fading engagement, members who drift
into silence over weeks before they leave, and rejoins. The same spec and seed always
give the same events. `shequn.simulate.facts` measures the participation figures it is
calibrated to (docs/simulator.md).

Example:
    >>> from shequn.simulate import default_spec, simulate
    >>> spec = default_spec(n_communities=1, days=30, target_events=5_000)
    >>> frames = list(simulate(spec))
"""

from shequn.simulate.defaults import default_spec
from shequn.simulate.generate import count_events, simulate
from shequn.simulate.spec import Campaign, Channel, CommunitySpec, Product, SimulationSpec

__all__ = [
    "Campaign",
    "Channel",
    "CommunitySpec",
    "Product",
    "SimulationSpec",
    "count_events",
    "default_spec",
    "simulate",
]
