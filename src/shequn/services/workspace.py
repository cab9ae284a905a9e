"""Creating a workspace, and the overview of what it holds."""

from __future__ import annotations

from pathlib import Path

from shequn.config import SETTINGS_FILE
from shequn.errors import WorkspaceError
from shequn.store import events as store_events
from shequn.store.engine import read_transaction
from shequn.workspace import FOLDERS, Workspace

TEMPLATE = """# shequn workspace settings (社群运营工作区设置)
# Secrets never go here: put a database password in $SHEQUN_DATABASE_URL.

name = "{name}"
timezone = "{timezone}"     # days, weeks and months are cut in this zone
currency = "{currency}"
language = "{language}"     # zh_CN or en: the language of reports
# database_url = "postgresql://shequn@localhost/shequn"   # default: SQLite in data/

# One [[communities]] block per community (group). 每个社群一段。
[[communities]]
key = "{community}"
name = "我的第一个社群"
platform = "wechat"          # wechat, wecom, qq, telegram, discord, slack, matrix, whatsapp
template = ""                # communities built from the same template are compared
positioning = "为什么建这个群：给谁提供什么价值（社群定位）"
target_users = "目标用户是谁"
channels = ["公众号", "朋友圈", "invite_link"]   # traffic channels (引流渠道)

# Goals (目标): metric, target, direction, and a period (week, month, 2026-10, 2026-W43,
# from/to dates) or a horizon ("day 30" after the community starts). Milestones
# (short_term_goals) name the long-term goal they serve. More goals: goals/*.yaml.
[[communities.long_term_goals]]
id = "active-community"
text = "一年内成为 500 人的活跃学习社群"
metric = "active_rate"
target = 0.3
direction = "at_least"
period = "month"

[[communities.short_term_goals]]
text = "首月完成冷启动：新人 7 日内发言"
metric = "speaking_rate"
target = 0.5
direction = "at_least"
horizon = "day 30"
serves = "active-community"

[[communities.short_term_goals]]
text = "每周至少 100 条消息"
metric = "messages"
target = 100
period = "week"
serves = "active-community"
"""


def init_workspace(
    root: Path,
    *,
    name: str = "",
    timezone: str = "Asia/Shanghai",
    currency: str = "CNY",
    language: str = "zh_CN",
    community: str = "my-community",
) -> Workspace:
    """Create a workspace folder with settings, playbooks/, content/ and data/."""
    settings = root / SETTINGS_FILE
    if settings.exists():
        raise WorkspaceError(
            f"{settings} already exists",
            hint="edit it, or choose another folder: nothing was changed",
        )
    root.mkdir(parents=True, exist_ok=True)
    for folder in FOLDERS:
        (root / folder).mkdir(exist_ok=True)
    settings.write_text(
        TEMPLATE.format(
            name=name or root.resolve().name,
            timezone=timezone,
            currency=currency,
            language=language,
            community=community,
        ),
        encoding="utf-8",
    )
    try:
        ws = Workspace.open(root)
        ws.engine  # noqa: B018 - creates the database now, so errors show at init
    except Exception:
        settings.unlink()
        raise
    return ws


def overview(ws: Workspace) -> store_events.Overview:
    """Communities, members, events by type and source, first and last event."""
    with read_transaction(ws.engine) as conn:
        return store_events.overview(conn)
