"""What the bot says, in Chinese and English: one entry per message, both languages.

Values are filled with `str.format`, so a member's name or text is only ever data:
it is never parsed as a template (a name like ``{{ 7*7 }}`` is shown as written).
"""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, tuple[str, str]] = {
    "welcome": ("欢迎 {name} 加入！{rules}", "Welcome, {name}! {rules}"),
    "raid_welcome": (
        "欢迎 {count} 位新朋友！请先阅读群规：{rules}",
        "Welcome to the {count} people who just joined! Please read the rules: {rules}",
    ),
    "rules": ("群规：{rules}", "Rules: {rules}"),
    "no_rules": ("本群还没有写群规。", "This group has no written rules yet."),
    "help": (
        "命令：签到 /checkin · 积分 /points · 排行 /rank · 群规 /rules · /faq 问题 · "
        "申诉 /appeal 理由 · 报名 /signup",
        "Commands: /checkin 签到 · /points 积分 · /rank 排行 · /rules 群规 · /faq question · "
        "/appeal reason · /signup 报名",
    ),
    "operator_help": (
        "管理命令：/warn /mute 成员 10m /unmute /ban /pardon（成员或回复其消息）",
        "Operator commands: /warn /mute MEMBER 10m /unmute /ban /pardon (name one or reply)",
    ),
    "warned": (
        "{name}，请遵守群规（{rule}），这是警告。",
        "{name}, please follow the rules ({rule}); this is a warning.",
    ),
    "muted": (
        "{name} 违反群规（{rule}），禁言 {duration}。",
        "{name} broke the rules ({rule}) and is muted for {duration}.",
    ),
    "removed": (
        "{name} 多次违反群规，已被移出。",
        "{name} broke the rules repeatedly and was removed.",
    ),
    "banned": ("{name} 已被封禁。", "{name} is banned."),
    "pardoned": ("{name} 的警告已清除。", "{name}'s warnings are cleared."),
    "unmuted": ("{name} 已解除禁言。", "{name} may speak again."),
    "checked_in": (
        "{name} 签到成功！连续 {streak} 天，+{points} 积分，共 {total} 分。",
        "{name} checked in! Streak {streak} days, +{points} points, {total} in all.",
    ),
    "already": ("{name} 今天已经签到过了。", "{name}, you already checked in today."),
    "points": ("{name} 共有 {total} 积分{level}。", "{name} has {total} points{level}."),
    "level": ("，等级 {level}", ", level {level}"),
    "rank": ("积分排行：\n{lines}", "Points ranking:\n{lines}"),
    "leaderboard": ("本周积分榜：\n{lines}", "This week's points leaders:\n{lines}"),
    "empty_rank": ("还没有人得分。", "Nobody has points yet."),
    "faq_topics": ("常见问题：{topics}", "Frequently asked: {topics}"),
    "faq_none": (
        "没找到答案，已转给管理员。",
        "I have no answer to that; an operator will look at it.",
    ),
    "appeal": ("已收到申诉，管理员会处理。", "Your appeal is recorded; an operator will decide."),
    "entry_question": (
        "入群验证：{question}（请在 {minutes} 分钟内直接回复答案）",
        "Before you join: {question} (reply with the answer within {minutes} minutes)",
    ),
    "entry_wrong": (
        "答案不正确，入群申请未通过。",
        "That answer is not right; the request is declined.",
    ),
    "not_operator": ("只有管理员可以使用这个命令。", "Only operators may use this command."),
    "signed_up": (
        "{name} 报名成功：「{title}」{start} 开始。",
        '{name}, you are signed up for "{title}", starting {start}.',
    ),
    "signup_already": (
        "{name} 已经报名了「{title}」。",
        '{name}, you are already signed up for "{title}".',
    ),
    "signup_closed": (
        "「{title}」已结束，报名已关闭。",
        '"{title}" has ended; sign-ups are closed.',
    ),
    "signup_none": ("现在没有可报名的活动。", "No activity is open for sign-up now."),
    "signup_which": (
        "有几个活动可以报名，请写上活动名：报名 活动名。可选：{names}",
        "Several activities are open; name one: /signup NAME. Open: {names}",
    ),
    "signup_unknown": (
        "没有叫「{wanted}」的活动。可报名：{names}",
        'No activity is called "{wanted}". Open: {names}',
    ),
    "who": (
        "请写出成员（或回复其消息）：{command} 成员",
        "Name the member (or reply to their message): {command} MEMBER",
    ),
}


def say(key: str, language: str, **values: Any) -> str:
    """The message `key` in `language` (zh_CN or en), filled with `values`."""
    zh, en = TEXTS[key]
    return (en if language == "en" else zh).format(**values)


def duration(seconds: int, language: str) -> str:
    """600 → "10 分钟" / "10 min"; 86400 → "1 天" / "1 day"."""
    for size, zh, en in ((86400, "天", "day"), (3600, "小时", "h"), (60, "分钟", "min")):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return (
                f"{n} {zh}"
                if language != "en"
                else f"{n} {en}{'s' if en == 'day' and n > 1 else ''}"
            )
    return f"{seconds} 秒" if language != "en" else f"{seconds} s"
