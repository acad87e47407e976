"""Finding known phrases (mood words, genre names, artist names) in free text, fast.

Latin-script phrases are matched on word n-grams (so "feel-good", "feel good" and "Feel Good!" are one phrase,
and 20,000 artist names cost one dictionary lookup per n-gram, not one regex each); Chinese/Japanese phrases,
which have no spaces, are matched as substrings. Longer phrases win over the shorter ones inside them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from .lexicon import load

_WORD = re.compile(r"[\w&]+")
_WORDS = load("request")
NEGATING_WORDS = frozenset(_WORDS["negating_words"])  # a phrase right after one of these is negated
NEGATING_PAIRS = frozenset(_WORDS["negating_pairs"])
NEGATING_CJK: tuple[str, ...] = _WORDS["negating_cjk"]


def split_sentences(text: str, ends: str = ".!?", lines: bool = False, shortest: int = 1) -> list[str]:
    """The sentences of `text`, cut after any of `ends` followed by space; with `lines`, also at every line break
    (and spacing inside a sentence kept), else the text's spacing is made single first. Pieces shorter than
    `shortest` characters are left out. The one splitter: replies are checked (`.!?` and CJK stops, by line),
    descriptions planned (`;` too) and training texts cut with it."""
    if lines:
        parts = re.split(rf"(?<=[{re.escape(ends)}])\s+|\n+", text or "")
    else:
        parts = re.split(rf"(?<=[{re.escape(ends)}])\s+", " ".join((text or "").split()))
    return [part.strip() for part in parts if part and len(part.strip()) >= shortest]


QUOTED = re.compile(r"[\"\u201c\u00ab]([^\"\u201c\u201d\u00ab\u00bb]{1,300})[\"\u201d\u00bb]")  # a quoted title


def quoted(text: str, shortest: int = 1, longest: int = 300) -> list[str]:
    """What `text` quotes (straight, curly or angle quotation marks), each of `shortest` to `longest` characters."""
    return [q for q in QUOTED.findall(text or "") if shortest <= len(q) <= longest]


def same_artist(named: str, artist: str) -> bool:
    """A name as written is this artist: the same words, or the one the start of the other ("Elliott" for
    "Elliott Smith", "The National" for "The National Parks")."""
    a, b = phrase_key(named), phrase_key(artist)
    return a == b or b.startswith(a + " ") or a.startswith(b + " ")


def words(text: str) -> list[str]:
    if not text.isascii():  # NFKC leaves ASCII as it is
        text = unicodedata.normalize("NFKC", text)
    return _WORD.findall(text.casefold())


def phrase_key(text: str) -> str:
    return " ".join(words(text))


# the combining marks NFKD splits off accented letters (Latin, Greek, Cyrillic, ...): one regex pass, not a
# Python call per character
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u3099\u309a]")


def strip_accents(text: str) -> str:
    """"Beyoncé" -> "Beyonce": how people type names on a phone."""
    if text.isascii():  # most names: nothing to strip
        return text
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text))


def is_cjk(text: str) -> bool:
    return any("\u3040" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" for ch in text)


@dataclass(frozen=True)
class Match:
    phrase: str  # as registered
    negated: bool  # preceded by "not", "no", "less", "不" ...


class PhraseMatcher:
    """Registered phrases -> the non-overlapping ones a text contains, longest first."""

    def __init__(self, phrases: Iterable[str]):
        self.latin: dict[str, str] = {}
        self.cjk: list[str] = []
        for phrase in phrases:
            if is_cjk(phrase):
                self.cjk.append(phrase.casefold())
            elif key := phrase_key(phrase):
                self.latin.setdefault(key, phrase)
        self.cjk.sort(key=len, reverse=True)
        self.longest = max((k.count(" ") + 1 for k in self.latin), default=0)

    def find(self, text: str) -> list[Match]:
        found = self._find_latin(words(text))
        if self.cjk and is_cjk(text):
            found += self._find_cjk(unicodedata.normalize("NFKC", text).casefold())
        return found

    def _find_latin(self, tokens: list[str]) -> list[Match]:
        taken = [False] * len(tokens)
        hits: list[tuple[int, Match]] = []
        for n in range(min(self.longest, len(tokens)), 0, -1):
            for i in range(len(tokens) - n + 1):
                if any(taken[i:i + n]):
                    continue
                phrase = self.latin.get(" ".join(tokens[i:i + n]))
                if phrase is None:
                    continue
                taken[i:i + n] = [True] * n
                before = " ".join(tokens[max(0, i - 2):i])
                negated = (i > 0 and tokens[i - 1] in NEGATING_WORDS) or before in NEGATING_PAIRS
                hits.append((i, Match(phrase, negated)))
        return [match for _, match in sorted(hits, key=lambda pair: pair[0])]

    def _find_cjk(self, text: str) -> list[Match]:
        taken = [False] * len(text)
        hits: list[tuple[int, Match]] = []
        for phrase in self.cjk:
            start = text.find(phrase)
            while start != -1:
                end = start + len(phrase)
                if not any(taken[start:end]):
                    taken[start:end] = [True] * len(phrase)
                    negated = any(text[max(0, start - len(neg)):start] == neg for neg in NEGATING_CJK)
                    hits.append((start, Match(phrase, negated)))
                start = text.find(phrase, end)
        return [match for _, match in sorted(hits, key=lambda pair: pair[0])]
