"""The lower layers import nothing above them (also lazily, inside a function)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
NEUTRAL = ("shequn.errors",)
# module (or package) -> the shequn modules it may import
ALLOWED: dict[str, tuple[str, ...]] = {
    "shequn.domain.metrics": (),
    "shequn.periods": NEUTRAL,
    "shequn.yamlio": NEUTRAL,
    "shequn.toml_lines": (),
    "shequn.redact": (),
    "shequn.wall_time": (),
    "shequn.spreadsheet": (),
    "shequn.interrupts": (),
    "shequn.config": (
        *NEUTRAL, "shequn.periods", "shequn.domain", "shequn.redact", "shequn.toml_lines"
    ),
    "shequn.goals": (
        *NEUTRAL, "shequn.periods", "shequn.yamlio", "shequn.domain", "shequn.config",
        "shequn.goals",
    ),
}  # fmt: skip


def shequn_imports(path: Path) -> set[str]:
    """Every shequn module a file imports, at any depth."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "shequn" or name.startswith("shequn.")}


def files_of(module: str) -> list[Path]:
    base = SRC / module.replace(".", "/")
    return sorted(base.rglob("*.py")) if base.is_dir() else [base.with_suffix(".py")]


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_imports_stay_below(module: str) -> None:
    above = {
        f"{path.relative_to(SRC)}: {name}"
        for path in files_of(module)
        for name in shequn_imports(path)
        if not within(name, ALLOWED[module])
    }
    assert above == set()


def test_the_check_sees_a_lazy_upward_import(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text("def f():\n    from shequn.review.run import x\n", encoding="utf-8")
    assert shequn_imports(sample) == {"shequn.review.run"}
