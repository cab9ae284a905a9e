"""`shequn metrics`, run through Typer's CliRunner on a small imported workspace."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from shequn.cli.metrics import last_covered_month, metrics
from shequn.errors import InputError
from shequn.services.imports import import_path
from shequn.services.workspace import init_workspace

ROWS = [
    "ts,community,member,type,channel,inviter,order_id,amount,source_id",
    "2026-09-30T10:00:00+08:00,club,wa:a,join,,,,,e1",
    "2026-10-01T00:00:00+08:00,club,wa:b,join,公众号,,,,e2",
    "2026-10-02T10:00:00+08:00,club,wa:b,message,,,,,e3",
    "2026-10-03T10:00:00+08:00,club,wa:b,order,,,o1,19.90,e4",
    "2026-10-04T10:00:00+08:00,shop,wa:c,join,,,,,e5",
    "2026-11-02T10:00:00+08:00,club,wa:a,message,,,,,e6",
]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = init_workspace(tmp_path / "ws", name="demo")
    source = tmp_path / "events.csv"
    source.write_text("\n".join(ROWS) + "\n", encoding="utf-8")
    import_path(ws, source, format_name="canonical")
    ws.close()
    return ws.root


def run(*args: str) -> tuple[int, str]:
    app = typer.Typer()
    app.command()(metrics)
    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def test_json_for_a_period(root: Path) -> None:
    code, out = run("--from", "2026-10-01", "--to", "2026-11-01", "--json", "-w", str(root))
    assert code == 0
    figures = json.loads(out)
    assert list(figures) == ["club", "shop", "*"]
    club = figures["club"]
    assert (club["members_at_start"], club["members_at_end"]) == (2, 2)  # a; b at 00:00
    assert club["gmv"] == 19.9 and club["aov"] == 19.9  # money as JSON numbers
    assert club["speaking_rate"] == 0.5  # b spoke / a, b
    assert club["growth_rate"] == 0.0  # (2 - 2) / 2
    assert figures["shop"]["growth_rate"] is None  # no member at the start: null
    assert figures["*"]["members_at_end"] == 3


def test_default_period_is_the_last_covered_month(root: Path) -> None:
    # The data ends on 2026-11-02: the last full month is October.
    code, out = run("--json", "-c", "club", "-w", str(root))
    assert code == 0
    assert json.loads(out)["club"]["joins"] == 1  # b on 10-01 00:00 (a joined in September)
    assert last_covered_month(date(2026, 11, 2)) == (date(2026, 10, 1), date(2026, 11, 1))
    assert last_covered_month(date(2026, 10, 31)) == (date(2026, 10, 1), date(2026, 11, 1))


def test_table_shows_labels_percentages_and_currency(root: Path) -> None:
    code, out = run("--from", "2026-10-01", "--to", "2026-11-01", "-w", str(root))
    assert code == 0
    assert "活跃度 active rate" in out and "用户增长率 growth rate" in out
    assert "50.0%" in out  # club's speaking rate
    assert "19.90 CNY" in out  # club's GMV


def test_unknown_community_and_bad_dates_are_named(root: Path) -> None:
    with pytest.raises(InputError, match="no community 'nope'"):
        run("-c", "nope", "-w", str(root))
    with pytest.raises(InputError, match="is not a date"):
        run("--from", "10/01/2026", "-w", str(root))
    with pytest.raises(InputError, match="empty"):
        run("--from", "2026-10-05", "--to", "2026-10-01", "-w", str(root))
