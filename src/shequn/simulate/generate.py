"""The generator: a spec in, frames of FRAME_SCHEMA out, in time order per community."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import numpy as np
import polars as pl

from shequn.simulate.batch import TYPES, Batch, concat, rows, take
from shequn.simulate.engine import CommunitySim
from shequn.simulate.frames import Labels, to_frame
from shequn.simulate.spec import SimulationSpec


def _community_sims(spec: SimulationSpec) -> Iterator[CommunitySim]:
    """One simulator per community that opens within the simulated days."""
    for community in spec.communities:
        offset = 0 if community.start is None else (community.start - spec.start).days
        if spec.days - offset > 0:
            yield CommunitySim(
                community, spec.seed, spec.start + timedelta(offset), spec.days - offset
            )


def _chunks(days: Iterator[Batch], size: int) -> Iterator[Batch]:
    """Day batches regrouped into batches of exactly ``size`` rows (the last smaller)."""
    pending: list[Batch] = []
    held = 0
    for batch in days:
        if not rows(batch):
            continue
        pending.append(batch)
        held += rows(batch)
        if held < size:
            continue
        joined = concat(pending)
        start = 0
        while held - start >= size:
            yield take(joined, start, start + size)
            start += size
        pending = [take(joined, start, held)] if start < held else []
        held -= start
    if held:
        yield concat(pending)


def simulate(spec: SimulationSpec) -> Iterator[pl.DataFrame]:
    """Generate the events of every community of ``spec`` as frames.

    Frames follow `shequn.importers.frame.FRAME_SCHEMA` (``ts`` UTC, ``source`` and
    ``_line`` null, ``source_id`` ``"<seed>:<community>:<n>"``). They come community
    after community, each in time order, at most ``spec.chunk_rows`` rows each. The
    same spec gives identical frames.

    Args:
        spec: what to simulate, including the seed.

    Yields:
        Frames of events.
    """
    for sim in _community_sims(spec):
        labels = Labels(spec.seed, sim.spec, sim.behaviour.texts.series)
        first = 0
        for batch in _chunks(sim.run(), spec.chunk_rows):
            yield to_frame(batch, labels, first)
            first += rows(batch)


def count_events(spec: SimulationSpec) -> dict[str, int]:
    """Events ``simulate(spec)`` would yield, by type, without building any string."""
    counts: Counter[str] = Counter()
    for sim in _community_sims(spec):
        for batch in sim.run():
            codes = np.bincount(batch["type"], minlength=len(TYPES))
            counts.update({TYPES[i]: int(c) for i, c in enumerate(codes) if c})
    return dict(counts)
