"""The docs keep up with the code: every setting and every command is documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from shequn.config import Community, Goal, Settings
from shequn.domain.events import CANONICAL_FIELDS, EVENT_TYPES

DOCS = Path(__file__).parent.parent / "docs"


@pytest.mark.parametrize("model", [Settings, Community, Goal])
def test_every_setting_is_documented(model: type[BaseModel]) -> None:
    text = (DOCS / "workspace.md").read_text()
    missing = [name for name in model.model_fields if f"`{name}`" not in text]
    assert missing == []


def test_every_event_field_and_type_is_documented() -> None:
    text = (DOCS / "events.md").read_text()
    assert [f for f in CANONICAL_FIELDS if f"`{f}`" not in text] == []
    assert [t for t in sorted(EVENT_TYPES) if f"`{t}`" not in text] == []


def test_readme_keeps_the_contract() -> None:
    readme = (DOCS.parent / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "中文" in readme


def test_every_importer_is_documented() -> None:
    from shequn.importers import registry

    text = (DOCS / "importers.md").read_text()
    assert [name for name in registry() if f"`{name}`" not in text] == []


def test_every_importer_describes_itself() -> None:
    from shequn.importers import registry

    for name, importer in registry().items():
        assert importer.name == name and len(importer.description) > 20


def test_cli_reference_is_current() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "gen_cli_docs", DOCS.parent / "scripts" / "gen_cli_docs.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (DOCS / "cli.md").read_text() == module.render(), (
        "docs/cli.md is stale: run `python scripts/gen_cli_docs.py`"
    )


def test_performance_notes_survive_make_bench() -> None:
    """`make bench` rewrites docs/performance.md as its table plus benchmarks/NOTES.md:
    figures written into the doc by hand must be in NOTES.md too, or the next run
    loses them."""
    notes = (DOCS.parent / "benchmarks" / "NOTES.md").read_text().strip()
    performance = (DOCS / "performance.md").read_text().strip()
    assert performance.endswith(notes)
