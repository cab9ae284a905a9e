"""The package layering of docs/architecture.md, and the size limits of STYLE.md.

Every import is checked, including the ones inside functions (a lazy import is still an
arrow): a lower layer never imports a higher one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "shequn"

# Every unit below shequn/ (a package or a top-level module), including those other
# branches are adding, so a rule can name the ones it allows instead of the ones it bans.
UNITS: tuple[str, ...] = (
    "activities", "analytics", "bot", "cli", "clock", "config", "domain", "errors",
    "experiments", "export", "goals", "importers", "interrupts", "members", "periods", "platforms",
    "redact", "registry", "reports", "review", "services", "simulate", "sop",
    "spreadsheet", "store", "toml_lines", "wall_time", "web", "workspace", "yamlio",
)  # fmt: skip
# Neutral helpers any layer may use: they import nothing of shequn but `errors`.
NEUTRAL = ("errors", "redact", "toml_lines", "wall_time", "spreadsheet", "interrupts")


def _all_but(*allowed: str) -> tuple[str, ...]:
    return tuple(unit for unit in UNITS if unit not in allowed)


# Who may not import whom: a package (or module) on the left imports none on the right.
# Nothing but the CLI's own entry points imports `cli` (see _banned).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "errors": _all_but(),
    **{unit: _all_but("errors") for unit in NEUTRAL[1:]},
    "periods": _all_but("errors"),
    "yamlio": _all_but("errors"),
    "domain": ("store", "importers", "analytics", "review", "sop", "services", "cli", "web",
               "platforms", "bot", "members", "activities", "config", "goals", "reports",
               "export", "simulate", "workspace"),
    "config": _all_but(*NEUTRAL, "periods", "domain"),
    "goals": _all_but(*NEUTRAL, "periods", "yamlio", "domain", "config"),
    "store": ("importers", "analytics", "review", "sop", "services", "cli", "web", "bot",
              "members", "activities"),
    "importers": ("analytics", "review", "sop", "services", "cli", "web", "bot"),
    "analytics": ("review", "sop", "services", "cli", "web", "bot"),
    "sop": ("services", "cli", "web"),
    "platforms": ("services", "cli", "web", "sop", "bot", "review"),
    "bot": ("services", "cli", "web"),
    "members": ("services", "cli", "web"),
    "activities": ("services", "cli", "web"),
    "experiments": ("services", "cli", "web"),
    "review": ("services", "cli", "web"),
    "reports": ("services", "cli", "web"),
    "export": ("services", "cli", "web"),
    "services": ("cli", "web"),
}  # fmt: skip
_CLI_ENTRIES = ("cli", "__main__")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


def _unit(path: Path) -> str:
    """The first part below shequn/: a package, or a top-level module's stem."""
    part = path.relative_to(SRC).parts[0]
    return part.removesuffix(".py")


def _imported_units(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                package = path.relative_to(SRC).parent.parts
                base = package[: len(package) - node.level + 1]
                names = [".".join(("shequn", *base, node.module or ""))]
            else:
                names = [node.module or ""]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "shequn" and len(parts) > 1 and parts[1]:
                out.add(parts[1])
    return out


def _banned(unit: str) -> set[str]:
    """What `unit` may not import; a unit may always import its own modules."""
    banned = set(FORBIDDEN.get(unit, ())) - {unit}
    return banned if unit in _CLI_ENTRIES else banned | {"cli"}


def test_every_unit_is_named() -> None:
    """A new package or top-level module gets its place in UNITS (and its rules)."""
    found = {_unit(path) for path in _modules()} - {"__init__", *_CLI_ENTRIES}
    assert found <= set(UNITS), sorted(found - set(UNITS))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_imports_a_layer_above_it(path: Path) -> None:
    wrong = sorted(_imported_units(path) & _banned(_unit(path)))
    assert not wrong, f"{path.relative_to(SRC)} imports {wrong}: see docs/architecture.md"


def test_the_rules_see_a_lazy_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "x.py"
    module.write_text("def f():\n    from shequn.services import audit\n", encoding="utf-8")
    assert _imported_units(module) == {"services"}
    assert "services" in _banned("sop") and "cli" in _banned("sop")


def test_modules_and_functions_stay_small() -> None:
    too_long = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        name = str(path.relative_to(SRC))
        if text.count("\n") > MAX_MODULE_LINES:
            too_long.append(f"{name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}:{node.lineno} {node.name}() {length} lines")
    assert not too_long, "over the limits of STYLE.md:\n" + "\n".join(too_long)
