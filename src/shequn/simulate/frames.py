"""Numeric batches to frames of FRAME_SCHEMA: every string is built here, column-wise."""

from __future__ import annotations

import numpy as np
import polars as pl

from shequn.importers.frame import FRAME_SCHEMA
from shequn.simulate.batch import (
    META_ACTIVITY,
    META_MENTION,
    META_ORDER,
    META_REMOVED_BY,
    TYPES,
    Batch,
)
from shequn.simulate.behaviour import amount_strings, fixed_meta
from shequn.simulate.spec import CommunitySpec
from shequn.simulate.texts import member_names

_TYPE_NAMES = pl.Series("type", TYPES, dtype=pl.String)


class Labels:
    """The strings of one community: keys, names, phrases, fixed meta."""

    def __init__(self, seed: int, spec: CommunitySpec, texts: pl.Series) -> None:
        community = spec.key
        self.seed = seed
        self.community = community
        self.operator = spec.operator_name
        self.channels = pl.Series([c.name for c in spec.channels], dtype=pl.String)
        self.texts = texts
        self.meta = pl.Series(fixed_meta([p.name for p in spec.prices]), dtype=pl.String)
        self.amounts = pl.Series(amount_strings(spec.prices), dtype=pl.String)
        self.names = pl.Series("name", [], dtype=pl.String)
        self.keys = pl.Series("key", [], dtype=pl.String)
        member = f"sim:{community}:"
        # prefix, suffix of meta built from a number, by META_* code.
        parts = {
            META_MENTION: (f'{{"mentions": ["{member}', '"]}'),
            META_REMOVED_BY: (f'{{"removed_by": "{member}', '"}'),
            META_ACTIVITY: (f'{{"activity": "{community}:a', '"}'),
            META_ORDER: (f'{{"order_id": "{community}:o', '"}'),
        }
        self.meta_prefix = pl.Series([parts[k][0] for k in sorted(parts)], dtype=pl.String)
        self.meta_suffix = pl.Series([parts[k][1] for k in sorted(parts)], dtype=pl.String)

    def cover(self, members: int) -> None:
        """Make sure keys and display names exist for members ``0 .. members - 1``.

        Looking strings up per member is many times faster than formatting them per row.
        """
        have = len(self.names)
        if members <= have:
            return
        extra = max(members - have, have, 1024)  # grow geometrically
        names = member_names(self.community, have, extra)
        if have == 0:
            names = names.scatter(0, self.operator)
        self.names = self.names.append(names)
        numbers = pl.int_range(have, have + extra, eager=True).cast(pl.String)
        keys = (f"sim:{self.community}:" + numbers).rename("key")
        self.keys = self.keys.append(keys)


def _lookup(table: pl.Series, codes: np.ndarray) -> pl.Series:
    """``table[code]`` per row, null where the code is -1."""
    index = pl.Series(codes, dtype=pl.Int64)
    return table.gather(index.set(index < 0, None))


def _sparse(values: np.ndarray, prefix: str) -> pl.Series:
    """``prefix + number`` where a number is given (>= 0), else null.

    Most of these columns are mostly null: formatting only the given rows and
    scattering them is several times faster than formatting every row.
    """
    given = np.flatnonzero(values >= 0)
    strings = prefix + pl.Series(values[given], dtype=pl.Int64).cast(pl.String)
    return pl.repeat(None, len(values), dtype=pl.String, eager=True).scatter(given, strings)


def _meta(batch: Batch, labels: Labels) -> pl.Series:
    """Fixed meta strings looked up; the few built from a number formatted sparsely."""
    meta = _lookup(labels.meta, batch["meta_fixed"])
    given = np.flatnonzero(batch["meta_kind"] >= 0)
    if len(given):
        kind = batch["meta_kind"][given].astype(np.int64)
        built = (
            labels.meta_prefix.gather(kind)
            + pl.Series(batch["meta_arg"][given], dtype=pl.Int64).cast(pl.String)
            + labels.meta_suffix.gather(kind)
        )
        meta = meta.scatter(given, built)
    return meta


def to_frame(batch: Batch, labels: Labels, first: int) -> pl.DataFrame:
    """A batch as a frame of FRAME_SCHEMA; events are numbered from ``first``.

    Args:
        batch: time-sorted numeric events of one community.
        labels: the community's strings.
        first: sequence number of the first event (source_id is ``seed:community:n``).
    """
    n = len(batch["ts"])
    labels.cover(int(max(batch["member"].max(initial=0), batch["inviter"].max(initial=0))) + 1)
    community = labels.community
    numbers = pl.int_range(first, first + n, dtype=pl.Int64, eager=True).cast(pl.String)
    columns = {
        "ts": pl.Series(batch["ts"]).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        "community": pl.repeat(community, n, dtype=pl.String, eager=True),
        "member": _lookup(labels.keys, batch["member"]),
        "type": _lookup(_TYPE_NAMES, batch["type"]),
        "channel": _lookup(labels.channels, batch["channel"]),
        "inviter": _lookup(labels.keys, batch["inviter"]),
        "visitor": _sparse(batch["visitor"], f"sim:{community}:v"),
        "message_id": _sparse(batch["msg"], f"{community}:m"),
        "reply_to": _sparse(batch["reply"], f"{community}:m"),
        "content_id": _sparse(batch["content"], f"{community}:c"),
        "order_id": _sparse(batch["order"], f"{community}:o"),
        "amount": _lookup(labels.amounts, batch["amount"]),
        "text": _lookup(labels.texts, batch["text"]),
        "source_id": f"{labels.seed}:{community}:" + numbers,
        "meta": _meta(batch, labels),
        "source": pl.repeat(None, n, dtype=pl.String, eager=True),
        "member_name": _lookup(labels.names, batch["member"]),
        "inviter_name": _lookup(labels.names, batch["inviter"]),
        "_line": pl.repeat(None, n, dtype=pl.Int64, eager=True),
    }
    return pl.DataFrame(
        [series.rename(name) for name, series in columns.items()], schema=FRAME_SCHEMA
    )
