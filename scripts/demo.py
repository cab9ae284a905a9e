"""`make demo`: the main job on a fresh machine, with the embedded defaults.

Creates demo-workspace/ with three communities described in shequn.toml, simulates
90 days of their history, imports example chat exports and orders written for shequn,
and prints what the workspace holds. Every step is a `shequn` command, printed before
it runs, so the output doubles as a tour.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKSPACE = ROOT / "demo-workspace"
EXAMPLES = ROOT / "examples"
MARKER = ".shequn-demo"
SHEQUN = Path(sys.executable).with_name("shequn")

COMMUNITIES = """
[[communities]]
key = "tea-shop"
name = "一叶茶舍·会员群"
platform = "wechat"
template = "brand-members"
positioning = "茶舍老客的福利与交流群：新品尝鲜、冲泡知识、会员专属优惠"
target_users = "在门店或线上买过茶的 25-45 岁城市白领"
channels = ["公众号", "抖音", "小红书", "offline_qr"]

[[communities.long_term_goals]]
text = "一年内会员复购率达到 35%"
metric = "repurchase_rate"
target = 0.35
period = "month"

[[communities.short_term_goals]]
text = "每月成交转化率不低于 8%"
metric = "purchase_conversion"
target = 0.08
period = "month"

[[communities]]
key = "data-camp"
name = "数据分析训练营"
platform = "qq"
template = "training-camp"
positioning = "21 天数据分析入门训练营：每日打卡、作业点评、结营后转正式课"
target_users = "想转行或提升技能的大学生和职场新人"
channels = ["公众号", "抖音", "offline_qr"]

[[communities.long_term_goals]]
id = "camp-enrol"
text = "结营后 30% 学员报名正式课"
metric = "purchase_conversion"
target = 0.3
horizon = "day 30"

[[communities.short_term_goals]]
text = "训练营期间每周活跃度不低于 60%"
metric = "active_rate"
target = 0.6
period = "week"
serves = "camp-enrol"

[[communities]]
key = "hiking"
name = "城市周末徒步群"
platform = "telegram"
template = "interest-group"
positioning = "周末一起走城市周边的山：路线分享、活动报名、装备交流"
target_users = "喜欢户外、想认识新朋友的城市年轻人"
channels = ["小红书", "invite_link", "offline_qr"]

[[communities.long_term_goals]]
text = "靠老带新自增长：裂变倍增率达到 1.5"
metric = "fission_multiplier"
target = 1.5
period = "month"

[[communities.short_term_goals]]
text = "月流失率不高于 10%"
metric = "churn_rate"
target = 0.1
direction = "at_most"
period = "month"
"""


def shequn(*args: str) -> None:
    print(f"\n$ shequn {shlex.join(args)}", flush=True)
    subprocess.run([str(SHEQUN), *args, "-w", str(WORKSPACE)], check=True)


def fresh_workspace() -> None:
    if WORKSPACE.exists():
        if not (WORKSPACE / MARKER).exists():
            sys.exit(f"{WORKSPACE} exists and was not made by `make demo`: move it away first")
        shutil.rmtree(WORKSPACE)
    print(f"$ shequn init {WORKSPACE.name}", flush=True)
    subprocess.run([str(SHEQUN), "init", str(WORKSPACE), "--name", "shequn demo"], check=True)
    (WORKSPACE / MARKER).write_text("made by make demo; deleted by the next one\n")
    settings = WORKSPACE / "shequn.toml"
    head = settings.read_text(encoding="utf-8").split("[[communities]]")[0]
    settings.write_text(head.rstrip() + "\n" + COMMUNITIES, encoding="utf-8")


def main() -> None:
    fresh_workspace()
    shequn("simulate", "--communities", "3", "--days", "90", "--seed", "42")
    for example, community in sorted(EXAMPLE_IMPORTS.items()):
        args = ["import", str(EXAMPLES / example)]
        if community:
            args += ["--community", community]
        shequn(*args)
    shequn("simulate", "--communities", "3", "--days", "90", "--seed", "42")  # idempotent
    shequn("status")
    shequn("sop", "new", "--from", "newcomer-7day")
    shequn("sop", "new", "--from", "daily-routine")
    shequn("sop", "validate")
    shequn("metrics", "--community", "tea-shop", "--from", "2025-10-01", "--to", "2025-11-01")
    html = WORKSPACE / "review-2025-10.html"
    markdown = WORKSPACE / "review-2025-10.md"
    shequn("review", "--period", "2025-10", "--format", "html", "--out", str(html))
    shequn("review", "--period", "2025-10", "--format", "md", "--out", str(markdown))
    # The history ends in 2025: members are asked about as of its end, not today.
    shequn("members", "leaders", "--top", "5", "--at", "2025-11-01")
    print(f"\nThe demo workspace is {WORKSPACE}.")
    print(f"The review (复盘) of October 2025 is {html}\n  and, as Markdown, {markdown}.")
    console_login()


def console_login() -> None:
    """A demo owner with a one-time password, and how to open the web console."""
    import secrets

    password = secrets.token_urlsafe(12)
    env = {**os.environ, "SHEQUN_DEMO_PASSWORD": password}
    name = f"demo-{secrets.token_hex(3)}"
    subprocess.run(
        [
            str(SHEQUN),
            "users",
            "add",
            name,
            "--role",
            "owner",
            "--password-env",
            "SHEQUN_DEMO_PASSWORD",
            "-w",
            str(WORKSPACE),
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    print("\nThe web console (控制台):")
    print(f"  .venv/bin/shequn serve --workspace {WORKSPACE}")
    print(f"  then open http://127.0.0.1:8000/ and sign in as {name} / {password}")
    print("  (this password is printed once and stored only as a hash)")


# Example exports written for shequn (not real people), and the community to file
# each under ("" = the one the export names).
EXAMPLE_IMPORTS: dict[str, str] = {
    "WhatsApp Chat with Weekend Hikers.txt": "hiking",
    "telegram-hiking.json": "hiking",
    "qq-data-camp.txt": "data-camp",
    "wechat-tea-shop.csv": "tea-shop",
    "orders-tea-shop.csv": "tea-shop",
}

if __name__ == "__main__":
    main()
