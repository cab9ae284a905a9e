"""Telegram Desktop result.json: exact events from hand-written exports."""

from __future__ import annotations

import importlib.util
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from shequn.errors import InputError
from shequn.importers import detect
from shequn.importers.base import ImportContext
from shequn.importers.pipeline import read_frame
from shequn.importers.source import Source

DATA = Path(__file__).parents[1] / "data" / "telegram"
SINGLE = DATA / "single_group.json"
FULL = DATA / "full_export.json"


def utc(hour: int, minute: int, day: int = 1, month: int = 3) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=UTC)


def rows(frame: pl.DataFrame, *columns: str) -> list[tuple]:
    return list(frame.select(columns).iter_rows())


def meta(frame: pl.DataFrame, source_id: str) -> dict | None:
    value = frame.filter(pl.col("source_id") == source_id)["meta"].item()
    return None if value is None else json.loads(value)


def write(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def test_single_chat_gives_every_membership_event_and_message_in_time_order() -> None:
    frame = read_frame(SINGLE, "telegram")

    a, b, d = "telegram:user101", "telegram:user102", "telegram:user104"
    assert rows(frame, "ts", "member", "type", "channel", "inviter", "source_id") == [
        (utc(2, 0), a, "join", None, None, "4400001:1"),
        (utc(2, 0), b, "join", None, a, "4400001:1:1"),
        (utc(2, 0), "telegram:name:Carol", "join", None, a, "4400001:1:2"),
        (utc(2, 1), a, "message", None, None, "4400001:2"),
        (utc(2, 2), b, "message", None, None, "4400001:3"),
        (utc(2, 3), a, "message", None, None, "4400001:4"),
        (utc(2, 5), b, "reaction", None, None, "4400001:4:r:user102:👍"),
        (utc(2, 6), d, "reaction", None, None, "4400001:4:r:user104:👍"),
        (utc(3, 0), d, "join", None, a, "4400001:5:0"),
        (utc(3, 0), "telegram:name:Eve", "join", None, a, "4400001:5:1"),
        (utc(3, 1), d, "message", None, None, "4400001:6"),
        (utc(3, 2), d, "message", None, None, "4400001:7"),
        (utc(4, 0), "telegram:user106", "join", None, None, "4400001:9:0"),
        (utc(4, 1), "telegram:user107", "join", "invite_link", a, "4400001:10"),
        (utc(4, 2), "telegram:user108", "join", "invite_link", None, "4400001:11"),
        (utc(4, 3), "telegram:user109", "join", None, None, "4400001:12"),
        (utc(5, 0), d, "leave", None, None, "4400001:17:0"),
        (utc(5, 1), b, "leave", None, None, "4400001:18:0"),
        (utc(5, 2), "telegram:user106", "message", None, None, "4400001:19"),
        (utc(5, 10), "telegram:user107", "message", None, None, "4400001:20"),
        (utc(5, 20), "telegram:user108", "message", None, None, "4400001:22"),
        (utc(5, 30), "telegram:user109", "message", None, None, "4400001:23"),
    ]
    assert set(frame["community"]) == {"Tea House"}
    # Pins, title edits, migration, topics and unsupported messages make no events.
    assert not frame.filter(pl.col("source_id").is_in(["4400001:13", "4400001:21"])).height


def test_names_in_member_lists_resolve_to_ids_seen_in_the_chat() -> None:
    frame = read_frame(SINGLE, "telegram").filter(type="join")

    assert rows(frame, "member", "member_name", "inviter_name") == [
        ("telegram:user101", "Alice Wang", None),
        # Bob and Dan spoke with an id; Carol and Eve never did, so they keep their name.
        ("telegram:user102", "Bob Li", "Alice Wang"),
        ("telegram:name:Carol", "Carol", "Alice Wang"),
        ("telegram:user104", "Dan Zhou", "Alice Wang"),
        ("telegram:name:Eve", "Eve", "Alice Wang"),
        ("telegram:user106", "Frank Wu", None),
        ("telegram:user107", "Gina", "Alice Wang"),
        ("telegram:user108", "Hank", None),
        ("telegram:user109", "Ivy", None),
    ]


def test_removal_by_someone_else_names_the_remover_and_leaving_does_not() -> None:
    frame = read_frame(SINGLE, "telegram")

    assert meta(frame, "4400001:17:0") == {"removed_by": "telegram:user101"}
    assert meta(frame, "4400001:18:0") is None


def test_messages_keep_text_ids_replies_and_mentions() -> None:
    frame = read_frame(SINGLE, "telegram").filter(type="message")

    assert rows(frame, "message_id", "reply_to", "text", "member_name") == [
        ("2", None, "Welcome to Tea House!", "Alice Wang"),
        ("3", None, "Hi @carol_tea and Alice, see the rules!", "Bob Li"),
        ("4", "3", "Thanks Bob", "Alice Wang"),
        ("6", None, "our tea set", "Dan Zhou"),
        ("7", None, None, "Dan Zhou"),
        ("19", None, "New oolong arrived", "Frank Wu"),
        ("20", None, "我到了，谢谢邀请", "Gina"),
        ("22", None, "hello from an old client", "Hank"),
        ("23", None, "Anyone up for tea?", "Ivy"),
    ]
    assert meta(frame, "4400001:3") == {"mentions": ["@carol_tea", "telegram:user101"]}


def test_media_and_forwards_go_to_meta() -> None:
    frame = read_frame(SINGLE, "telegram")

    assert meta(frame, "4400001:6") == {"media": "photo"}
    assert meta(frame, "4400001:7") == {"media": "sticker"}
    assert meta(frame, "4400001:19") == {"forwarded_from": "Tea News"}
    assert meta(frame, "4400001:2") is None


def test_reactions_with_who_are_events_and_counts_without_who_stay_on_the_message() -> None:
    frame = read_frame(SINGLE, "telegram")

    reactions = frame.filter(type="reaction")
    assert rows(reactions, "member", "member_name", "reply_to", "meta") == [
        ("telegram:user102", "Bob Li", "4", '{"emoji":"👍"}'),
        ("telegram:user104", "Dan Zhou", "4", '{"emoji":"👍"}'),
    ]
    # 3 thumbs up of which 2 reactors are known; the custom emoji has no reactors.
    assert meta(frame, "4400001:4") == {"reactions": {"👍": 1, "custom:5368324170671202286": 2}}
    assert meta(frame, "4400001:23") == {"reactions": {"❤": 4}}


def test_a_message_with_only_a_local_date_is_read_in_the_context_time_zone() -> None:
    berlin = read_frame(SINGLE, "telegram", ImportContext(timezone=ZoneInfo("Europe/Berlin")))
    shanghai = read_frame(SINGLE, "telegram")

    def when(frame: pl.DataFrame, sid: str) -> datetime:
        return frame.filter(source_id=sid)["ts"].item()

    assert when(shanghai, "4400001:20") == utc(5, 10)  # 13:10 at +08:00
    assert when(berlin, "4400001:20") == utc(12, 10)  # 13:10 at +01:00
    # date_unixtime wins wherever it is given.
    assert when(berlin, "4400001:19") == when(shanghai, "4400001:19") == utc(5, 2)


def test_full_export_imports_group_chats_and_left_chats_only() -> None:
    frame = read_frame(FULL, "telegram")

    mia, lin = "telegram:user201", "telegram:user203"
    assert rows(frame, "community", "ts", "member", "type", "inviter", "reply_to", "source_id") == [
        ("Book Club", utc(1, 0, 1, 4), mia, "join", None, None, "5500001:1"),
        ("Book Club", utc(1, 0, 1, 4), "telegram:user202", "join", mia, None, "5500001:1:0"),
        ("Book Club", utc(1, 5, 1, 4), "telegram:user202", "message", None, None, "5500001:2"),
        ("Book Club", utc(1, 6, 1, 4), mia, "message", None, "2", "5500001:3"),
        # Mia is the exporting user: her name resolves to her id in every chat.
        ("Python 中文社区", utc(12, 0, 2, 4), lin, "join", mia, None, "1500000002:1"),
        ("Python 中文社区", utc(12, 1, 2, 4), lin, "message", None, None, "1500000002:2"),
        ("Old Team", utc(10, 0, 30), mia, "message", None, None, "1500000003:1"),
        ("Old Team", utc(10, 1, 30), mia, "leave", None, None, "1500000003:2:0"),
    ]  # fmt: skip
    assert frame["source_id"].is_unique().all()


def test_full_export_with_one_community_for_several_chats_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        read_frame(FULL, "telegram", ImportContext(community="tea"))

    assert caught.value.path == str(FULL)
    assert caught.value.field == "--community"
    assert "3 group chats" in caught.value.message
    assert "omit --community" in caught.value.hint


def test_single_chat_goes_to_the_community_given() -> None:
    frame = read_frame(SINGLE, "telegram", ImportContext(community="tea"))

    assert set(frame["community"]) == {"tea"}
    assert frame.height == 22


def test_reimport_and_a_later_overlapping_export_give_the_same_ids(tmp_path: Path) -> None:
    first = read_frame(SINGLE, "telegram")
    again = read_frame(SINGLE, "telegram")
    export = json.loads(SINGLE.read_text(encoding="utf-8"))
    later = export | {"messages": [*export["messages"][4:], new_message()]}
    overlap = read_frame(write(tmp_path / "result.json", later), "telegram")

    assert first["source_id"].to_list() == again["source_id"].to_list()
    assert first["source_id"].is_unique().all()
    common = set(first["source_id"]) & set(overlap["source_id"])
    assert set(overlap["source_id"]) - common == {"4400001:24"}
    assert (
        first.filter(pl.col("source_id").is_in(common))
        .sort("source_id")
        .equals(overlap.filter(pl.col("source_id").is_in(common)).sort("source_id"))
    )


def new_message() -> dict:
    return {
        "id": 24,
        "type": "message",
        "date_unixtime": "1709272800",
        "from": "Ivy",
        "from_id": "user109",
        "text": "tea at six",
    }


def test_files_without_ids_get_content_ids_that_tell_repeats_apart(tmp_path: Path) -> None:
    said = {"type": "message", "date_unixtime": "1709258400", "from": "Ann", "text": "ok"}
    path = write(tmp_path / "result.json", {"name": "Tiny", "messages": [said, said, said]})

    frame = read_frame(path, "telegram")

    assert frame["member"].to_list() == ["telegram:name:Ann"] * 3
    assert frame["source_id"].is_unique().all()
    assert all(sid.startswith("name:Tiny:") for sid in frame["source_id"])
    assert read_frame(path, "telegram")["source_id"].equals(frame["source_id"])


def test_a_zipped_export_folder_reads_its_result_json(tmp_path: Path) -> None:
    archive = tmp_path / "Telegram Desktop.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(SINGLE, "ChatExport_2024-03-01/result.json")
        out.writestr("ChatExport_2024-03-01/photos/photo_1.jpg", b"\xff\xd8\xff")

    source = Source.open(archive)
    try:
        assert detect(source).name == "telegram"
    finally:
        source.close()
    assert read_frame(archive).equals(read_frame(SINGLE, "telegram"))


def test_a_folder_without_result_json_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing here")

    with pytest.raises(InputError, match=r"no Telegram Desktop result\.json found"):
        read_frame(tmp_path, "telegram")


@pytest.mark.parametrize(
    ("path", "expected"),
    [(SINGLE, True), (FULL, True), (DATA / "not_telegram.json", False)],
)
def test_sniff(path: Path, expected: bool) -> None:
    source = Source.open(path)
    try:
        found = detect(source)
    finally:
        source.close()
    assert (found is not None and found.name == "telegram") is expected


def test_sniff_leaves_canonical_json_lines_and_discord_alone(tmp_path: Path) -> None:
    line = {"ts": "2024-03-01T10:00:00+08:00", "type": "message", "messages": []}
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_text(json.dumps(line) + "\n")
    discord = Path(__file__).parents[1] / "data" / "discord" / "channel.json"
    for path in (jsonl, discord):
        source = Source.open(path)
        try:
            found = detect(source)
        finally:
            source.close()
        assert found is None or found.name != "telegram"


@pytest.mark.parametrize("path", [SINGLE, FULL])
def test_progress_adds_up_to_the_file_size(path: Path) -> None:
    seen: list[int] = []
    read_frame(path, "telegram", ImportContext(progress=seen.append))

    assert sum(seen) == path.stat().st_size
    assert all(n >= 0 for n in seen)


def test_truncated_json_names_the_file_and_where_it_stops() -> None:
    path = DATA / "truncated.json"
    with pytest.raises(InputError) as caught:
        read_frame(path, "telegram")

    assert caught.value.path == str(path)
    assert caught.value.line == 19
    assert f"at byte {path.stat().st_size}" in caught.value.message
    assert "cut short" in caught.value.message


def test_a_json_file_of_another_shape_is_refused_clearly() -> None:
    with pytest.raises(InputError) as caught:
        read_frame(DATA / "not_telegram.json", "telegram")

    assert "not a Telegram Desktop result.json" in caught.value.message
    assert "Export chat history" in caught.value.hint


def test_a_discord_export_given_as_telegram_points_to_the_right_format() -> None:
    path = Path(__file__).parents[1] / "data" / "discord" / "channel.json"
    with pytest.raises(InputError) as caught:
        read_frame(path, "telegram")

    assert "does not match the Telegram Desktop export format" in caught.value.message
    assert caught.value.field == "messages[0].id"
    assert "--format discord" in caught.value.hint


def test_a_json_array_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Expected `object`, got `array`"):
        read_frame(write(tmp_path / "result.json", [1, 2]), "telegram")


def test_a_message_without_date_names_its_line_and_field() -> None:
    path = DATA / "no_date.json"
    with pytest.raises(InputError) as caught:
        read_frame(path, "telegram")

    assert caught.value.path == str(path)
    assert caught.value.line == 16
    assert caught.value.field == "messages[1].date_unixtime"
    assert "message 2: no date" in caught.value.message


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"date_unixtime": "soon"}, "messages[0].date_unixtime", "'soon' is not a number"),
        ({"date_unixtime": None, "date": "1 March"}, "messages[0].date", "not an ISO date"),
        ({"from_id": None, "from": None}, "messages[0].from_id", "no sender"),
        ({"from_id": None, "from": ""}, "messages[0].from_id", "no sender"),
    ],
)
def test_bad_message_fields_are_named(
    tmp_path: Path, change: dict, field: str, problem: str
) -> None:
    message = {"id": 7, "type": "message", "from": "Ann", "from_id": "user1", "text": "hi"}
    message |= {"date": "2024-03-01T10:00:00", "date_unixtime": "1709258400"}
    message = {k: v for k, v in (message | change).items() if v is not None}  # None: absent
    path = write(tmp_path / "result.json", {"name": "T", "id": 1, "messages": [message]})

    with pytest.raises(InputError) as caught:
        read_frame(path, "telegram")

    assert caught.value.field == field
    assert problem in caught.value.message
    assert caught.value.line == 6  # the line of `"id": 7`


def test_the_benchmark_generator_writes_an_export_that_imports_exactly(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "telegram_gen", Path(__file__).parents[2] / "benchmarks" / "telegram_gen.py"
    )
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    path = gen.write_export(tmp_path / "result.json", 400, seed=3)
    messages = json.loads(path.read_text(encoding="utf-8"))["messages"]

    frame = read_frame(path, "telegram")

    said = [m for m in messages if m["type"] == "message"]
    reactors = sum(len(r["recent"]) for m in said for r in m.get("reactions", ()))
    assert frame.filter(type="message").height == len(said)
    assert frame.filter(type="reaction").height == reactors
    assert frame.filter(type="message")["message_id"].to_list() == [str(m["id"]) for m in said]
