"""docs/metrics.md and the registry list the same metrics, and each has a test."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from shequn.domain.metrics import DAILY, DERIVED, FIGURES, METRICS
from tests.analytics.helpers import LogBuilder, engine_figures

ROOT = Path(__file__).resolve().parents[2]
KEY_ROW = re.compile(r"^\| `([a-z_]+)` \|", re.MULTILINE)
LABEL_ROW = re.compile(r"^\| `([a-z_]+)` \| ([^|]+) \| ([^|]+) \| ([a-z]+) \|", re.MULTILINE)


def section(title: str) -> str:
    """The text of one `## title` section of docs/metrics.md."""
    text = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def documented() -> list[str]:
    return KEY_ROW.findall(section("Metric keys"))


def test_docs_list_every_metric_of_the_registry() -> None:
    assert documented() == [m.name for m in METRICS]


def test_every_figure_has_both_labels_and_the_docs_show_the_registry_s() -> None:
    assert [m.name for m in FIGURES if not (m.label.strip() and m.english.strip())] == []
    rows = LABEL_ROW.findall(section("Metric keys")) + LABEL_ROW.findall(section("Other figures"))
    assert rows == [(m.name, m.label, m.english, m.kind) for m in (*METRICS, *DERIVED, *DAILY)]


def test_daily_figures_name_their_threshold_and_a_goal_of_the_same_meaning() -> None:
    rows = re.findall(
        r"^\| `(daily_[a-z_]+)` \|[^|]+\|[^|]+\|[^|]+\| `([a-z_]+)` \|\s*(?:`([a-z_]+)`)?\s*\|",
        section("Other figures"),
        re.MULTILINE,
    )
    assert rows == [(m.name, m.threshold, m.goal or "") for m in DAILY]
    assert {m.frequency for m in DAILY} == {"day"}
    assert {m.goal for m in DAILY} - {None} <= {m.name for m in METRICS}


def test_every_documented_metric_is_computed() -> None:
    log = LogBuilder()
    log.add("2026-03-01 10:00", "join", "a")
    figures = engine_figures(log.events, date(2026, 3, 1), date(2026, 3, 2))
    assert list(figures["c1"]) == list(figures["*"]) == documented()


def test_every_documented_metric_has_a_hand_checked_example() -> None:
    examples = (Path(__file__).parent / "test_examples.py").read_text(encoding="utf-8")
    checked = set(re.findall(r'\["([a-z_]+)"\]', examples)) | set(
        re.findall(r'^\s+"([a-z_]+)", ', examples, re.MULTILINE)
    )
    assert [name for name in documented() if name not in checked] == []
