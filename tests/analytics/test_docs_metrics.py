"""docs/metrics.md and the registry list the same metrics, and each has a test."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from shequn.domain.metrics import METRICS
from tests.analytics.helpers import LogBuilder, engine_figures

ROOT = Path(__file__).resolve().parents[2]
KEY_ROW = re.compile(r"^\| `([a-z_]+)` \|", re.MULTILINE)


def documented() -> list[str]:
    text = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    return KEY_ROW.findall(text.split("## Metric keys", 1)[1])


def test_docs_list_every_metric_of_the_registry() -> None:
    assert documented() == [m.name for m in METRICS]


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
