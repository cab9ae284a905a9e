"""Invented words: display names and message texts, in Chinese and some English.

Names are a pure function of (community, member number), so a member keeps the same
name whatever else the simulation draws. Texts are tables of phrases; events carry a
code into the table and frames look the string up.
"""

from __future__ import annotations

import zlib

import numpy as np
import polars as pl


def _words(text: str) -> list[str]:
    """A word list written as one space-separated string (easier to read and edit)."""
    return text.split()


_SURNAMES = _words(
    "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 曹 "
    "彭 曾 肖 田 董 袁 潘 于 蒋 蔡 余 杜 叶 程 苏 魏 吕 丁 任 沈"
)
_GIVEN = _words(
    "伟 芳 娜 敏 静 丽 强 磊 洋 艳 勇 军 杰 娟 涛 明 超 秀英 霞 平 刚 桂英 子涵 欣怡 梓轩 "
    "浩然 宇轩 雨桐 一诺 思远 晓东 佳琪 梦瑶 俊杰 嘉怡 文博 雅婷 天宇 若曦 明轩 诗涵 建华 "
    "海燕 志强 晨 悦 乐 琳 昊 萱"
)
_NICKNAMES = _words(
    "小鱼 阿杰 糖糖 老王 大熊 小满 阿飞 豆豆 橙子 木木 七七 阿宝 小鹿 栗子 柚子 团团 "
    "老陈 阿强 星星 小舟 风吹麦浪 山野 慢慢 知了 南风 一只猫 向日葵 拾光 清欢 半夏 "
    "不二 大圣 小太阳 阿木 暖暖 北北 夏天 阿离 芒果 土豆"
)
_ENGLISH = _words(
    "Amy Leo Coco Kevin Lily Jason Emma Tony Cindy Eric Grace Jack Vivian Sam Nina Ryan "
    "Iris Ben Mia David Sunny Alex Zoe Frank Joy Max Echo Ivy Oscar Luna Tom Anna Bruce "
    "Kiki Mark Elsa Henry Ruby Ken Yuki"
)
_PINYIN = _words("Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo Lin Luo")
_CITIES = _words("北京 上海 杭州 深圳 成都 广州 南京 武汉 西安 苏州 厦门 长沙")

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def mix(values: np.ndarray, salt: int) -> np.ndarray:
    """A well-spread 64-bit hash of each value (splitmix64), independent of any RNG."""
    x = values.astype(np.uint64) + np.uint64((0x9E3779B97F4A7C15 + salt) % 2**64)
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def _pick(table: list[str], hashes: np.ndarray, shift: int) -> pl.Series:
    index = (hashes >> np.uint64(shift)) % np.uint64(len(table))
    return pl.Series(table).gather(index.astype(np.int64))


def member_names(community: str, first: int, count: int) -> pl.Series:
    """Display names of members ``first .. first + count - 1`` of a community."""
    h = mix(np.arange(first, first + count, dtype=np.uint64), zlib.crc32(community.encode()))
    style = (h % np.uint64(100)).astype(np.int64)
    frame = pl.DataFrame(
        {
            "style": style,
            "surname": _pick(_SURNAMES, h, 8),
            "given": _pick(_GIVEN, h, 16),
            "nick": _pick(_NICKNAMES, h, 24),
            "english": _pick(_ENGLISH, h, 32),
            "pinyin": _pick(_PINYIN, h, 40),
            "city": _pick(_CITIES, h, 48),
        }
    )
    style_col = pl.col("style")
    name = (
        pl.when(style_col < 40)
        .then(pl.concat_str("surname", "given"))
        .when(style_col < 62)
        .then(pl.col("nick"))
        .when(style_col < 82)
        .then(pl.col("english"))
        .when(style_col < 92)
        .then(pl.concat_str("english", "pinyin", separator=" "))
        .otherwise(pl.concat_str("nick", "city", separator="_"))
    )
    return frame.select(name.alias("name"))["name"]


# Message texts shared by every kind of community.
_COMMON = {
    "message": [
        "大家早上好☀️",
        "晚上好呀",
        "有人在吗？",
        "今天好忙😂",
        "周末有什么安排？",
        "收到，谢谢！",
        "这个太实用了",
        "哈哈哈哈",
        "同问",
        "分享一个小技巧给大家",
        "Good morning everyone!",
        "Thanks for sharing 🙏",
        "刚看到群里的消息",
        "我也是这么想的",
    ],
    "reply": [
        "谢谢！",
        "同意👍",
        "说得对",
        "学到了",
        "我也遇到过",
        "可以私聊你吗？",
        "哈哈是的",
        "+1",
        "具体怎么操作？",
        "感谢解答🙏",
        "Agreed!",
        "Same here",
        "有道理",
        "收藏了",
    ],
    "intro": [
        "大家好，我是新来的，请多关照🙂",
        "Hi all, 新人报到！",
        "大家好～朋友推荐进群的",
        "新人求带🙏",
        "hello，刚扫码进来",
    ],
    "spam": [
        "加V领取免费资料，名额有限！！",
        "兼职日结300，私聊",
        "低价代购，需要的加我",
    ],
    "checkin": ["打卡✅", "今日打卡", "Day打卡 💪", "打卡，坚持！", "已完成今日任务"],
    "feedback": ["很满意", "还不错", "一般般", "希望下次更好", "非常棒，推荐！"],
}

_KIND = {
    "brand": {
        "message": [
            "新到的明前龙井味道怎么样？",
            "白茶饼适合送人吗",
            "昨天收到货了，包装很用心",
            "有没有适合上班喝的茶推荐",
            "茶具套装还有货吗",
            "冲泡水温多少合适？",
            "第一次喝岩茶，好香",
            "快递到上海要几天？",
            "团购什么时候开始",
            "门店周末营业吗",
        ],
        "reply": ["85度左右就行", "适合，我送过", "两天就到了", "周末也营业的", "有货，我刚买"],
        "announce": [
            "【上新】春茶到店，群内专享9折🍵",
            "今晚8点直播品鉴，欢迎来看",
            "提醒：本周六门店茶会，名额有限",
            "订单问题请私聊小助手",
            "【群规】请勿发广告，谢谢配合",
        ],
        "content": ["春茶冲泡指南", "白茶存放的五个误区", "门店茶会回顾", "茶与健康问答"],
        "activity": ["门店品鉴会", "直播茶会", "新品试饮"],
    },
    "training": {
        "message": [
            "今天的作业有点难",
            "老师，第三题怎么做？",
            "pandas 的 groupby 还是不太懂",
            "直播回放在哪里看？",
            "终于跑通了🎉",
            "有没有一起组队学习的",
            "这周进度跟不上了",
            "SQL 窗口函数好神奇",
            "求推荐练习数据集",
            "今天学到了很多",
        ],
        "reply": [
            "看回放第40分钟",
            "用 merge 就可以",
            "我也卡在这里",
            "一起一起",
            "课件里有例子",
        ],
        "announce": [
            "【作业】本周作业已发布，周日前提交",
            "今晚8点直播课，准时上线",
            "【提醒】明天截止打卡",
            "优秀作业展示，大家来学习👏",
            "有问题在群里提问，助教会回复",
        ],
        "content": ["第1周课件", "数据清洗实战", "可视化作业讲解", "面试题精选", "学习路线图"],
        "activity": ["直播课", "答疑课", "结业分享会"],
    },
    "interest": {
        "message": [
            "这周去哪里徒步？",
            "上次的路线风景太好了⛰️",
            "登山杖推荐哪款？",
            "下雨还去吗",
            "照片发群里了",
            "新手可以参加吗",
            "有没有人拼车",
            "Anyone joining on Saturday?",
            "周六天气不错",
            "膝盖有点疼，求建议",
        ],
        "reply": ["新手路线可以", "我开车，带两个人", "下雨取消", "护膝很重要", "我去！"],
        "announce": [
            "【活动】本周六徒步报名开始",
            "请参加活动的朋友购买保险",
            "集合地点：地铁站A口，7:30",
            "活动照片已上传相册",
        ],
        "content": ["新手徒步装备清单", "五条周边徒步路线", "户外安全须知", "活动回顾"],
        "activity": ["周末徒步", "夜爬", "城市漫步"],
    },
}

CATEGORIES = (
    "message",
    "reply",
    "announce",
    "intro",
    "spam",
    "checkin",
    "content",
    "activity",
    "feedback",
)


class TextTable:
    """Every phrase of one community kind, with the code range of each category."""

    def __init__(self, kind: str) -> None:
        phrases: list[str] = []
        self.ranges: dict[str, tuple[int, int]] = {}
        for category in CATEGORIES:
            items = _COMMON.get(category, []) + _KIND[kind].get(category, [])
            self.ranges[category] = (len(phrases), len(phrases) + len(items))
            phrases.extend(items)
        self.series = pl.Series("text", phrases, dtype=pl.String)

    def pick(self, rng: np.random.Generator, category: str, n: int) -> np.ndarray:
        """``n`` random codes of phrases of ``category``."""
        low, high = self.ranges[category]
        return rng.integers(low, high, size=n, dtype=np.int64)
