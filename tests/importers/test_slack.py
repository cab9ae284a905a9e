"""The Slack export importer, on hand-written exports in tests/data/slack."""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from shequn.errors import InputError
from shequn.importers import detect
from shequn.importers.base import ImportContext
from shequn.importers.pipeline import read_frame
from shequn.importers.slack import IMPORTER
from shequn.importers.source import Source

DATA = Path(__file__).parent.parent / "data" / "slack"
EXPORT = DATA / "export"


def at(seconds: int, micros: int = 0) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)


def rows(frame: pl.DataFrame, *columns: str) -> list[tuple]:
    return list(frame.select(columns).iter_rows())


def by_id(frame: pl.DataFrame, source_id: str) -> dict:
    return frame.filter(pl.col("source_id") == source_id).row(0, named=True)


@pytest.fixture(scope="module")
def export() -> pl.DataFrame:
    return read_frame(EXPORT, "slack")


def test_every_event_of_the_export(export: pl.DataFrame) -> None:
    parent = "1709280180.000400"
    assert rows(export, "ts", "community", "type", "member", "inviter", "reply_to", "text") == [
        (at(1709280000, 100), "#general", "join", "slack:U01ALICE", None, None, None),
        (at(1709280060, 200), "#general", "join", "slack:U02BOB", "slack:U01ALICE", None, None),
        # the topic change is skipped
        (
            at(1709280180, 400),
            "#general",
            "message",
            "slack:U01ALICE",
            None,
            None,
            "Hello <@U02BOB> and <@U03CAROL|carol>, see <!here>",
        ),
        (at(1709280180, 400), "#general", "reaction", "slack:U02BOB", None, parent, None),
        (at(1709280180, 400), "#general", "reaction", "slack:U03CAROL", None, parent, None),
        (at(1709280180, 400), "#general", "reaction", "slack:U02BOB", None, parent, None),
        (at(1709280240, 500), "#general", "message", "slack:U02BOB", None, parent, "Thanks!"),
        # a bot's message: kept, but no member's
        (at(1709280300, 600), "#general", "bot_message", None, None, None, "Deploy finished"),
        (at(1709280360, 700), "#general", "message", "slack:U03CAROL", None, None, None),
        # purpose and rename skipped; the next day's file continues the thread
        (at(1709366400, 100), "#general", "message", "slack:U03CAROL", None, parent, "Late reply"),
        (at(1709366460, 200), "#general", "leave", "slack:U03CAROL", None, None, None),
        (at(1709712000, 100), "#mpdm-alice.w--bob-1", "message", "slack:U01ALICE", None, None,
         "group dm"),
        (at(1709280000, 100), "#random", "bot_message", None, None, None, "I am a bot user"),
        (at(1709280001, 500_000), "#random", "message", "slack:U01ALICE", None, None, "short ts"),
        # the bot user's join is skipped; an integration's text is its attachments' fallback
        (at(1709366460, 200), "#random", "bot_message", None, None, None,
         "Build #12 failed\n2 tests failed"),
        (at(1709366520, 300), "#random", "bot_message", None, None, None, "Posted by an app"),
        # a person's reaction to a bot's message counts, the bot user's does not
        (at(1709366520, 300), "#random", "reaction", "slack:U02BOB", None, "1709366520.000300",
         None),
        (at(1709625600, 100), "#staff", "join", "slack:U02BOB", "slack:U01ALICE", None, None),
        (at(1709625660, 200), "#staff", "message", "slack:U02BOB", None, None, "private hello"),
    ]  # fmt: skip


def test_ids_are_channel_and_ts(export: pl.DataFrame) -> None:
    assert rows(export.filter(pl.col("community") == "#general"), "source_id", "message_id") == [
        ("C01GENERAL:1709280000.000100", None),
        ("C01GENERAL:1709280060.000200", None),
        ("C01GENERAL:1709280180.000400", "1709280180.000400"),
        ("C01GENERAL:1709280180.000400:r:U02BOB:tada", None),
        ("C01GENERAL:1709280180.000400:r:U03CAROL:tada", None),
        ("C01GENERAL:1709280180.000400:r:U02BOB:+1", None),
        ("C01GENERAL:1709280240.000500", "1709280240.000500"),
        ("C01GENERAL:1709280300.000600", "1709280300.000600"),
        ("C01GENERAL:1709280360.000700", "1709280360.000700"),
        ("C01GENERAL:1709366400.000100", "1709366400.000100"),
        ("C01GENERAL:1709366460.000200", None),
    ]
    assert by_id(export, "G01STAFF:1709625660.000200")["community"] == "#staff"
    assert by_id(export, "G02MPIM:1709712000.000100")["member"] == "slack:U01ALICE"
    assert export["source_id"].n_unique() == export.height


def test_names_from_users_json(export: pl.DataFrame) -> None:
    people = export.filter(pl.col("member").is_not_null())
    names = dict(rows(people.unique("member", keep="first"), "member", "member_name"))
    # display_name, else real_name, else name; a bot's username
    assert names == {
        "slack:U01ALICE": "alice",
        "slack:U02BOB": "Bob Chen",
        "slack:U03CAROL": "carol",
    }  # bots are no members
    joined = by_id(export, "C01GENERAL:1709280060.000200")
    assert (joined["member_name"], joined["inviter_name"]) == ("Bob Chen", "alice")


def test_message_meta(export: pl.DataFrame) -> None:
    def meta(source_id: str) -> dict | None:
        raw = by_id(export, source_id)["meta"]
        return None if raw is None else json.loads(raw)

    # 3 people gave +1 but Slack listed one: the two others stay a count on the message
    assert meta("C01GENERAL:1709280180.000400") == {
        "mentions": ["slack:U02BOB", "slack:U03CAROL"],
        "reply_count": 2,
        "reactions": {"+1": 2},
    }
    assert meta("C01GENERAL:1709280180.000400:r:U03CAROL:tada") == {"emoji": "tada"}
    # the bot's id stays on its messages, and its name beside
    assert meta("C01GENERAL:1709280300.000600") == {"bot": "slack:B01DEPLOY"}
    assert meta("C02RANDOM:1709280000.000100") == {"bot": "slack:U04HELPER"}
    assert meta("C02RANDOM:1709366460.000200") == {"bot": "slack:B02ALERTS"}
    assert by_id(export, "C02RANDOM:1709366460.000200")["member_name"] == "alerts"
    assert meta("C01GENERAL:1709280360.000700") == {"media": "image"}
    assert meta("C01GENERAL:1709280240.000500") is None


def test_zip_with_a_root_folder_reads_like_the_folder(export: pl.DataFrame, tmp_path: Path) -> None:
    archive = tmp_path / "Acme Slack export Mar 1 2024.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(EXPORT.rglob("*.json")):
            zf.write(path, "Acme Slack export/" + path.relative_to(EXPORT).as_posix())
    source = Source.open(archive)
    try:
        assert detect(source) is IMPORTER
    finally:
        source.close()
    assert read_frame(archive).equals(export)


def test_importing_twice_gives_the_same_ids(export: pl.DataFrame, tmp_path: Path) -> None:
    again = read_frame(EXPORT, "slack")
    assert again["source_id"].to_list() == export["source_id"].to_list()
    # A later export holding one more day keeps the ids of the days both hold.
    later = tmp_path / "later"
    shutil.copytree(EXPORT, later)
    (later / "general" / "2024-03-03.json").write_text(
        json.dumps([{"type": "message", "ts": "1709452800.000100", "user": "U02BOB", "text": "x"}])
    )
    ids = set(read_frame(later, "slack")["source_id"])
    assert set(export["source_id"]) < ids
    assert ids - set(export["source_id"]) == {"C01GENERAL:1709452800.000100"}


def test_direct_messages_are_not_communities(tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(DATA / "no_users", export)
    (export / "dms.json").write_text('[{"id": "D01ALICEBOB", "members": ["U01ALICE", "U02BOB"]}]')
    (export / "D01ALICEBOB").mkdir()
    (export / "D01ALICEBOB" / "2024-01-01.json").write_text(
        '[{"type": "message", "ts": "1704067300.000100", "user": "U01ALICE", "text": "psst"}]'
    )
    assert read_frame(export, "slack")["text"].to_list() == ["no directory", "no profile either"]


def test_without_users_json_members_keep_ids() -> None:
    frame = read_frame(DATA / "no_users", "slack")
    assert rows(frame, "community", "member", "member_name", "text") == [
        ("#only", "slack:U01ALICE", "alice", "no directory"),  # from the message's user_profile
        ("#only", "slack:U02BOB", None, "no profile either"),
    ]


def test_community_override_needs_a_single_channel() -> None:
    with pytest.raises(
        InputError, match=r"4 channels \(#general, #mpdm-alice.w--bob-1, #random, #staff\)"
    ) as caught:
        read_frame(EXPORT, "slack", ImportContext(community="club"))
    assert caught.value.field == "--community"
    assert "omit --community" in caught.value.hint
    single = read_frame(DATA / "no_users", "slack", ImportContext(community="club"))
    assert single["community"].to_list() == ["club", "club"]


def test_malformed_day_file_names_file_and_line() -> None:
    with pytest.raises(InputError, match="not valid JSON") as caught:
        read_frame(DATA / "bad_day", "slack")
    assert caught.value.path.endswith("bad_day/bad/2024-01-01.json")
    assert caught.value.line == 7  # the trailing comma closes on line 7


@pytest.mark.parametrize(
    ("content", "message", "field"),
    [
        ('{"type": "message"}', "list of objects", ""),
        ('[{"type": "message", "ts": "yesterday", "user": "U1"}]', "not Slack's epoch", "[0].ts"),
        ('[{"type": "message", "user": "U1", "text": "no ts"}]', "not Slack's epoch", "[0].ts"),
        ('[{"ts": "999999999999999.1", "user": "U1"}]', "not Slack's epoch", "[0].ts"),
        (
            '[{"ts": "1.0", "user": "U1", "reactions": [{"users": ["U2"]}]}]',
            "without a name",
            "[0].reactions",
        ),
    ],
)
def test_bad_messages_are_named(tmp_path: Path, content: str, message: str, field: str) -> None:
    (tmp_path / "channels.json").write_text('[{"id": "C1", "name": "x"}]')
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "2024-01-01.json").write_text(content)
    with pytest.raises(InputError, match=message) as caught:
        read_frame(tmp_path, "slack")
    assert caught.value.path.endswith("x/2024-01-01.json")
    assert caught.value.field == field


def test_sniff(tmp_path: Path) -> None:
    assert IMPORTER.sniff(Source.open(EXPORT))
    assert IMPORTER.sniff(Source.open(DATA / "no_users"))
    assert not IMPORTER.sniff(Source.open(EXPORT / "users.json"))  # a file, not an export
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "channels.json").write_text("[]")  # two levels down
    assert not IMPORTER.sniff(Source.open(tmp_path))
    with pytest.raises(InputError, match="not a Slack export"):
        read_frame(tmp_path, "slack")


def test_progress_adds_up_to_the_bytes_read() -> None:
    seen: list[int] = []
    source = Source.open(EXPORT)
    events = list(IMPORTER.read(source, ImportContext(progress=seen.append)))
    assert len(events) == 19
    assert all(n > 0 for n in seen)
    assert sum(seen) == source.total_size()
