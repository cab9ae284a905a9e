"""Secrets in database URLs: never shown, never accepted in shequn.toml."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shequn.config import load_settings
from shequn.errors import WorkspaceError
from shequn.redact import credentials, parse, redact
from tests.helpers.process import child_env


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:hunter2@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgresql://u@h/db?password=hunter2", "postgresql://u@h/db?password=***"),
        (
            "postgresql://u@h/db?sslmode=require&SSLPassword=hunter2",
            "postgresql://u@h/db?SSLPassword=***&sslmode=require",
        ),
        ("postgresql://u:p/w@h/db", "postgresql://u:***@h/db"),  # an unencoded slash
        ("postgres ql://u:hunter2@h/db", "postgres ql://***"),  # not a URL at all
        ("sqlite:////data/a:b@c.db", "sqlite:////data/a:b@c.db"),  # a path, no secret
    ],
)
def test_redact_hides_every_form(url: str, shown: str) -> None:
    assert redact(url) == shown


@pytest.mark.parametrize(
    ("url", "found"),
    [
        ("postgresql://u:hunter2@h/db", ["user:password@"]),
        ("postgresql://u@h/db?password=hunter2", ["?password="]),
        ("postgresql://u@h/db?sslpassword=hunter2", ["?sslpassword="]),
        ("postgresql://u@h/db?PassWord=hunter2&token=t", ["?PassWord=", "?token="]),
        ("postgresql://:hunter2@/db?host=/run/pg", ["user:password@"]),
    ],
)
def test_the_settings_file_refuses_any_credential(
    tmp_path: Path, url: str, found: list[str]
) -> None:
    parsed = parse(url)
    assert parsed is not None and credentials(parsed) == found
    (tmp_path / "shequn.toml").write_text(f'database_url = "{url}"\n', encoding="utf-8")
    with pytest.raises(WorkspaceError) as caught:
        load_settings(tmp_path)
    assert "hunter2" not in str(caught.value)
    assert "SHEQUN_DATABASE_URL" in str(caught.value) and found[0] in str(caught.value)


def test_a_plain_url_is_accepted(tmp_path: Path) -> None:
    url = "postgresql://u@h/db?sslmode=require"
    (tmp_path / "shequn.toml").write_text(f'database_url = "{url}"\n', encoding="utf-8")
    assert load_settings(tmp_path).database_url == url


def shequn(*args: str, url: str = "") -> subprocess.CompletedProcess[str]:
    env = {**child_env(), "COLUMNS": "300"}
    env.pop("SHEQUN_WORKSPACE", None)
    if url:
        env["SHEQUN_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "shequn", *args], capture_output=True, text=True, env=env
    )


def test_init_and_status_never_print_the_password(tmp_path: Path, postgres_url: str) -> None:
    # Trust auth: the server ignores the password, so the URL works as given.
    url = postgres_url.replace("postgres@", "postgres:hunter2@") + "?sslpassword=hunter3"
    made = shequn("init", str(tmp_path / "w"), url=url)
    assert made.returncode == 0, made.stderr
    status = shequn("status", "--json", "-w", str(tmp_path / "w"), url=url)
    assert status.returncode == 0, status.stderr
    assert "hunter" not in made.stdout + made.stderr + status.stdout + status.stderr
    assert json.loads(status.stdout)["database"].endswith("?sslpassword=***")
    assert "postgres:***@" in made.stdout


def test_a_malformed_url_is_one_line_without_the_password(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "shequn.toml").write_text("", encoding="utf-8")
    out = shequn("status", "-w", str(tmp_path / "w"), url="postgres ql://u:hunter2@h/db")
    assert out.returncode == 2 and "hunter2" not in out.stderr + out.stdout
    assert out.stderr.startswith("error: postgres ql://*** is not a database URL")


def test_an_unreachable_postgres_is_one_line_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "shequn.toml").write_text("", encoding="utf-8")
    out = shequn("status", "-w", str(tmp_path / "w"), url="postgresql://u:hunter2@127.0.0.1:9/db")
    assert out.returncode == 2, out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 2 and "Traceback" not in out.stderr and "hunter2" not in out.stderr
    assert lines[0].startswith("error: cannot open the database postgresql+psycopg://u:***@")
    assert "Connection refused" in lines[0] and lines[1].startswith("  fix: start PostgreSQL")
