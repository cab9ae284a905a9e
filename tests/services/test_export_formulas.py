"""`export events` CSV cells never run as spreadsheet formulas, and still import back."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from openpyxl import Workbook, load_workbook

from shequn.export.events import export_events
from shequn.reports.tables import Cell, Table
from shequn.reports.xlsx import _fill
from shequn.services.imports import import_path
from shequn.services.workspace import init_workspace
from shequn.store.engine import read_transaction
from shequn.workspace import Workspace

TEXTS = ["=1+2", '=HYPERLINK("http://x.example","click")', "@SUM(A1)", "+86 139", "'=quoted", "ok"]


def _events(ws: Workspace) -> list[tuple]:
    with read_transaction(ws.engine) as conn:
        rows = conn.exec_driver_sql(
            "SELECT ts, member, type, amount, text, source_id FROM events ORDER BY source_id"
        )
        return [tuple(r) for r in rows]


def test_formula_cells_are_prefixed_and_round_trip(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "a", name="a")
    source = tmp_path / "in.jsonl"  # JSON Lines: the texts arrive exactly as written
    lines = [
        json.dumps(
            {
                "ts": f"2026-10-01T09:0{i}:00Z",
                "community": "c",
                "member": f"=m{i}",
                "type": "message",
                "text": text,
                "source_id": f"s{i}",
            }
        )
        for i, text in enumerate(TEXTS)
    ]
    lines.append(
        '{"ts":"2026-10-01T10:00:00Z","community":"c","member":"=m9","type":"order",'
        '"order_id":"o1","amount":"-20","source_id":"s9"}'
    )
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_path(ws, source)
    out = tmp_path / "events.csv"
    with read_transaction(ws.engine) as conn:
        assert export_events(conn, out, "csv") == 7
    with out.open(encoding="utf-8", newline="") as fh:
        cells = {(r["source_id"], r["text"], r["member"], r["amount"]) for r in csv.DictReader(fh)}
    assert ("s0", "'=1+2", "'=m0", "") in cells
    assert ("s1", "'" + TEXTS[1], "'=m1", "") in cells
    assert ("s2", "'@SUM(A1)", "'=m2", "") in cells
    assert ("s3", "'+86 139", "'=m3", "") in cells
    assert ("s4", "''=quoted", "'=m4", "") in cells  # one more quote: exact round trip
    assert ("s5", "ok", "'=m5", "") in cells
    assert ("s9", "", "'=m9", "-20") in cells  # amounts are numbers, never prefixed
    again = init_workspace(tmp_path / "b", name="b")
    import_path(again, out)
    assert _events(again) == _events(ws)
    assert [row[4] for row in _events(again)[:6]] == TEXTS


def test_xlsx_cells_are_prefixed(tmp_path: Path) -> None:
    table = Table("t", "t", ["community", "n"], [[Cell("=1+2", "=1+2"), Cell("3", 3)]])
    book = Workbook()
    _fill(book.active, table)
    book.save(tmp_path / "x.xlsx")
    sheet = load_workbook(tmp_path / "x.xlsx").active
    assert [(c.value, c.data_type) for c in sheet[2]] == [("'=1+2", "s"), (3, "n")]


def test_member_lists_never_run_member_texts_as_formulas(tmp_path: Path) -> None:
    # `members list` to CSV and XLSX, and the console's downloads: a member key (any
    # text an import brings) starting with = + - @ or a tab is prefixed; numbers are not.
    from typer.testing import CliRunner

    from shequn.cli.app import app
    from shequn.web.render import rows_response

    ws = init_workspace(tmp_path / "a", name="a")
    source = tmp_path / "in.jsonl"
    keys = ["=m0", "@m1", "\t=m2", "ok"]
    source.write_text(
        "".join(
            json.dumps(
                {"ts": f"2026-10-01T09:0{i}:00Z", "community": "c", "member": key}
                | {"type": "message", "text": "hi", "source_id": f"s{i}"}
            )
            + "\n"
            for i, key in enumerate(keys)
        ),
        encoding="utf-8",
    )
    import_path(ws, source)
    ws.close()
    shown = {"'=m0", "'@m1", "'\t=m2", "ok"}
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"m.{fmt}"
        args = ["members", "list", "-w", str(ws.root), "--format", fmt, "-o", str(out)]
        result = CliRunner().invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        if fmt == "csv":
            with out.open(encoding="utf-8", newline="") as fh:
                rows = list(csv.DictReader(fh))
            assert {r["member"] for r in rows} == shown
            assert {r["messages"] for r in rows} == {"1"}
        else:
            sheet = load_workbook(out).active
            header = [c.value for c in sheet[1]]
            column = header.index("member")
            assert {row[column].value for row in sheet.iter_rows(min_row=2)} == shown
    answer = rows_response([{"member": "=m0", "gmv": -20}], ["member", "gmv"], "csv", "m")
    body = answer.body.decode("utf-8-sig")
    assert list(csv.reader(body.splitlines())) == [["member", "gmv"], ["'=m0", "-20"]]
