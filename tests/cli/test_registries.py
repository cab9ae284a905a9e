"""The registries the CLI asks for its choices, and the import rules around them."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from shequn.errors import InputError
from shequn.export import FORMATS, export_format, formats_text
from shequn.registry import load, one_of
from shequn.reports import RENDERERS, by_suffix
from shequn.reports import formats_text as report_formats_text
from tests.helpers.paths import ROOT
from tests.helpers.process import child_env

SRC = ROOT / "src" / "shequn"


def test_choices_read_as_a_person_writes_them() -> None:
    assert one_of(["csv"]) == "csv"
    assert one_of(["csv", "jsonl", "parquet"]) == "csv, jsonl or parquet"
    assert formats_text() == "csv, jsonl or parquet"
    assert report_formats_text() == "terminal, md, html or xlsx"


def test_an_unknown_export_format_names_the_option_and_the_choices() -> None:
    assert export_format("jsonl").extension == ".jsonl"
    with pytest.raises(InputError, match="unknown format 'xml'") as exc:
        export_format("xml")
    assert exc.value.hint == "use csv, jsonl or parquet"


def test_every_writer_resolves_and_every_suffix_finds_its_renderer() -> None:
    for fmt in FORMATS.values():
        assert callable(load(fmt.writer)) and fmt.extension == f".{fmt.name}"
    for renderer in RENDERERS.values():
        assert callable(load(renderer.writer))
        assert renderer.extension in renderer.suffixes
        assert all(by_suffix(s.upper()) is renderer for s in renderer.suffixes)
    assert by_suffix(".pdf") is None
    with pytest.raises(ValueError, match=r"package\.module:attribute"):
        load("shequn.reports.markdown")


def test_starting_the_cli_imports_no_writer() -> None:
    """--help lists the formats without importing Polars or the renderers."""
    code = (
        "import sys, shequn.cli; "
        "print(sorted(m for m in ('polars', 'jinja2', 'shequn.reports.html', "
        "'shequn.export.writers') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def _imports(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (SRC / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add((str(path.relative_to(SRC)), node.module))
            elif isinstance(node, ast.Import):
                found.update((str(path.relative_to(SRC)), a.name) for a in node.names)
    return found


@pytest.mark.parametrize("package", ["importers", "reports", "export"])
def test_lower_packages_import_neither_services_nor_the_cli(package: str) -> None:
    upward = {
        (where, module)
        for where, module in _imports(package)
        if module.startswith(("shequn.services", "shequn.cli"))
    }
    assert upward == set()


def test_nothing_outside_the_cli_imports_it() -> None:
    outside = {p.name for p in SRC.iterdir() if p.is_dir() and p.name not in ("cli", "__pycache__")}
    users = {
        (where, module)
        for package in outside
        for where, module in _imports(package)
        if module.startswith("shequn.cli")
    }
    assert users == set()
