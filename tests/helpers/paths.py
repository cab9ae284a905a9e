"""Where the tests find the tree: its root and the hand-made fixtures in tests/data."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).parents[2]
DATA = ROOT / "tests" / "data"
