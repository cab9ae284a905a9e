"""Two processes on one workspace: no "database is locked", nothing lost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from shequn.workspace import Workspace

SHEQUN = [sys.executable, "-m", "shequn"]


def _events_file(path: Path, prefix: str, n: int) -> Path:
    lines = ["ts,community,member,type,source_id"]
    lines += [
        f"2026-10-01T09:{i // 60 % 60:02d}:{i % 60:02d}Z,c,{prefix}{i % 50},message,{prefix}{i}"
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_imports_and_status_at_once(ws: Workspace, tmp_path: Path) -> None:
    env_args = ["-w", str(ws.root)]
    files = [_events_file(tmp_path / f"{p}.csv", p, 20_000) for p in ("a", "b", "c")]
    importers = [
        subprocess.Popen(
            [*SHEQUN, "import", str(f), *env_args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in files
    ]
    readers = [
        subprocess.run(
            [*SHEQUN, "status", "--json", *env_args], capture_output=True, text=True, timeout=120
        )
        for _ in range(3)
    ]
    outcomes = [p.communicate(timeout=300) for p in importers]
    for proc, (out, err) in zip(importers, outcomes, strict=True):
        assert proc.returncode == 0, err
        assert "20,000 events added" in out
    for reader in readers:
        assert reader.returncode == 0, reader.stderr
        assert json.loads(reader.stdout)["events"] in (0, 20_000, 40_000, 60_000)
    final = subprocess.run([*SHEQUN, "status", "--json", *env_args], capture_output=True, text=True)
    assert json.loads(final.stdout)["events"] == 60_000
