"""The structure of a request, read with regular expressions: eras (decades, ranges, "the last 10 years",
"80年代"), counts ("8 songs") and references to earlier picks ("#2", "the second one"), and the clause and cue
helpers the term reader shares. `parse.read_constraints` reads these first, then the terms around them."""

from __future__ import annotations

import re

from .constraints import Constraints, YearRange
from .parse_words import (
    CJK_CUES,
    CJK_NUMBERS,
    DECADE,
    DECADE_WORDS,
    ERA_FILLER,
    NUMBER_WORDS,
    ORDINALS,
    PRE_CUES,
    RESETS,
    UNITS,
    YEAR,
)


def _clause_of(clauses: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    for a, b in clauses:
        if a <= pos < b:
            return a, b
    return pos, pos  # between clauses (on a break itself): no cue can reach it


def _read_eras(s: str, taken: list[bool], clauses, c: Constraints, now: int, refused) -> None:
    included: list[YearRange] = []
    for pattern, build in _ERA_RULES:
        for m in re.finditer(pattern, s):
            if any(taken[m.start():m.end()]):
                continue
            low, high = build(m, now)
            if low is None and high is None:
                continue
            _take(taken, m.start(), m.end())
            words = s[m.start():m.end()].strip()
            cue = _cue_before(s, m.start(), _clause_of(clauses, m.start()))
            if cue is not None and not ERA_FILLER.match(s[cue[1]:m.start()]):
                cue = None  # "without saxophone from the 60s": the cue refuses the saxophone, not the decade
            if cue is None:
                included.append(YearRange(low=low, high=high, words=words))
                continue
            refused.append(cue)
            if low is not None and high is not None:
                c.excluded_eras.append(YearRange(low=low, high=high, words=s[cue[0]:m.end()]))
            elif low is not None:  # "nothing after 2010" = up to 2010
                included.append(YearRange(low=None, high=low - 1, words=s[cue[0]:m.end()]))
            else:  # "nothing older than 1990" = 1990 on
                included.append(YearRange(low=high + 1, high=None, words=s[cue[0]:m.end()]))
    if included:
        lows = [r.low for r in included if r.low is not None]
        highs = [r.high for r in included if r.high is not None]
        c.era = YearRange(low=min(lows) if lows else None, high=max(highs) if highs else None,
                          words="; ".join(r.words for r in included))


def _decade(m: re.Match, offset: int = 0) -> int:
    g = m.groups()[offset:offset + 6]
    if g[0] and g[1]:
        return int(g[0] + g[1] + "0")
    if g[2]:
        return _two_digit_decade(g[2])
    if g[3]:
        return DECADE_WORDS[g[3]]
    if g[5]:
        return int(g[4] + g[5] + "0") if g[4] else _two_digit_decade(g[5])
    raise ValueError(m.group(0))


def _two_digit_decade(digit: str) -> int:
    return int(("20" if digit in "012" else "19") + digit + "0")


def _span_of_decades(m: re.Match, _now: int) -> tuple[int, int]:
    first, second = _decade(m, 0), _decade(m, 6)
    return min(first, second), max(first, second) + 9


def _part_of_decade(m: re.Match, _now: int) -> tuple[int, int]:
    start = _decade(m, 1)
    part = m.group(1)
    return (start, start + 4) if part == "early" else (start + 5, start + 9) if part == "late" else (start + 3,
                                                                                                        start + 7)


def _recent(m: re.Match, now: int) -> tuple[int, int]:
    amount = m.group(1)
    n = int(amount) if amount and amount.isdigit() else NUMBER_WORDS.get(amount or "", 1)
    years = n * (10 if m.group(2).startswith("decade") else 1)
    return now - years, now


def _from_or_since(m: re.Match, _now: int) -> tuple[int | None, int | None]:
    year = int(m.group(1))
    if m.group(0).startswith("since") or re.search(r"(?:on|onwards|onward|forward)$", m.group(0)):
        return year, None
    return year, year  # "songs from 1999"


_ERA_RULES = [
    (r"(?:since|from)\s+" + DECADE + r"\s*(?:on\b|onwards|onward|forward)", lambda m, _: (_decade(m), None)),
    (r"\bsince\s+" + DECADE, lambda m, _: (_decade(m), None)),
    (r"\b(?:before|pre-?|older than|earlier than|prior to)\s*" + DECADE, lambda m, _: (None, _decade(m) - 1)),
    (r"\b(?:after|post-?|newer than|later than)\s*" + DECADE, lambda m, _: (_decade(m) + 10, None)),
    (r"\b" + YEAR + r"\s*(?:-|–|to)\s*" + YEAR + r"\b", lambda m, _: tuple(sorted((int(m.group(1)), int(m.group(2)))))),
    (r"([一二三四五六七八九])十\s*年代", lambda m, _: (1900 + 10 * CJK_NUMBERS[m.group(1)],
                                               1909 + 10 * CJK_NUMBERS[m.group(1)])),
    (r"(?:最近|过去|近)\s*(\d+|[一二三四五六七八九十]+)\s*年", lambda m, now: (now - _number(m.group(1)), now)),
    (r"(?:between|from)\s+" + YEAR + r"\s*(?:and|to|through|till|until|-|–)\s*" + YEAR,
     lambda m, _: tuple(sorted((int(m.group(1)), int(m.group(2)))))),
    (DECADE + r"\s*(?:and|or|to|through|-|–|&)\s*" + DECADE, _span_of_decades),
    (r"\b(early|mid|late)[- ]?" + DECADE, _part_of_decade),
    (r"(?:the\s+)?(?:last|past)\s+(\d+|two|three|four|five|ten|twenty|few|a few|couple of)?\s*(years?|decades?)",
     _recent),
    (YEAR + r"\s*(?:or later|and later|and after|or after|onwards|onward|and up|\+|or newer|and beyond)",
     lambda m, _: (int(m.group(1)), None)),
    (r"(?:from|since)\s+" + YEAR + r"\s*(?:on\b|onwards|onward|forward)?", _from_or_since),
    (YEAR + r"\s*(?:or earlier|and earlier|and before|or before|or older)", lambda m, _: (None, int(m.group(1)))),
    (r"\b(?:after|post-?|newer than|later than|more recent than)\s*" + YEAR, lambda m, _: (int(m.group(1)) + 1, None)),
    (r"\b(?:before|pre-?|older than|earlier than|prior to)\s*" + YEAR, lambda m, _: (None, int(m.group(1)) - 1)),
    (r"\b(?:until|till|up to|through|up until)\s*" + YEAR, lambda m, _: (None, int(m.group(1)))),
    (r"\bin\s+" + YEAR + r"\b(?!s)", lambda m, _: (int(m.group(1)), int(m.group(1)))),
    (YEAR + r"\s*年\s*(?:以前|之前|前)", lambda m, _: (None, int(m.group(1)) - 1)),
    (YEAR + r"\s*年\s*(?:以后|之后|后|以来|至今)", lambda m, _: (int(m.group(1)), None)),
    (DECADE, lambda m, _: (_decade(m), _decade(m) + 9)),
]


def _read_refs_and_counts(s: str, taken: list[bool], c: Constraints) -> None:
    for m in re.finditer(r"#\s*(\d{1,2})|\bnumber\s+(\d{1,2})\b|第\s*([一二三四五六七八九十]|\d{1,2})\s*[首个]", s):
        value = m.group(1) or m.group(2) or m.group(3)
        _add_ref(c, int(value) if value.isdigit() else CJK_NUMBERS[value])
        _take(taken, m.start(), m.end())
    for m in re.finditer(r"\b(?:the\s+)?(" + "|".join(ORDINALS) + r")\s+(?:one|song|track|pick)\b", s):
        _add_ref(c, ORDINALS[m.group(1)])
        _take(taken, m.start(), m.end())
    for m in re.finditer(r"\b(?:like|than|as)\s+((?:\d{1,2})(?:\s*(?:,|and|&|or)\s*\d{1,2})*)\b(?!\s*" + UNITS + ")",
                         s):
        if any(taken[m.start():m.end()]):
            continue
        for number in re.findall(r"\d{1,2}", m.group(1)):
            _add_ref(c, int(number))
        _take(taken, m.start(), m.end())
    words = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
    for m in re.finditer(r"\b(\d{1,2}|" + words + r")\s+(?:more\s+|new\s+|other\s+|different\s+)?(?:[a-z-]+\s+){0,2}?"
                         + UNITS + r"\b|\b(\d{1,2})\s+more\b", s):
        if any(taken[m.start():m.end()]):
            continue
        value = m.group(1) or m.group(2)
        c.count = int(value) if value.isdigit() else NUMBER_WORDS[value]
        _take(taken, m.start(), m.start() + len(value))
        break
    if c.count is None and (m := re.search(r"\b(?:give me|play|another|just|only|show me|pick|need)\s+(\d{1,2})\b"
                                            r"(?!\s*(?:s\b|'s|th\b|st\b|nd\b|rd\b|年))", s)):
        c.count = int(m.group(1))
        _take(taken, m.start(1), m.end(1))
    if c.count is None and (m := re.search(r"\ba dozen\b", s)):
        c.count = 12
        _take(taken, m.start(), m.end())
    if c.count is None and (m := re.search(r"(?<!第)(\d{1,2}|[一两二三四五六七八九十]{1,2})\s*首", s)):
        value = m.group(1)
        c.count = int(value) if value.isdigit() else _cjk_number(value)
        _take(taken, m.start(), m.end())


def _number(text: str) -> int:
    return int(text) if text.isdigit() else _cjk_number(text)


def _cjk_number(text: str) -> int:
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + CJK_NUMBERS[text[1]]
    if len(text) == 2 and text[1] == "十":
        return CJK_NUMBERS[text[0]] * 10
    return CJK_NUMBERS[text[0]]


def _add_ref(c: Constraints, position: int) -> None:
    if (1 <= position <= 50 or position == -1) and position not in c.refs:  # -1: the last one on screen
        c.refs.append(position)


def _cue_before(s: str, start: int, clause: tuple[int, int]) -> tuple[int, int] | None:
    """The nearest negation cue before `start` in its clause, unless a positive turn ("maybe", "more like")
    stands between them."""
    before = s[clause[0]:start]
    best = None
    for cue in PRE_CUES:
        for m in re.finditer(r"(?<![\w'])" + re.escape(cue) + r"(?![\w'])", before):
            if cue == "nothing" and re.match(r"\s*but\b", before[m.end():]):
                continue  # "nothing but jazz" insists on jazz
            if best is None or m.start() > best[0]:
                best = (m.start(), m.end())
    for cue in CJK_CUES:
        position = before.rfind(cue)
        if position >= 0 and (best is None or position > best[0]):
            best = (position, position + len(cue))
    if best is None or RESETS.search(before[best[1]:]):
        return None
    return clause[0] + best[0], clause[0] + best[1]


def _take(taken: list[bool], start: int, end: int) -> None:
    for i in range(max(0, start), min(len(taken), end)):
        taken[i] = True
