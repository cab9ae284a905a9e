"""DiscordChatExporter JSON and CSV: exact events from hand-written exports."""

from __future__ import annotations

import json
import shutil
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

DATA = Path(__file__).parents[1] / "data" / "discord"
CHANNEL = DATA / "channel.json"
DM = DATA / "dm_group.json"
CSV = DATA / "Tea Lovers - General - chat [810000000000000002].csv"
OLD_CSV = DATA / "old_export.csv"

ANN, BEN, CAT, DORA, ELI = (f"discord:90000000000000000{n}" for n in (1, 2, 3, 4, 5))
BOT = "discord:900000000000000009"
CH = "810000000000000002"


def at(hour: int, minute: int, second: float = 0, day: int = 1, month: int = 5) -> datetime:
    whole = int(second)
    micro = round((second - whole) * 1_000_000)
    return datetime(2024, month, day, hour, minute, whole, micro, tzinfo=UTC)


def rows(frame: pl.DataFrame, *columns: str) -> list[tuple]:
    return list(frame.select(columns).iter_rows())


def meta_of(frame: pl.DataFrame) -> list[dict | None]:
    return [None if m is None else json.loads(m) for m in frame["meta"]]


def test_channel_export_gives_joins_messages_and_reactions_in_time_order() -> None:
    frame = read_frame(CHANNEL, "discord")

    msg = f"{CH}:10000000000000000"
    assert rows(frame, "ts", "member", "type", "message_id", "reply_to", "source_id") == [
        (at(8, 0), ANN, "join", None, None, f"{msg}01"),
        (at(8, 1), ANN, "message", "1000000000000000002", None, f"{msg}02"),
        (at(8, 2, 0.5), BEN, "message", "1000000000000000003", None, f"{msg}03"),
        (at(8, 2, 0.5), ANN, "reaction", None, "1000000000000000003", f"{msg}03:r:{ANN[8:]}:👍"),
        (at(8, 2, 0.5), CAT, "reaction", None, "1000000000000000003", f"{msg}03:r:{CAT[8:]}:👍"),
        (at(8, 2, 0.5), ANN, "reaction", None, "1000000000000000003",
         f"{msg}03:r:{ANN[8:]}:1111111111111111111"),
        (at(8, 4), ANN, "message", "1000000000000000004", "1000000000000000003", f"{msg}04"),
        # a bot's messages: kept, but no member's
        (at(8, 5), None, "bot_message", "1000000000000000005", None, f"{msg}05"),
        # 17:00 at +08:00; pins, the thread notice and the call made no events.
        (at(9, 0), DORA, "join", None, None, f"{msg}08"),
        (at(9, 1), None, "bot_message", "1000000000000000009", None, f"{msg}09"),
    ]  # fmt: skip
    assert set(frame["community"]) == {"Tea Lovers #chat"}


def test_names_texts_and_meta() -> None:
    frame = read_frame(CHANNEL, "discord")

    assert rows(frame, "member_name", "text") == [
        ("Ann", None),
        ("Ann", "Hello everyone!"),
        ("ben", "@Ann welcome! Try the oolong"),  # no nickname: the user name
        ("Ann", None),
        ("Cat", None),
        ("Ann", None),
        ("Ann", "thanks! here is my cup"),
        ("TeaBot", "Daily tip: rinse the leaves first"),
        ("Dora 多拉", None),
        ("TeaBot", "Brewing time for oolong: 3 minutes"),
    ]
    assert meta_of(frame) == [
        None,
        None,
        # 3 teacups of which 1 reactor is listed: the other 2 stay as a count.
        {"mentions": [ANN], "reactions": {"teacup": 2}},
        {"emoji": "👍"},
        {"emoji": "👍"},
        {"emoji": "teacup"},
        {"media": "attachment"},
        {"bot": BOT, "reactions": {"❤": 1}},
        None,
        {"bot": BOT},
    ]


def test_group_dm_adds_and_removals() -> None:
    frame = read_frame(DM, "discord")

    assert rows(frame, "ts", "member", "type", "inviter", "inviter_name", "meta") == [
        (at(10, 0, month=6), ELI, "join", ANN, "Ann", None),
        (at(10, 1, month=6), ELI, "message", None, None, None),
        (at(11, 0, month=6), BEN, "leave", None, None, f'{{"removed_by":"{ANN}"}}'),
        (at(12, 0, month=6), ELI, "leave", None, None, None),  # left by themself
    ]
    assert set(frame["community"]) == {"Direct Messages #Tea Trip"}


def test_csv_gives_messages_with_counts_and_joins_in_the_same_community() -> None:
    frame = read_frame(CSV, "discord")

    assert rows(frame, "ts", "member", "type", "member_name", "text") == [
        (at(8, 0), ANN, "join", "Ann", None),
        (at(8, 1), ANN, "message", "Ann", "Hello everyone!"),
        (at(8, 2, 0.5), BEN, "message", "ben", "@Ann welcome! Try the oolong"),
        (at(8, 4), ANN, "message", "Ann", "thanks! here is my cup"),
        # "Pinned a message." and the call notice are skipped.
        (at(8, 10), BEN, "message", "ben", 'first line, with a comma\nsecond "quoted" line'),
        (at(8, 11), ANN, "message", "Ann", "ok"),
        (at(8, 11), ANN, "message", "Ann", "ok"),
    ]
    assert meta_of(frame)[2:4] == [{"reactions": {"👍": 2, "teacup": 3}}, {"media": "attachment"}]
    assert frame["message_id"].is_null().all()
    assert set(frame["community"]) == set(read_frame(CHANNEL, "discord")["community"])


def test_csv_ids_are_stable_unique_and_survive_an_overlapping_export(tmp_path: Path) -> None:
    first = read_frame(CSV, "discord")
    lines = CSV.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    later = tmp_path / CSV.name
    new_row = '"900000000000000003","Cat","2024-05-01T10:00:00.000+00:00","hi","",""\r\n'
    later.write_text(lines[0] + "".join(lines[3:]) + new_row, encoding="utf-8-sig")

    overlap = read_frame(later, "discord")

    assert first["source_id"].is_unique().all()
    assert all(sid.startswith(f"{CH}:") for sid in first["source_id"])
    assert read_frame(CSV, "discord")["source_id"].equals(first["source_id"])
    # Both "ok" rows keep their ids; only Cat's new row is new.
    assert set(first["source_id"][2:]) <= set(overlap["source_id"])
    assert len(set(overlap["source_id"]) - set(first["source_id"])) == 1


def test_old_csv_local_dates_use_the_context_time_zone() -> None:
    shanghai = read_frame(OLD_CSV, "discord")
    berlin = read_frame(OLD_CSV, "discord", ImportContext(timezone=ZoneInfo("Europe/Berlin")))

    assert shanghai["ts"].to_list() == [at(8, 0), at(8, 5)]  # 4:00 PM at +08:00
    assert berlin["ts"].to_list() == [at(14, 0), at(14, 5)]  # 4:00 PM at +02:00
    assert set(shanghai["community"]) == {"old_export"}
    assert shanghai["member_name"].to_list() == ["ann#1234", "ben#5678"]


def test_json_ids_are_the_same_on_reimport() -> None:
    first = read_frame(CHANNEL, "discord")

    assert first["source_id"].is_unique().all()
    assert read_frame(CHANNEL, "discord").equals(first)


def test_community_override_and_a_folder_of_channels(tmp_path: Path) -> None:
    for path in (CHANNEL, DM, CSV):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "avatar.png").write_bytes(b"\x89PNG")

    frame = read_frame(tmp_path, "auto", ImportContext(community="tea"))

    assert set(frame["community"]) == {"tea"}
    assert frame.height == 10 + 4 + 7


@pytest.mark.parametrize("path", [CHANNEL, DM, CSV, OLD_CSV])
def test_sniff(path: Path) -> None:
    source = Source.open(path)
    try:
        assert detect(source).name == "discord"
    finally:
        source.close()


def test_progress_adds_up_to_the_file_sizes(tmp_path: Path) -> None:
    seen: list[int] = []
    read_frame(CHANNEL, "discord", ImportContext(progress=seen.append))
    read_frame(CSV, "discord", ImportContext(progress=seen.append))

    assert sum(seen) == CHANNEL.stat().st_size + CSV.stat().st_size


def test_truncated_json_names_the_file_and_line(tmp_path: Path) -> None:
    data = CHANNEL.read_bytes()
    path = tmp_path / "channel.json"
    path.write_bytes(data[:2000])

    with pytest.raises(InputError) as caught:
        read_frame(path, "discord")

    assert caught.value.path == str(path)
    assert caught.value.line == data[:2000].count(b"\n") + 1
    assert "cut short" in caught.value.message


def test_a_telegram_export_given_as_discord_is_refused() -> None:
    path = Path(__file__).parents[1] / "data" / "telegram" / "single_group.json"
    with pytest.raises(InputError) as caught:
        read_frame(path, "discord")

    assert caught.value.path == str(path)
    assert caught.value.field == "messages[0].id"
    assert "does not match the DiscordChatExporter JSON format" in caught.value.message
    assert "--format telegram" in caught.value.hint


def test_a_json_file_of_another_shape_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"users": [{"id": 1}]}')

    with pytest.raises(InputError) as caught:
        read_frame(path, "discord")

    assert "not a DiscordChatExporter JSON export" in caught.value.message
    assert "DiscordChatExporter" in caught.value.hint


def test_a_message_without_timestamp_is_named(tmp_path: Path) -> None:
    export = json.loads(CHANNEL.read_text(encoding="utf-8"))
    del export["messages"][2]["timestamp"]
    path = tmp_path / "channel.json"
    path.write_text(json.dumps(export, indent=2, ensure_ascii=False), encoding="utf-8")

    with pytest.raises(InputError) as caught:
        read_frame(path, "discord")

    assert caught.value.field == "messages[2].timestamp"
    assert "message 1000000000000000003: no timestamp" in caught.value.message
    line = path.read_text(encoding="utf-8").splitlines()[caught.value.line - 1]
    assert '"id": "1000000000000000003"' in line


def test_a_wrong_type_names_the_field(tmp_path: Path) -> None:
    export = json.loads(CHANNEL.read_text(encoding="utf-8"))
    export["messages"][1]["reactions"] = "lots"
    path = tmp_path / "channel.json"
    path.write_text(json.dumps(export), encoding="utf-8")

    with pytest.raises(InputError) as caught:
        read_frame(path, "discord")

    assert caught.value.field == "messages[1].reactions"


@pytest.mark.parametrize(
    ("row", "line", "field", "problem"),
    [
        ('"1","Ann","yesterday","hi","",""', 3, "Date", "'yesterday' is not a date"),
        ('"1","Ann","2024-05-01T08:00:00+00:00","hi"', 3, "", "4 fields where the header has 6"),
        ('"","Ann","2024-05-01T08:00:00+00:00","hi","",""', 3, "AuthorID", "no AuthorID"),
    ],
)
def test_bad_csv_rows_are_named(
    tmp_path: Path, row: str, line: int, field: str, problem: str
) -> None:
    path = tmp_path / "export.csv"
    good = '"2","Bo","2024-05-01T07:00:00+00:00","multi\nline","",""'
    path.write_text(f"AuthorID,Author,Date,Content,Attachments,Reactions\n{good}\n{row}\n")

    with pytest.raises(InputError) as caught:
        read_frame(path, "discord")

    assert (caught.value.line, caught.value.field) == (line + 1, field)
    assert problem in caught.value.message


def test_a_csv_with_another_header_given_as_discord_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("ts,type,member\n2024-05-01T08:00:00Z,message,a\n")

    with pytest.raises(InputError) as caught:
        read_frame(path, "discord")

    assert caught.value.line == 1
    assert "AuthorID,Author,Date,Content,Attachments,Reactions" in caught.value.hint
