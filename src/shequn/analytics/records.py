"""The SOP engine's records about members, kept in the copy's table `member_records`.

Points, tags, tiers, lifecycle states and churn-risk bands are SOP events (source
"sop", shequn.sop.journal) that move no metric, so they never enter `events`. Member
profiles read all of them at every refresh (shequn.members.recorded): kept here, they
arrive with the sync's other new events instead of being read again from the store.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

RECORD_TYPES: tuple[str, ...] = (
    "points_added",
    "tag_added",
    "tag_removed",
    "tier_changed",
    "state_changed",
    "churn_risk_crossed",
)
_TYPES = ", ".join(f"'{t}'" for t in RECORD_TYPES)
# Columns computed as the store is read (shequn.analytics.copy.COMPUTED): whether an
# event is a record, and its text (NULL for every other event: no message text is read).
IS_RECORD = f"source = 'sop' AND type IN ({_TYPES})"
COMPUTED: dict[str, str] = {
    "record": f"CASE WHEN {IS_RECORD} THEN 'y' END",
    "note": f"CASE WHEN {IS_RECORD} THEN text END",
}
DDL = """CREATE TABLE IF NOT EXISTS member_records (
    id BIGINT NOT NULL, ts BIGINT NOT NULL, member VARCHAR NOT NULL, type VARCHAR NOT NULL,
    text VARCHAR, amount {amount})"""


def records_of(batch: pa.Table) -> pa.Table:
    """The batch's records of members (id, ts, member, type, text, amount)."""
    if "record" not in batch.column_names or batch.num_rows == 0:
        return _NO_RECORDS
    found = pc.and_(pc.is_valid(batch["record"]), pc.is_valid(batch["member"]))
    if not pc.any(found).as_py():
        return _NO_RECORDS
    kept = batch.filter(found)
    return pa.table(
        {
            "id": kept["id"],
            "ts": kept["ts"],
            "member": kept["member"].cast(pa.string()),
            "type": kept["type"].cast(pa.string()),
            "text": kept["note"].cast(pa.string()),
            "amount": kept["amount"].cast(pa.string()),
        }
    )


def merge_records(con: duckdb.DuckDBPyConnection, amount: str) -> None:
    """Append the registered `record_rows` (the caller holds the transaction)."""
    con.execute(
        f"""INSERT INTO member_records SELECT id, ts, member, type, text,
            CAST(amount AS {amount}) FROM record_rows"""
    )


# Built from the schema alone: pyarrow checks a Python list (`pa.array([])`) against
# pandas' types, importing pandas (~0.2 s) into every process that imports this module.
_NO_RECORDS = pa.Table.from_batches(
    [],
    schema=pa.schema(
        [
            ("id", pa.int64()),
            ("ts", pa.int64()),
            ("member", pa.string()),
            ("type", pa.string()),
            ("text", pa.string()),
            ("amount", pa.string()),
        ]
    ),
)
