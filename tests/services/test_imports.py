"""Importing into a workspace: counts, idempotency, all-or-nothing, bad input."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shequn.domain.events import Event
from shequn.errors import InputError
from shequn.importers.base import ImportContext
from shequn.importers.source import Source
from shequn.services.imports import import_path
from shequn.store.engine import read_transaction
from shequn.store.schema import events, imports, members
from shequn.workspace import Workspace
from tests.helpers.paths import DATA

CSV = DATA / "canonical" / "events.csv"


def stored(ws: Workspace) -> list[dict]:
    with read_transaction(ws.engine) as conn:
        rows = conn.execute(select(events).order_by(events.c.id)).mappings().all()
    return [dict(r) for r in rows]


def test_canonical_csv_is_stored_exactly(ws: Workspace) -> None:
    result = import_path(ws, CSV)
    assert (result.read, result.added, result.formats) == (8, 8, ("canonical",))
    rows = stored(ws)
    assert [r["type"] for r in rows] == [
        "visit",
        "join",
        "join",
        "message",
        "message",
        "order",
        "order",
        "leave",
    ]
    # 2026-10-01T09:05:00+08:00 is 01:05 UTC = 20727 days * 86400 + 3900 s = 1790816700 s.
    assert rows[1]["ts"] == 1_790_816_700_000_000
    assert rows[1]["channel"] == "公众号" and rows[1]["visitor"] == "v1"
    assert rows[2]["inviter"] == "wx:alice"
    assert rows[4]["reply_to"] == "m1" and rows[4]["text"] == "好的\n第二行"
    assert [r["amount"] for r in rows[5:7]] == ["99.90", "-20"]
    assert rows[0]["member"] is None  # anonymous visit: empty means absent
    assert {r["source"] for r in rows} == {"canonical"}


def test_reimport_adds_nothing(ws: Workspace) -> None:
    import_path(ws, CSV)
    again = import_path(ws, CSV)
    assert (again.read, again.added, again.skipped) == (8, 0, 8)
    assert len(stored(ws)) == 8


def test_overlapping_jsonl_adds_only_new_events(ws: Workspace) -> None:
    import_path(ws, DATA / "canonical" / "events.jsonl")
    result = import_path(ws, CSV)  # shares e1, e2, e6 with the JSONL file
    assert (result.read, result.added) == (8, 5)
    order = next(r for r in stored(ws) if r["source_id"] == "e6")
    assert order["amount"] == "99.90"  # the JSON number kept exactly


def test_members_and_import_batches_are_recorded(ws: Workspace) -> None:
    import_path(ws, CSV)
    with read_transaction(ws.engine) as conn:
        keys = conn.execute(select(members.c.key, members.c.person).order_by(members.c.key)).all()
        batch = conn.execute(select(imports)).mappings().one()
    assert [tuple(k) for k in keys] == [("wx:alice", "wx:alice"), ("wx:bob", "wx:bob")]
    assert (batch["events_read"], batch["events_added"], batch["format"]) == (8, 8, "canonical")


def test_community_override(ws: Workspace) -> None:
    result = import_path(ws, CSV, community="other")
    assert result.communities == ("other",)
    assert {r["community"] for r in stored(ws)} == {"other"}


def _write(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


HEADER = "ts,community,member,type,amount,source_id\n"


@pytest.mark.parametrize(
    ("body", "line", "needle"),
    [
        ("2026-10-01T09:00:00,c,m,join,,a\n", 2, "has no offset"),
        ("2026-10-01T09:00:00Z,c,m,jion,,a\n", 2, "unknown event type 'jion'"),
        ("2026-10-01T09:00:00Z,c,,join,,a\n", 2, "no member"),
        ("2026-10-01T09:00:00Z,c,m,order,,a\n", 2, "an order needs an amount"),
        ("2026-10-01T09:00:00Z,c,m,order,¥12,a\n", 2, "'¥12' is not a decimal"),
        ("2026-10-01T09:00:00Z,c,m,join,,a\nnot a time,c,m,join,,b\n", 3, "not ISO 8601"),
        ("2026-10-01T09:00:00Z,c,m,join,a\n", 2, "5 fields where the header has 6"),
    ],
)
def test_bad_rows_name_the_line_and_store_nothing(
    ws: Workspace, tmp_path: Path, body: str, line: int, needle: str
) -> None:
    import_path(ws, CSV)
    bad = _write(tmp_path / "bad.csv", HEADER + body)
    with pytest.raises(InputError) as caught:
        import_path(ws, bad)
    assert needle in str(caught.value)
    assert caught.value.line == line and caught.value.path == str(bad)
    assert caught.value.hint  # every error says how to fix it
    assert len(stored(ws)) == 8  # what was there is untouched


def test_error_in_a_late_batch_rolls_back_earlier_batches(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shequn.importers import canonical

    monkeypatch.setattr(canonical, "BATCH_ROWS", 2)  # several batches in one import
    good = "".join(f"2026-10-01T09:00:0{i}Z,c,m{i},join,,id{i}\n" for i in range(5))
    bad = _write(tmp_path / "late.csv", HEADER + good + "2026-10-01T09:00:09Z,c,m,nope,,x\n")
    with pytest.raises(InputError, match="unknown event type"):
        import_path(ws, bad)
    assert stored(ws) == []
    with read_transaction(ws.engine) as conn:
        assert conn.execute(select(func.count()).select_from(imports)).scalar() == 0


def test_control_characters_are_removed(ws: Workspace, tmp_path: Path) -> None:
    hostile = _write(
        tmp_path / "h.csv",
        HEADER.replace("source_id", "text,source_id")
        + "2026-10-01T09:00:00Z,c,m,message,,a\x1b[31mred\x07\x9b,x\n",
    )
    import_path(ws, hostile)
    assert stored(ws)[0]["text"] == "a[31mred"


def test_unknown_format_is_named(ws: Workspace, tmp_path: Path) -> None:
    odd = _write(tmp_path / "notes.txt", "just some notes\nnothing to see\n")
    with pytest.raises(InputError) as caught:
        import_path(ws, odd)
    assert "not recognised" in str(caught.value) and "--format" in caught.value.hint


def test_truncated_zip_is_a_clear_error(ws: Workspace, tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("events.csv", CSV.read_text() * 50)
    archive.write_bytes(archive.read_bytes()[:-40])  # cut the central directory
    with pytest.raises(InputError) as caught:
        import_path(ws, archive)
    assert "truncated" in str(caught.value) or "damaged" in str(caught.value)
    assert str(archive) in str(caught.value)


def test_zip_and_folder_of_canonical_files(ws: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a.csv").write_text(CSV.read_text())
    (folder / "b.jsonl").write_text((DATA / "canonical" / "events.jsonl").read_text())
    result = import_path(ws, folder)
    assert (result.read, result.added) == (11, 8)
    archive = tmp_path / "exports.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(folder / "a.csv", "a.csv")
    assert import_path(ws, archive).added == 0


def test_folder_with_an_unrecognised_file_stores_nothing(ws: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a.csv").write_text(CSV.read_text())
    (folder / "z.bin").write_bytes(b"\x00\x01\x02")
    with pytest.raises(InputError) as caught:
        import_path(ws, folder)
    assert "z.bin" in str(caught.value)
    assert stored(ws) == []


def test_gbk_canonical_csv_is_refused_with_the_fix(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes((HEADER + "2026-10-01T09:00:00Z,社群,成员,join,,a\n").encode("gbk"))
    with pytest.raises(InputError) as caught:
        import_path(ws, path, format_name="canonical")
    assert "UTF-8" in caught.value.hint


def test_a_bad_byte_deep_in_a_large_file_is_named(ws: Workspace, tmp_path: Path) -> None:
    rows = "".join(f"2026-10-01T09:00:00Z,c,m{i},join,,id{i}\n" for i in range(5000))
    path = tmp_path / "big.csv"
    path.write_bytes((HEADER + rows).encode() + b"2026-10-01T09:00:00Z,c,\xff\xfe,join,,x\n")
    assert path.stat().st_size > 65536  # past the head that decides the encoding
    with pytest.raises(InputError) as caught:
        import_path(ws, path)
    assert "cannot be read as utf-8" in str(caught.value) and str(path) in str(caught.value)
    assert stored(ws) == []


class _AliasingImporter:
    """Names a member in a system line before it learns their id, like QQ exports."""

    name = "test-alias"
    description = "test importer that reports an alias"

    def sniff(self, source: Source) -> bool:
        return False

    def read(self, source: Source, ctx: ImportContext):  # type: ignore[no-untyped-def]
        at = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
        yield Event(ts=at, community="g", type="join", member="qq:name:张同学", source_id="1")
        yield Event(ts=at, community="g", type="message", member="qq:30001", source_id="2")
        ctx.alias("qq:name:张同学", "qq:30001")


def test_aliases_reported_by_an_importer_become_one_person(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shequn.importers import registry

    monkeypatch.setitem(registry(), "test-alias", _AliasingImporter())
    import_path(ws, _write(tmp_path / "x.txt", "x"), format_name="test-alias")
    with read_transaction(ws.engine) as conn:
        persons = dict(conn.execute(select(members.c.key, members.c.person)).all())
    assert persons == {"qq:name:张同学": "qq:30001", "qq:30001": "qq:30001"}


def test_a_column_mapping_implies_the_orders_format(ws: Workspace) -> None:
    # CDNOW's shape: whitespace-separated, no header, columns named by number; the
    # docs import it without --format.
    mapping = {"member": "1", "ts": "2", "quantity": "3", "amount": "4"}
    path = DATA / "orders" / "cdnow_noheader.txt"
    result = import_path(ws, path, community="cd-shop", mapping=mapping)
    assert (result.formats, result.added) == (("orders",), 3)
    assert [(e["member"], e["type"]) for e in stored(ws)] == [
        ("order:00101", "order"),
        ("order:00102", "order"),
        ("order:00101", "order"),
    ]


def test_a_column_mapping_with_another_format_is_refused(ws: Workspace) -> None:
    with pytest.raises(InputError, match="--map is for orders files, not whatsapp"):
        import_path(ws, CSV, format_name="whatsapp", mapping={"member": "1"})


def test_a_qq_member_who_joined_before_posting_is_one_person(ws: Workspace) -> None:
    import_path(ws, DATA / "qq" / "join_before_first_message.txt")
    with read_transaction(ws.engine) as conn:
        persons = dict(conn.execute(select(members.c.key, members.c.person)).all())
    assert persons["qq:name:张小凡"] == "qq:12345678"
    # 张小凡, 阿花 and 李四: three people, the join and the messages one of them.
    assert len(set(persons.values())) == 3


def test_slack_bots_are_stored_but_are_no_members(ws: Workspace) -> None:
    import_path(ws, DATA / "slack" / "export")
    with read_transaction(ws.engine) as conn:
        keys = set(conn.execute(select(members.c.key)).scalars())
    assert keys == {"slack:U01ALICE", "slack:U02BOB", "slack:U03CAROL"}
    bots = [e["text"] for e in stored(ws) if e["type"] == "bot_message"]
    assert bots == [
        "Deploy finished",
        "I am a bot user",
        "Build #12 failed\n2 tests failed",
        "Posted by an app",
    ]
