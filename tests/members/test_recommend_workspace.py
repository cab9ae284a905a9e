"""Recommendations read from a workspace: the library, activities, merged members."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from shequn.cli.app import app
from shequn.domain.events import CANONICAL_FIELDS
from shequn.members.recommend.workspace import Recommendation, recommend
from shequn.services.imports import import_path
from shequn.services.members import merge
from shequn.services.workspace import init_workspace
from shequn.workspace import Workspace
from tests.members.test_cli_members import _run

NOW = datetime(2026, 11, 1, tzinfo=UTC)
LIBRARY = {
    "tea-brewing": "---\ntitle: Green tea brewing\n---\nHow to brew green tea, {{ member.name }}.",
    "tea-storage": "---\ntitle: Green tea storage\n---\nKeep green tea cool and dry.",
    "hiking-routes": "---\ntitle: Hiking routes\n---\nFive hiking routes near town.",
}
TASTING = """
    name: tea-tasting
    title: Green tea tasting evening
    community: club
    kind: meetup
    start: 2026-11-10T20:00:00+08:00
    end: 2026-11-10T21:00:00+08:00
    owner: alice
    goal: {metric: signups, target: 5}
"""
# ts, member, type, content_id, text
ROWS = [
    ("2026-10-20T10:00:00Z", "wx:op", "content_sent", "tea-brewing", ""),
    ("2026-10-20T10:00:00Z", "wx:op", "content_sent", "hiking-routes", ""),
    ("2026-10-21T10:00:00Z", "wx:a", "content_click", "tea-brewing", ""),
    ("2026-10-21T10:00:00Z", "wx:b", "content_click", "hiking-routes", ""),
    ("2026-10-21T11:00:00Z", "wx:c", "content_click", "hiking-routes", ""),
    ("2026-10-22T10:00:00Z", "wx:d", "message", "", "Anyone up for hiking this weekend?"),
    ("2026-10-22T10:00:00Z", "tg:a2", "join", "", ""),
    ("2026-10-28T10:00:00Z", "wx:op", "content_sent", "tea-storage", ""),
]


def _load(ws: Workspace, tmp_path: Path) -> None:
    (ws.root / "content").mkdir(exist_ok=True)
    for name, text in LIBRARY.items():
        (ws.root / "content" / f"{name}.md").write_text(text, encoding="utf-8")
    (ws.root / "activities").mkdir(exist_ok=True)
    (ws.root / "activities" / "tea-tasting.yaml").write_text(textwrap.dedent(TASTING).lstrip())
    header = ",".join(CANONICAL_FIELDS)
    lines = [
        f"{ts},club,{member},{kind},,,,,,{content},,,{text},r{i}"
        for i, (ts, member, kind, content, text) in enumerate(ROWS)
    ]
    path = tmp_path / "log.csv"
    path.write_text(header + "\n" + "\n".join(lines) + "\n")
    import_path(ws, path)


def test_recommendations_follow_taste_words_and_merged_keys(ws: Workspace, tmp_path: Path) -> None:
    _load(ws, tmp_path)
    merge(ws, "wx:a", ["tg:a2"])  # tg:a2 is wx:a: its recommendations are wx:a's
    got = recommend(Workspace.open(ws.root), NOW, ["wx:a", "wx:b", "wx:d", "nobody"], k=2)
    # wx:a read about brewing green tea: the storage note and the tasting share
    # "green tea"; the item they read is not offered again.
    assert [r.item for r in got["wx:a"]] in (
        ["tea-storage", "tea-tasting"],
        ["tea-tasting", "tea-storage"],
    )
    assert got["wx:a"][0].title in ("Green tea storage", "Green tea tasting evening")
    assert Recommendation("tea-tasting", "activity", "Green tea tasting evening") in got["wx:a"]
    # wx:b read the only hiking item: nothing left shares a click or a word with it,
    # so the popularity prior decides: tea-brewing (one click) before the unclicked.
    assert got["wx:b"][0].item == "tea-brewing"
    assert len(got["wx:b"]) == 2 and all(r.item != "hiking-routes" for r in got["wx:b"])
    # wx:d never clicked but writes about hiking: the hiking routes first.
    assert got["wx:d"][0] == Recommendation("hiking-routes", "content", "Hiking routes")
    assert got["nobody"] == []


def test_cli_recommend_show_and_eval(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws", name="test")
    _load(ws, tmp_path)
    ws.close()
    root = str(ws.root)
    at = ["--at", "2026-11-01", "-w", root]
    out = _run("members", "recommend", "wx:d", "--top", "1", *at)
    assert "hiking-routes" in out and "Hiking routes" in out and "tea" not in out
    shown = _run("members", "show", "wx:d", *at)
    assert "recommended" in shown and "Hiking routes (hiking-routes)" in shown
    judged = _run("members", "recommend-eval", "--cut", "2026-10-20", "-w", root)
    assert "recall@5" in judged and "popularity" in judged
    assert "│ item-item + words │ 3       │ 1.000" in judged  # wx:a, wx:b, wx:c clicked after
    after = CliRunner().invoke(
        app, ["members", "recommend-eval", "--cut", "2026-10-25", "-w", root]
    )
    assert after.exit_code != 0 and "nothing to judge" in str(after.exception)
    bad = CliRunner().invoke(app, ["members", "recommend", "wx:nobody", "-w", root])
    assert bad.exit_code != 0 and "unknown member" in str(bad.exception)
