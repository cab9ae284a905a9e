"""Under CI every skip is a failure, whatever raised it (tests.helpers.gaps); elsewhere
a skip stays a skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = """
import pytest

def test_skipped_in_the_body():
    pytest.skip("no frobnicator here")

@pytest.mark.skip(reason="marked away")
def test_marked():
    pass

def test_passing():
    pass
"""


def _run(tmp_path: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_some.py").write_text(TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {k: v for k, v in os.environ.items() if k != "CI"} | ({"CI": "true"} if ci else {})
    command = [sys.executable, "-m", "pytest", "-p", "tests.helpers.gaps", "-p", "no:cacheprovider"]
    command += ["--rootdir", str(tmp_path), "-c", str(tmp_path / "pytest.ini"), "-q", "-rA"]
    return subprocess.run(
        [*command, str(tmp_path / "test_some.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("ci", [True, False], ids=["CI", "here"])
def test_a_skip_fails_only_under_ci(tmp_path: Path, ci: bool) -> None:
    done = _run(tmp_path, ci)
    if ci:
        assert done.returncode == 1, done.stdout
        assert "1 failed, 1 passed, 1 error" in done.stdout
        assert "a skip fails it: Skipped: no frobnicator here" in done.stdout
        assert "a skip fails it: Skipped: marked away" in done.stdout
    else:
        assert done.returncode == 0, done.stdout
        assert "1 passed, 2 skipped" in done.stdout
