"""WhatsApp exports: exact events from hand-written Android and iOS exports."""

from __future__ import annotations

import codecs
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
from shequn.importers.pipeline import frames, read_frame
from shequn.importers.source import Source
from shequn.importers.whatsapp import IMPORTER, WhatsAppImporter
from shequn.importers.whatsapp.header import detect_shape, infer_order
from shequn.importers.whatsapp.ids import digest
from shequn.importers.whatsapp.system import SystemEvent, classify, normalize_name, split_sender

DATA = Path(__file__).parents[1] / "data" / "whatsapp"
BOOK = DATA / "WhatsApp Chat with Book Club.txt"
IOS = DATA / "ios_chat.txt"
IN_UTC = ImportContext(timezone=UTC)


def at(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def rows(frame: pl.DataFrame, *columns: str) -> list[tuple]:
    return list(frame.select(columns).iter_rows())


def read(path: Path, ctx: ImportContext = IN_UTC, chunk_bytes: int | None = None) -> pl.DataFrame:
    """Every event, through the pipeline's validation, optionally in tiny chunks."""
    importer = WhatsAppImporter(chunk_bytes) if chunk_bytes else IMPORTER
    source = Source.open(path)
    try:
        return pl.concat(list(frames(importer.read(source, ctx), str(path))))
    finally:
        source.close()


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_android_export_every_line_kind() -> None:
    frame = read_frame(BOOK, "whatsapp", IN_UTC)
    mei = "whatsapp:Mei Lin"
    assert set(frame["community"]) == {"Book Club"}
    assert rows(frame, "_line", "type", "member", "inviter", "channel", "text", "meta") == [
        (3, "join", "whatsapp:Omar Haddad", mei, None, None, None),
        (4, "join", "whatsapp:Priya Nair", mei, None, None, None),
        (4, "join", "whatsapp:Jonas Berg", mei, None, None, None),
        (5, "join", "whatsapp:Ana Souza", mei, None, None, None),
        (5, "join", "whatsapp:Tom Reed", mei, None, None, None),
        (5, "join", "whatsapp:+44 7700 900123", mei, None, None, None),
        (6, "message", mei, None, None, 'Welcome everyone! First book: "Dune"', None),
        (
            7,
            "message",
            "whatsapp:Omar Haddad",
            None,
            None,
            "Thanks Mei\nWhich edition?\n\nPaperback is fine?",
            None,
        ),
        (11, "message", "whatsapp:Priya Nair", None, None, "ok", None),
        (12, "message", "whatsapp:Priya Nair", None, None, "ok", None),
        (13, "message", "whatsapp:Jonas Berg", None, None, "<Media omitted>", '{"media": true}'),
        (14, "message", "whatsapp:Tom Reed", None, None, "This message was deleted", None),
        (15, "join", "whatsapp:Lea Wong", None, "invite_link", None, None),
        (
            17,
            "message",
            mei,
            None,
            None,
            "@\u2068Lea Wong\u2069 welcome! Mail me at mei@example.org",
            '{"mentions": ["whatsapp:Lea Wong"]}',
        ),
        (18, "leave", "whatsapp:Tom Reed", None, None, None, None),
        (
            19,
            "leave",
            "whatsapp:+44 7700 900123",
            None,
            None,
            None,
            '{"removed_by": "whatsapp:Mei Lin"}',
        ),
        (21, "join", "whatsapp:You", mei, None, None, None),
        (22, "leave", "whatsapp:You", None, None, None, '{"removed_by": "whatsapp:Mei Lin"}'),
    ]
    # Lines 1, 2, 16 and 20 are noise: encryption, group created, subject, number change.
    assert frame["ts"].to_list()[:7] == [at(2024, 1, 3, 9, 1)] * 3 + [at(2024, 1, 3, 9, 2)] * 3 + [
        at(2024, 1, 3, 9, 5)
    ]
    assert frame.filter(pl.col("_line") == 15)["ts"].item() == at(2024, 1, 13, 18, 30)
    joins = frame.filter(pl.col("type") == "join")
    assert joins["member_name"].to_list()[:2] == ["Omar Haddad", "Priya Nair"]
    assert set(joins["inviter_name"].drop_nulls()) == {"Mei Lin"}
    assert frame["source_id"].n_unique() == frame.height


CASES = {
    "us_12h.txt": (
        ZoneInfo("America/New_York"),
        [
            (at(2023, 12, 25, 2, 15), "Dana Cruz", "Merry Christmas eve!"),
            (at(2023, 12, 25, 4, 59), "Eli Park", "almost midnight"),
            (at(2023, 12, 25, 5, 0), "Dana Cruz", "Merry Christmas 🎄"),
            (at(2023, 12, 25, 17, 30), "Eli Park", "lunch time"),
            (at(2024, 1, 2, 13, 5), "Dana Cruz", "back to work"),
        ],
    ),
    "spanish_12h.txt": (
        UTC,
        [
            (at(2020, 6, 20, 0, 8), "Lucía Gómez", "¿Alguien despierto?"),
            (at(2020, 6, 20, 12, 10), "Mateo Ruiz", "Buenas tardes"),
            (at(2020, 6, 20, 22, 1), "Lucía Gómez", "Buenas noches"),
            (at(2020, 6, 21, 11, 25), "Mateo Ruiz", "Hola"),
        ],
    ),
    # The German system line is skipped: only English system texts are read.
    "german_dots.txt": (
        UTC,
        [
            (at(2021, 3, 5, 8, 0), "Klaus Weber", "Guten Morgen"),
            (at(2021, 3, 15, 19, 45), "Sabine Roth", "Hallo zusammen"),
        ],
    ),
    "finnish.txt": (
        ZoneInfo("Europe/Helsinki"),
        [
            (at(2018, 6, 13, 18, 25, 15), "Aino Virtanen", "Hei kaikki"),
            (at(2018, 6, 13, 18, 26, 2), "Eero Laine", "Moi!"),
            (at(2018, 6, 14, 4, 5), "Aino Virtanen", "Huomenta"),
        ],
    ),
    "dashes.txt": (
        UTC,
        [
            (at(2024, 12, 10, 14, 30), "Ravi Shah", "hello"),
            (at(2024, 12, 10, 14, 31), "Sara Kim", "hi Ravi"),
            (at(2024, 12, 28, 9, 0), "Ravi Shah", "year end meetup?"),
        ],
    ),
    "year_first.txt": (
        UTC,
        [
            (at(2024, 12, 10, 14, 30), "Ravi Shah", "hello"),
            (at(2024, 12, 11, 8, 0), "Sara Kim", "morning"),
        ],
    ),
    "ios_us_12h.txt": (
        UTC,
        [
            (at(2024, 1, 15, 9, 5, 10), "Gus Lee", "morning"),
            (at(2024, 1, 15, 12, 0), "Hana Sato", "noon"),
            (at(2024, 1, 16, 0, 30), "Gus Lee", "past midnight"),
        ],
    ),
    # Day/month order from which order keeps the dates non-decreasing.
    "ambiguous_dmy.txt": (
        UTC,
        [
            (at(2024, 2, 1, 10, 0), "Ivy Chen", "first of February"),
            (at(2024, 2, 5, 10, 0), "Kai Moss", "fifth"),
            (at(2024, 2, 11, 10, 0), "Ivy Chen", "eleventh"),
            (at(2024, 3, 2, 10, 0), "Kai Moss", "second of March"),
        ],
    ),
    "ambiguous_mdy.txt": (
        UTC,
        [
            (at(2024, 2, 1, 10, 0), "Ivy Chen", "first of February"),
            (at(2024, 2, 5, 10, 0), "Kai Moss", "fifth"),
            (at(2024, 2, 11, 10, 0), "Ivy Chen", "eleventh"),
            (at(2024, 3, 2, 10, 0), "Kai Moss", "second of March"),
        ],
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_header_variants(name: str) -> None:
    zone, expected = CASES[name]
    frame = read_frame(DATA / name, "whatsapp", ImportContext(timezone=zone))
    assert rows(frame, "ts", "member_name", "text") == expected
    assert set(frame["type"]) == {"message"}
    assert set(frame["member"]) == {f"whatsapp:{name}" for _, name, _ in expected}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("[20.06.19, 15:58:47] Loris: hi", at(2019, 6, 20, 15, 58, 47)),
        ("[06/20/19 15:58] Loris: hi", at(2019, 6, 20, 15, 58)),
        ("20.06.19, 15:58 - Loris: hi", at(2019, 6, 20, 15, 58)),
        ("6/20/19, 3:58 pm - Loris: hi", at(2019, 6, 20, 15, 58)),
        ("\u200e[20/06/2019, 15:58:47] Loris: hi", at(2019, 6, 20, 15, 58, 47)),
    ],
)
def test_more_header_shapes(tmp_path: Path, line: str, expected: datetime) -> None:
    frame = read_frame(write(tmp_path / "chat.txt", line + "\n"), "whatsapp", IN_UTC)
    assert rows(frame, "ts", "member", "text") == [(expected, "whatsapp:Loris", "hi")]


def test_media_placeholders(tmp_path: Path) -> None:
    texts = [
        "<Media omitted>",
        "IMG-20240113-WA0001.jpg (file attached)",
        "sticker omitted",
        "Budget.pdf • 3 pages document omitted",
        "I omitted nothing :)",
        "(see attached)",
    ]
    lines = "".join(f"13/01/24, 09:0{i} - Mei: {text}\n" for i, text in enumerate(texts))
    frame = read_frame(write(tmp_path / "chat.txt", lines), "whatsapp", IN_UTC)
    media = '{"media": true}'
    assert rows(frame, "text", "meta") == list(
        zip(texts, [media, media, media, media, None, None], strict=True)
    )


def test_text_starting_on_the_next_line(tmp_path: Path) -> None:
    path = write(tmp_path / "chat.txt", "13/01/24, 09:05 - Mei:\nshopping list\n- milk\n\n")
    frame = read_frame(path, "whatsapp", IN_UTC)
    assert rows(frame, "member", "text") == [("whatsapp:Mei", "shopping list\n- milk")]


def test_a_single_ambiguous_date_follows_the_clock(tmp_path: Path) -> None:
    day_first = write(tmp_path / "a.txt", "05/06/24, 10:00 - Ivy: hi\n")
    month_first = write(tmp_path / "b.txt", "05/06/24, 10:00 AM - Ivy: hi\n")
    assert read_frame(day_first, "whatsapp", IN_UTC)["ts"].item() == at(2024, 6, 5, 10, 0)
    assert read_frame(month_first, "whatsapp", IN_UTC)["ts"].item() == at(2024, 5, 6, 10, 0)


def test_day_month_order_is_decided_by_a_field_above_twelve() -> None:
    shape = detect_shape("01/02/24, 10:00 - A: x")
    assert shape is not None
    assert infer_order(["01/02/24", "13/02/24"], shape, "f") == "dmy"
    assert infer_order(["03/02/24", "02/13/24"], shape, "f") == "mdy"
    with pytest.raises(InputError, match="mixes date formats"):
        infer_order(["13/02/24", "02/13/24"], shape, "f")


def ios_zip(tmp_path: Path) -> Path:
    path = tmp_path / "WhatsApp Chat - Hiking Club.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(IOS, "_chat.txt")
        archive.writestr("00000012-PHOTO-2024-01-05-10-00-00.jpg", b"\xff\xd8\xff")
    return path


def test_ios_zip_with_marks_and_sender_prefixes(tmp_path: Path) -> None:
    path = ios_zip(tmp_path)
    source = Source.open(path)
    assert detect(source) is IMPORTER
    source.close()
    frame = read_frame(path, "auto", IN_UTC)
    anna, ben = "whatsapp:Anna Berg", "whatsapp:Ben Ode"
    assert set(frame["community"]) == {"Hiking Club"}
    assert rows(frame, "_line", "ts", "type", "member", "inviter", "channel", "text", "meta") == [
        (3, at(2024, 1, 5, 9, 58, 1), "join", "whatsapp:You", None, "invite_link", None, None),
        (4, at(2024, 1, 5, 9, 59, 10), "join", ben, None, "invite_link", None, None),
        (
            5,
            at(2024, 1, 5, 10, 0),
            "message",
            anna,
            None,
            None,
            "<attached: 00000012-PHOTO-2024-01-05-10-00-00.jpg>",
            '{"media": true}',
        ),
        (
            6,
            at(2024, 1, 5, 10, 0, 5),
            "message",
            anna,
            None,
            None,
            "image omitted",
            '{"media": true}',
        ),
        (
            7,
            at(2024, 1, 5, 10, 1),
            "message",
            ben,
            None,
            None,
            "Saturday 8:00 at the station?\nBring water.",
            None,
        ),
        (
            9,
            at(2024, 1, 5, 10, 2),
            "message",
            "whatsapp:Carla Diaz",
            None,
            None,
            "Ben left early last time 😅",
            None,
        ),
        # A member typing a system-like text is a message, not a leave.
        (
            10,
            at(2024, 1, 5, 10, 3),
            "message",
            "whatsapp:Carla Diaz",
            None,
            None,
            "Ben Ode left",
            None,
        ),
        (11, at(2024, 1, 5, 10, 4), "join", "whatsapp:Carla Diaz", anna, None, None, None),
        (12, at(2024, 1, 6, 18, 0), "leave", ben, None, None, None, None),
        (
            13,
            at(2024, 1, 6, 18, 5),
            "leave",
            "whatsapp:Dev Rao",
            None,
            None,
            None,
            '{"removed_by": "whatsapp:Anna Berg"}',
        ),
    ]
    assert set(frame["member_name"]) == {"You", "Ben Ode", "Anna Berg", "Carla Diaz", "Dev Rao"}


def test_folder_and_unzipped_chat_take_the_folder_name(tmp_path: Path) -> None:
    folder = tmp_path / "WhatsApp Chat - Hiking Club"
    folder.mkdir()
    (folder / "_chat.txt").write_bytes(IOS.read_bytes())
    assert set(read_frame(folder, "auto", IN_UTC)["community"]) == {"Hiking Club"}
    assert set(read_frame(folder / "_chat.txt", "auto", IN_UTC)["community"]) == {"Hiking Club"}
    ctx = ImportContext(community="hikers", timezone=UTC)
    assert set(read_frame(folder, "whatsapp", ctx)["community"]) == {"hikers"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Anna added Ben", [SystemEvent("join", "Ben", inviter="Anna")]),
        (
            "Anna added Ben, Cy, and Di",
            [SystemEvent("join", n, inviter="Anna") for n in ("Ben", "Cy", "Di")],
        ),
        ("You added ~\u202fBen", [SystemEvent("join", "Ben", inviter="You")]),
        ("Anna added you", [SystemEvent("join", "You", inviter="Anna")]),
        ("You were added", [SystemEvent("join", "You")]),
        ("Anna removed Ben", [SystemEvent("leave", "Ben", removed_by="Anna")]),
        ("Ben left", [SystemEvent("leave", "Ben")]),
        (
            "Ben joined using this group's invite link",
            [SystemEvent("join", "Ben", channel="invite_link")],
        ),
        (
            "Group: \u200eYou joined using this group's invite link",
            [SystemEvent("join", "You", channel="invite_link")],
        ),
        (
            "~\u202fBen: ~\u202fBen joined using this group's invite link",
            [SystemEvent("join", "Ben", channel="invite_link")],
        ),
        ("Group: Anna added Ben", [SystemEvent("join", "Ben", inviter="Anna")]),
        ("Cy: \u200eAnna removed Ben", [SystemEvent("leave", "Ben", removed_by="Anna")]),
        ('Anna created group "Trips: 2024"', []),
        ('Anna changed the subject from "A" to "B: C"', []),
        ('Anna changed the subject to "Ben added Cy"', []),
        ("Anna changed the group description", []),
        ("Anna changed this group's icon", []),
        ("+1 555 0100 changed to +1 555 0199", []),
        ("Anna's security code changed. Tap for more info.", []),
        ("Messages and calls are end-to-end encrypted. Tap to learn more.", []),
        ("Anna hat Ben hinzugefügt", []),
        # Messages that look like system lines stay messages.
        ("Cy: Anna added Ben", None),
        ("Cy: I left my keys", None),
        ("Cy: Ben left", None),
        ("Cy: I changed this group's icon", None),
        ("Cy: \u200eimage omitted", None),
    ],
)
def test_system_lines(body: str, expected: list[SystemEvent] | None) -> None:
    assert classify(body, "Group") == expected


def test_names_lose_marks_tilde_and_narrow_spaces() -> None:
    assert normalize_name("\u200e~\u202fBen Ode\u202f") == "Ben Ode"
    assert normalize_name(" \u2068Lea Wong\u2069 ") == "Lea Wong"


def test_same_file_twice_gives_the_same_ids() -> None:
    first, second = read(BOOK), read(BOOK)
    assert first["source_id"].to_list() == second["source_id"].to_list()
    assert first["source_id"].n_unique() == first.height == 18


def test_overlapping_later_export_shares_ids() -> None:
    ctx = ImportContext(community="team", timezone=UTC)
    first = read(DATA / "overlap_first.txt", ctx)
    later = read(DATA / "overlap_later.txt", ctx)
    assert first["source_id"].n_unique() == 6  # "hello" twice and "ok" twice are distinct
    assert first["source_id"].to_list()[2:] == later["source_id"].to_list()[:4]
    assert later["source_id"][4] not in first["source_id"].to_list()


def test_message_id_is_a_hash_of_content_and_occurrence() -> None:
    frame = read(DATA / "overlap_first.txt", ImportContext(community="team", timezone=UTC))
    epoch = int(datetime(2024, 2, 21, 8, 0, tzinfo=UTC).timestamp())
    ids = frame.filter(pl.col("text") == "ok")["source_id"].to_list()
    assert ids == [digest("team", epoch, "whatsapp:Kai Moss", "ok", n) for n in (0, 1)]


def offset_of_line(path: Path, line: int) -> int:
    return sum(len(raw) for raw in path.read_bytes().splitlines(keepends=True)[: line - 1])


def test_chunk_boundaries_change_nothing() -> None:
    whole = read(BOOK)
    sizes = [
        offset_of_line(BOOK, 9),  # inside the multi-line message of lines 7-10
        offset_of_line(BOOK, 13),  # between the two identical "ok" (lines 11, 12)
        97,
        64,
    ]
    for size in sizes:
        chunked = read(BOOK, chunk_bytes=size)
        assert chunked.equals(whole), size
    assert whole.filter(pl.col("_line") == 7)["text"].item().count("\n") == 3


def test_progress_counts_every_byte() -> None:
    seen: list[int] = []
    ctx = ImportContext(timezone=UTC, progress=seen.append)
    source = Source.open(BOOK)
    list(WhatsAppImporter(chunk_bytes=200).read(source, ctx))
    source.close()
    assert sum(seen) == BOOK.stat().st_size
    assert len(seen) > 3


@pytest.mark.parametrize("transform", ["crlf", "bom", "utf16"])
def test_line_ends_and_encodings(tmp_path: Path, transform: str) -> None:
    text = BOOK.read_text(encoding="utf-8")
    path = tmp_path / BOOK.name
    if transform == "crlf":
        path.write_bytes(text.replace("\n", "\r\n").encode())
    elif transform == "bom":
        path.write_bytes(codecs.BOM_UTF8 + text.encode())
    else:
        path.write_bytes(text.encode("utf-16"))
    assert IMPORTER.sniff(Source.open(path))
    expected = read(BOOK).drop("source_id")
    assert read(path, chunk_bytes=300).drop("source_id").equals(expected)
    assert read(path)["source_id"].to_list() == read(BOOK)["source_id"].to_list()


def test_time_zone_gap_and_fold(tmp_path: Path) -> None:
    path = write(
        tmp_path / "dst.txt",
        "31/03/24, 02:30 - Ivy: in the spring gap\n27/10/24, 02:30 - Ivy: twice\n",
    )
    frame = read(path, ImportContext(timezone=ZoneInfo("Europe/Berlin")))
    # The gap reads an hour later (03:30 CEST); the repeated hour takes its first pass.
    assert frame["ts"].to_list() == [at(2024, 3, 31, 1, 30), at(2024, 10, 27, 0, 30)]


def test_no_header_names_the_file_and_the_fix() -> None:
    with pytest.raises(InputError) as caught:
        read_frame(DATA / "no_header.txt", "whatsapp")
    error = str(caught.value)
    assert "no_header.txt:1: no WhatsApp message header" in error
    assert "fix: a WhatsApp export starts each message with its date and time" in error


def test_gbk_file_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "chat.txt",
        "03/01/24, 09:05 - Mei: hello\n03/01/24, 09:06 - 李雷: 你好\n",
        encoding="gbk",
    )
    with pytest.raises(InputError) as caught:
        read_frame(path, "whatsapp")
    error = str(caught.value)
    assert "chat.txt:2: byte 0xc0 is not UTF-8 (it looks like GBK/GB18030" in error
    assert "fix: WhatsApp exports are UTF-8" in error


def test_text_before_the_first_message(tmp_path: Path) -> None:
    path = write(tmp_path / "chat.txt", "\nMy notes\n03/01/24, 09:05 - Mei: hello\n")
    with pytest.raises(InputError, match=r"chat.txt:2: text before the first message: 'My notes'"):
        read_frame(path, "whatsapp")


def test_impossible_date_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "chat.txt", "13/01/24, 09:05 - Mei: hi\n31/02/24, 09:06 - Mei: hi\n")
    with pytest.raises(InputError, match=r"chat.txt:2: the date and time '31/02/24, 09:06'"):
        read_frame(path, "whatsapp")


def test_zip_without_a_chat(tmp_path: Path) -> None:
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.jpg", b"\xff\xd8")
        archive.writestr("b.jpg", b"\xff\xd8")
    source = Source.open(path)
    assert not IMPORTER.sniff(source)
    with pytest.raises(InputError, match="no WhatsApp chat file in this folder or zip"):
        list(IMPORTER.read(source, IN_UTC))
    source.close()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("WhatsApp Chat with Team.txt", "20/02/24, 10:00 - Ivy: hi\n", True),
        ("anything.txt", "\ufeff[20/02/2024, 10:00:00] Ivy: hi\n", True),
        ("notes.txt", "Meeting at 10:00 - bring snacks\n", False),
        ("events.csv", "ts,community,member,type\n", False),
    ],
)
def test_sniff(tmp_path: Path, name: str, content: str, expected: bool) -> None:
    source = Source.open(write(tmp_path / name, content))
    assert IMPORTER.sniff(source) is expected
    source.close()


def test_meta_is_valid_json() -> None:
    metas = read(BOOK)["meta"].drop_nulls().to_list()
    assert [sorted(json.loads(m)) for m in metas] == [
        ["media"],
        ["mentions"],
        ["removed_by"],
        ["removed_by"],
    ]


def test_display_names_holding_a_colon() -> None:
    # "Li Wei: Team Lead" is known from the invite-link line; "Amy:)" and "Psalm 23:1🙏"
    # end at the first ": "; "Li Wei" alone is another person.
    frame = read(DATA / "colon_names_android.txt")
    lead = "whatsapp:Li Wei: Team Lead"
    assert rows(frame, "_line", "type", "member", "inviter", "channel", "text") == [
        (2, "join", lead, None, "invite_link", None),
        (3, "join", "whatsapp:Amy:)", None, "invite_link", None),
        (4, "message", lead, None, None, "Hello all: glad to be here"),
        (5, "message", "whatsapp:Amy:)", None, None, "hi!"),
        (6, "message", "whatsapp:Psalm 23:1🙏", None, None, "Blessings: to everyone"),
        (7, "message", "whatsapp:Li Wei", None, None, "Note: a different person"),
        (8, "join", "whatsapp:Ben", lead, None, None),
        (9, "message", "whatsapp:Ben", None, None, "bye:)"),
        (10, "message", "whatsapp:Ben", None, None, "on the next line"),
        (12, "leave", lead, None, None, None),
    ]


def test_ios_system_lines_with_curly_apostrophes_are_no_messages() -> None:
    ctx = ImportContext(timezone=UTC)
    frame = read(DATA / "WhatsApp Chat - Tea Club.txt", ctx)
    lead = "whatsapp:Li Wei: Team Lead"
    assert rows(frame, "_line", "type", "member", "inviter", "channel", "text") == [
        (3, "join", "whatsapp:You", None, "invite_link", None),
        # admin approval, group settings and "over 256 members" are skipped
        (7, "join", lead, None, None, None),
        (8, "message", lead, None, None, "Hi: all"),
        (9, "message", "whatsapp:Sam Park", None, None, "You deleted this message."),
        (10, "message", "whatsapp:Sam Park", None, None, "hello"),
        (11, "join", "whatsapp:Ben", "whatsapp:You", None, None),
        (13, "leave", "whatsapp:Ben", None, None, None),
    ]
    # Only the exporter's own deleted messages read "You deleted this message".
    assert ctx.aliases == {"whatsapp:You": "whatsapp:Sam Park"}


def test_me_names_the_exporter() -> None:
    ctx = ImportContext(timezone=UTC, me="~ Mei Lin")
    read(BOOK, ctx)
    assert ctx.aliases == {"whatsapp:You": "whatsapp:Mei Lin"}


@pytest.mark.parametrize(
    ("body", "long_names", "expected"),
    [
        ("Amy:): hi", (), ("Amy:)", "hi")),
        ("Psalm 23:1🙏: a: b", (), ("Psalm 23:1🙏", "a: b")),
        ("Li Wei: Team Lead: Lead: x", ("Li Wei: Team Lead",), ("Li Wei: Team Lead", "Lead: x")),
        # the longest known name wins
        ("A: B: C: x", ("A: B", "A: B: C"), ("A: B: C", "x")),
        ("John Doe:.", (), ("John Doe", ".")),
        ("Ben:", (), ("Ben", "")),
        ("Anna added Ben", (), None),
    ],
)
def test_split_sender(body: str, long_names: tuple[str, ...], expected: tuple | None) -> None:
    assert split_sender(body, frozenset(long_names)) == expected
