"""The FAQ library (`faq/*.yaml`) and matching a question against it.

Each file is a list of entries:

```yaml
- id: opening-hours
  questions: [营业时间是几点？, 你们几点开门, What are your opening hours?]
  answer: 每天 9:00–21:00。 Open 9:00–21:00 every day.
  tags: [shop]
```

Every question variant is a document of a BM25 index (bm25s) over jieba's search-mode
tokens of the normalised text, so Chinese and English share one index. BM25 ranks
the variants; its score has no fixed scale, so the confidence is separate: the share
of the question's token weight (idf) that the best variant covers, scaled by the
fourth root of the share of the variant it covers in return (docs/bot.md has the
measurements). 1.0 is the variant itself; an off-topic question scores near 0.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shequn.bot.normalise import normalise
from shequn.errors import InputError
from shequn.yamlio import YAML_HINT, Lines, build_data, compose, validation_problem

FOLDER = "faq"
# A question is short; the rest of a long message adds nothing but tokenising time.
MAX_QUESTION = 300
_CJK_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = re.compile(f"[{_CJK_CHARS}]")
_RUNS = re.compile(f"[{_CJK_CHARS}]+|[^\\W_{_CJK_CHARS}]+")
_STOP = (
    "的 了 吗 呢 啊 吧 呀 嘛 么 是 我 你 我们 你们 请问 一下 想 问 有 在 和 与 the a an is are "
    "do does i you we to of in on for can how what please it be my your me this that"
)
STOPWORDS = frozenset(_STOP.split(" "))


class Entry(BaseModel):
    """One FAQ entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    questions: list[str] = Field(min_length=1)
    answer: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Match:
    """The best entry for a question, and how sure the match is (0–1)."""

    entry: Entry | None
    confidence: float
    variant: str = ""


@lru_cache(maxsize=1)
def _jieba():  # type: ignore[no-untyped-def]
    import jieba  # type: ignore[import-untyped]

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def tokens(text: str) -> list[str]:
    """Search-mode jieba tokens of the normalised text's Chinese runs, the other words
    whole; without stop words. Jieba's HMM (new-word guessing) is off: it costs a
    Viterbi pass per unknown run and an unknown word still matches by its characters."""
    out: list[str] = []
    for run in _RUNS.findall(normalise(text[:MAX_QUESTION])):
        found = _jieba().lcut_for_search(run, HMM=False) if _CJK.match(run) else (run,)
        out += [t for t in found if t not in STOPWORDS]
    return out


def read_file(path: Path) -> list[Entry]:
    """The entries of one faq file.

    Raises:
        InputError: naming the file, the line and the fix.
    """
    source = path.read_text(encoding="utf-8")
    node = compose(source, str(path), hint=YAML_HINT + ", and a question with ? inside [ ]")
    if node is None:
        return []
    if not isinstance(node, yaml.SequenceNode):
        raise InputError(
            "a FAQ file is a list of entries", path=str(path), line=1, hint="start with `- id: ...`"
        )
    lines: Lines = {}
    data = build_data(node, (), lines, str(path))
    entries = []
    for i, item in enumerate(data):
        try:
            entries.append(Entry.model_validate(item))
        except ValidationError as exc:
            problem = validation_problem(exc.errors()[0], _shifted(lines, i), str(path))
            raise InputError(
                _bare(problem),
                path=str(path),
                line=problem.line,
                field=problem.field,
                hint="see docs/bot.md (FAQ library)",
            ) from None
    return entries


def _shifted(lines: Lines, index: int) -> Lines:
    """The line table seen from entry `index` (pydantic locations start inside it)."""
    return {k[1:]: v for k, v in lines.items() if k[:1] == (index,)}


def _bare(problem: InputError) -> str:
    return problem.message.split(": ", 1)[1] if ": " in problem.message else problem.message


def load(folder: Path) -> list[Entry]:
    """Every entry of `folder/*.yaml`, ids unique across files.

    Raises:
        InputError: the first problem found.
    """
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        for entry in read_file(path):
            if entry.id in seen:
                raise InputError(
                    f"FAQ id {entry.id!r} is also used in {seen[entry.id]}",
                    path=str(path),
                    hint="give each entry its own id",
                )
            seen[entry.id] = str(path)
            entries.append(entry)
    return entries


class Index:
    """The BM25 index over every question variant of some entries."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        import bm25s  # type: ignore[import-untyped]

        self.entries = list(entries)
        self._owner: list[int] = []
        self._docs: list[frozenset[str]] = []
        self._variants: list[str] = []
        corpus: list[list[str]] = []
        for i, entry in enumerate(self.entries):
            for question in entry.questions:
                found = tokens(question)
                corpus.append(found or ["∅"])
                self._docs.append(frozenset(found))
                self._owner.append(i)
                self._variants.append(question)
        df: dict[str, int] = {}
        for doc in self._docs:
            for t in doc:
                df[t] = df.get(t, 0) + 1
        n = max(len(self._docs), 1)
        self._idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self._unknown = math.log(1 + (n + 0.5) / 0.5)
        self._bm25 = bm25s.BM25()
        if corpus:
            self._bm25.index(corpus, show_progress=False)

    def match(self, question: str, tags: Iterable[str] = ()) -> Match:
        """The best entry (among those with one of `tags`, if any) and its confidence."""
        query = tokens(question)
        if not query or not self._docs:
            return Match(None, 0.0)
        scores = self._bm25.get_scores(query)
        wanted = set(tags)
        best, best_score = -1, 0.0
        for doc in scores.argsort()[::-1][:8]:
            entry = self.entries[self._owner[doc]]
            if scores[doc] <= 0 or (wanted and not wanted & set(entry.tags)):
                continue
            if scores[doc] > best_score:
                best, best_score = int(doc), float(scores[doc])
        if best < 0:
            return Match(None, 0.0)
        return Match(
            self.entries[self._owner[best]],
            round(self._confidence(set(query), self._docs[best]), 3),
            self._variants[best],
        )

    def _confidence(self, query: set[str], doc: frozenset[str]) -> float:
        weight = self._idf.get
        asked = sum(weight(t, self._unknown) for t in query)
        shared = sum(weight(t, self._unknown) for t in query & doc)
        offered = sum(weight(t, self._unknown) for t in doc) or 1.0
        return (shared / asked) * (shared / offered) ** 0.25 if asked else 0.0
