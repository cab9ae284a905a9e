"""Workspace settings: defaults, and errors that name the field and the fix."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from shequn.config import database_url, load_settings
from shequn.errors import InputError, WorkspaceError
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


GOAL = '[[communities]]\nkey = "a"\ntemplate = "t"\n[[communities.short_term_goals]]\n'


@pytest.mark.parametrize(
    ("goal", "needle"),
    [
        (
            'metric = "actve_rate"\ntarget = 0.3\n',
            "short_term_goals.0.metric: Value error, unknown metric 'actve_rate'; use one of "
            "members_at_start, members_at_end,",
        ),
        (
            'metric = "joins"\ntarget = 3\nperiod = "month"\nhorizon = "day 30"\n',
            "a goal has one of period, from/to or horizon, not period and horizon; keep one",
        ),
        (
            'metric = "joins"\ntarget = 3\nperiod = "day 30"\nhorizon = 30\n',
            "a goal has either a period or a horizon, not both; remove period",
        ),
        ('metric = "joins"\ntarget = 3\nfrom = 2026-10-01\n', "add the other one"),
        (
            'metric = "joins"\ntarget = 3\nfrom = 2026-10-09\nto = 2026-10-01\n',
            "to must be after from",
        ),
        ('metric = "joins"\ntarget = 3\nperiod = "fortnight"\n', "'fortnight' is not a goal"),
        ('metric = "joins"\ntarget = 3\nhorizon = "day x"\n', 'write horizon = "day 30"'),
        ("target = 3\n", "a goal needs text or a metric"),
        ('text = "t"\nid = "Big Goal"\n', "short_term_goals.0.id: String should match"),
    ],
)
def test_invalid_goals_name_the_field_and_fix(tmp_path: Path, goal: str, needle: str) -> None:
    root = write(tmp_path / "w", GOAL + goal)
    with pytest.raises(WorkspaceError) as caught:
        load_settings(root)
    assert needle in str(caught.value)


def test_goal_fields_and_the_older_spellings(tmp_path: Path) -> None:
    body = GOAL + (
        'text = "t"\nmetric = "joins"\ntarget = 3\nperiod = "day 30"\n'
        '[[communities.short_term_goals]]\nid = "w"\nmetric = "gmv"\ntarget = 100\n'
        'from = 2026-10-01\nto = 2026-10-15\nscope = "template:t"\n'
        '[[communities.short_term_goals]]\ntext = "t"\nperiod = "Month"\n'
    )
    settings = load_settings(write(tmp_path / "w", body))
    first, dated, monthly = settings.communities[0].short_term_goals
    assert (first.horizon, first.period, first.label) == (30, None, "t")
    assert (dated.from_, dated.to, dated.scope, dated.label) == (
        date(2026, 10, 1),
        date(2026, 10, 15),
        "template:t",
        "gmv ≥ 100",
    )
    assert monthly.period == "month"


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (
            '[[communities.short_term_goals]]\ntext = "m"\nserves = "nope"\n',
            "communities.0.short_term_goals.1.serves'): serves 'nope', which is no goal's id",
        ),
        (
            '[[communities.long_term_goals]]\nid = "x"\ntext = "l"\nserves = "g"\n',
            "a long-term goal does not serve another goal",
        ),
        (
            '[[communities.short_term_goals]]\nid = "g"\ntext = "again"\n',
            "goal id 'g' is also used at",
        ),
        (
            '[[communities.short_term_goals]]\nid = "m"\ntext = "m"\n'
            '[[communities.short_term_goals]]\ntext = "n"\nserves = "m"\n',
            "serves 'm', a short-term goal",
        ),
        ('[[communities.short_term_goals]]\ntext = "m"\nscope = "b"\n', "use a community key (a)"),
        ('[[communities.short_term_goals]]\ntext = "m"\nscope = "template:x"\n', "use one of t"),
        (
            '[[communities.short_term_goals]]\ntext = "m"\nscope = "*"\nhorizon = 30\n',
            "scope '*' has none",
        ),
    ],
)
def test_goals_checked_together(tmp_path: Path, extra: str, needle: str) -> None:
    from shequn.goals.gather import workspace_goals

    body = GOAL + 'id = "g"\ntext = "first"\n' + extra
    root = write(tmp_path / "w", body)
    with pytest.raises(InputError) as caught:
        workspace_goals(root, load_settings(root))
    assert needle in str(caught.value)
    assert str(root / "shequn.toml") in str(caught.value)


@pytest.mark.parametrize(
    ("yaml_text", "needle"),
    [
        (
            "scope: a\nlong_term_goals:\n  - text: x\n    metrc: joins\n",
            "g.yaml:4 (field 'long_term_goals.0.metrc'): Extra inputs are not permitted",
        ),
        (
            "long_term_goals:\n  - text: x\n    metric: joins\n",
            "g.yaml:2 (field 'scope'): a goal in a goal file needs a scope",
        ),
        ("scope: a\nshort_term_goals:\n  - text: [x\n", "g.yaml:3: not valid YAML: a '['"),
        (
            "scope: a\nshort_term_goals:\n  - text: x\n    period: week\n    horizon: 3\n",
            "g.yaml:3 (field 'short_term_goals.0'): a goal has one of period",
        ),
    ],
)
def test_goal_files_name_the_line(tmp_path: Path, yaml_text: str, needle: str) -> None:
    from shequn.goals.gather import workspace_goals

    root = write(tmp_path / "w", GOAL + 'text = "t"\n')
    (root / "goals").mkdir()
    (root / "goals" / "g.yaml").write_text(yaml_text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        workspace_goals(root, load_settings(root))
    assert needle in str(caught.value)
