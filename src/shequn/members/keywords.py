"""Top keywords of what a member writes: jieba for Chinese, words for English.

The stop lists are written for shequn (common function words of chat in each
language); keywords are computed on demand and never stored.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable

_ZH_WORDS = """
的 了 是 我 你 他 她 它 们 我们 你们 他们 这 那 这个 那个 就 都 也 还 在 有 和 与 跟
吗 呢 吧 啊 哦 嗯 哈 哈哈 哈哈哈 呀 啦 么 什么 怎么 为什么 没有 不是 一个 一下 可以
知道 觉得 然后 但是 因为 所以 如果 就是 还是 已经 现在 今天 明天 自己 大家 这样 那样
一些 比较 真的 好的 谢谢 好 对 不 没 要 会 能 去 来 说 看 想 做 到 给 被 把 让 很 太 多
又 再 才 只 个 些 上 下 里 中
"""
_EN_WORDS = """
a an the and or but if then so to of in on at by for with from as is are was were be
been being it its this that these those i you he she we they me him her us them my your
our their do does did done have has had not no yes ok okay just very really can could
will would should what which who when where why how all any some more most there here
about into out up down over than too also lol thanks thank im i'm it's don't
"""
STOP_ZH = frozenset(_ZH_WORDS.split())
STOP_EN = frozenset(_EN_WORDS.split())
_WORD = re.compile(r"[a-z][a-z'\-]{2,}")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def tokens(text: str) -> list[str]:
    """Content words of one text: jieba words of two or more CJK characters, English
    words of three or more letters; stop words dropped."""
    import jieba

    jieba.setLogLevel(logging.WARNING)  # its dictionary-loading chatter is not ours

    out = [w.lower() for w in _WORD.findall(text.lower()) if w not in STOP_EN]
    if _CJK.search(text):
        out += [w for w in jieba.lcut(text) if len(w) >= 2 and _CJK.search(w) and w not in STOP_ZH]
    return out


def top_keywords(texts: Iterable[str], limit: int = 10) -> list[tuple[str, int]]:
    """The `limit` most frequent content words across `texts`, with their counts."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(tokens(text))
    return counts.most_common(limit)
