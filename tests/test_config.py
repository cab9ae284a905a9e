"""Workspace settings: defaults, and errors that name the field and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from shequn.config import database_url, load_settings
from shequn.errors import WorkspaceError
from shequn.services.workspace import init_workspace


def write(root: Path, body: str) -> Path:
    root.mkdir(exist_ok=True)
    (root / "shequn.toml").write_text(body, encoding="utf-8")
    return root


def test_init_writes_a_valid_bilingual_template(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "w")
    assert {p.name for p in ws.root.iterdir()} >= {"shequn.toml", "playbooks", "content", "data"}
    settings = load_settings(ws.root)
    assert (settings.timezone, settings.currency, settings.language) == (
        "Asia/Shanghai",
        "CNY",
        "zh_CN",
    )
    community = settings.communities[0]
    assert community.positioning.startswith("为什么建这个群")
    assert community.long_term_goals[0].metric == "active_rate"
    assert community.channels == ["公众号", "朋友圈", "invite_link"]


def test_init_refuses_an_existing_workspace(tmp_path: Path) -> None:
    init_workspace(tmp_path / "w")
    before = (tmp_path / "w" / "shequn.toml").read_text()
    with pytest.raises(WorkspaceError, match="already exists"):
        init_workspace(tmp_path / "w")
    assert (tmp_path / "w" / "shequn.toml").read_text() == before


def test_missing_workspace_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError) as caught:
        load_settings(tmp_path)
    assert "shequn init" in caught.value.hint


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (
            'name = "x"\ntimezone = "Mars/Olympus"\n',
            "timezone: Value error, unknown time zone 'Mars/Olympus'",
        ),
        ('name = "x"\ncolour = "red"\n', "colour: Extra inputs are not permitted"),
        ('[[communities]]\nname = "no key"\n', "communities.0.key: Field required"),
        ('name = "x\n', "line 1"),
        (
            '[[communities]]\nkey = "a"\n[[communities.long_term_goals]]\n'
            'text = "t"\ndirection = "up"\n',
            "communities.0.long_term_goals.0.direction",
        ),
    ],
)
def test_invalid_settings_name_the_field(tmp_path: Path, body: str, needle: str) -> None:
    root = write(tmp_path / "w", body)
    with pytest.raises(WorkspaceError) as caught:
        load_settings(root)
    assert needle in str(caught.value)
    assert str(root / "shequn.toml") in str(caught.value)


def test_a_password_in_the_file_is_refused(tmp_path: Path) -> None:
    root = write(tmp_path / "w", 'database_url = "postgresql://u:secret@db/x"\n')
    with pytest.raises(WorkspaceError) as caught:
        load_settings(root)
    assert "SHEQUN_DATABASE_URL" in str(caught.value)
    assert "secret" not in str(caught.value)


def test_database_url_comes_from_the_environment_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write(tmp_path / "w", 'database_url_env = "MY_DB"\n')
    settings = load_settings(root)
    with pytest.raises(WorkspaceError, match=r"\$MY_DB"):
        database_url(root, settings)
    monkeypatch.setenv("MY_DB", "postgresql://u:pw@h/d")
    assert database_url(root, settings) == "postgresql://u:pw@h/d"
    plain = load_settings(write(tmp_path / "v", ""))
    assert database_url(tmp_path / "v", plain).endswith("/v/data/shequn.db")
    monkeypatch.setenv("SHEQUN_DATABASE_URL", "sqlite:////elsewhere.db")
    assert database_url(tmp_path / "v", plain) == "sqlite:////elsewhere.db"
