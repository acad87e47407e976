"""Reading a request into typed constraints, with negation and its scope: the same with or without a model.

    reading = read_constraints("road trip music, anything apart from country", artists)
    reading.constraints.excluded("genre")      # ["country"]
    reading.search_text                         # "road trip music" : refused words are not searched for

How it reads, in order: the text is cut into clauses (at punctuation and at "but", "yet", "though", "instead");
eras, counts and references are read first and take their words out of play; then every known term (genres,
styles and instruments, vocals, languages, catalog artists, moods, relative moves) is found with its position.
A term is refused when a negation cue stands before it in its clause (no, not, never, without, except, anything
but, other than, avoid, skip, keep ... out, 不要, 别, 除了 ...), when a refusal follows it ("dancehall no",
"is not my thing"), or when its clause is answered by a bare "no thanks". "less" before a mood is a move
("less sad" = happier); before a genre it refuses the genre.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from .artists import ArtistMatcher
from .constraints import Constraints, Move, Term, YearRange
from .genres import GENRE_WORDS
from .mood import _lexicon, vocabulary
from .parse_words import (
    AMBIGUOUS_GENRES,
    BARE_NO,
    BREAK,
    CANONICAL,
    CJK_CUES,
    CJK_NUMBERS,
    COORDINATED,
    DECADE,
    DECADE_WORDS,
    ERA_FILLER,
    EXTRA_GENRES,
    HYPHEN_SUFFIXES,
    KEEP_OUT,
    LANGUAGES,
    MOOD_AXES,
    MOVES,
    NOT_GENRE_PHRASES,
    NOT_GENRES,
    NOT_STYLE_WORDS,
    NUMBER_WORDS,
    ORDINALS,
    POST_CUES,
    PRE_CUES,
    PRONOUN,
    RESETS,
    SIMILAR,
    STYLES,
    UNITS,
    VOCALS,
    YEAR,
)
from .text import phrase_key, strip_accents
from .vocab import AMBIGUOUS as AMBIGUOUS_STYLES
from .vocab import STYLES as MUSIC_STYLES


@dataclass
class _Found:
    start: int
    end: int
    kind: str  # genre, style, vocals, language, artist, mood, move
    value: str
    words: str


@dataclass
class Reading:
    constraints: Constraints
    search_text: str  # the request without the words of what it refuses
    refused: list[str] = field(default_factory=list)  # those words
    core: str = ""  # what is left once eras, counts, references, moves and refusals are taken out


def read_constraints(text: str, artists: ArtistMatcher | None = None, now: int | None = None) -> Reading:
    """Read `text`; `artists` recognises catalog artists; `now` is the current year (for "the last 10 years")."""
    import datetime

    now = now or datetime.date.today().year
    cased = _prepare(text)
    s = cased.lower()
    if len(s) != len(cased):  # a rare letter whose lower case is longer: positions must agree
        cased = s
    taken = [False] * len(s)
    clauses = _clauses(s)
    c = Constraints()
    refused: list[tuple[int, int]] = []
    _read_eras(s, taken, clauses, c, now, refused)
    _read_refs_and_counts(s, taken, c)
    structural = [(i, i + 1) for i, used in enumerate(taken) if used]
    found = _terms(s, cased, taken, artists)
    refused_items: list[_Found] = []
    for number, item in enumerate(found):
        negated, cue = _negated(s, item, clauses, found[:number])
        if not negated and _continues_refusal(s, item, clauses, found, refused_items):
            negated = True
        if negated:
            refused_items.append(item)
        _apply(c, item, negated, s)
        if negated:
            refused.append((item.start, item.end))
            if cue:
                refused.append(cue)
    _pronoun_refusals(s, c)
    moves = [(f.start, f.end) for f in found if f.kind == "move"]
    core = _blank(s, refused + structural + moves)
    return Reading(c, _without(text, s, refused), [s[a:b] for a, b in refused], core)


def _prepare(text: str) -> str:
    s = unicodedata.normalize("NFKC", text or "").replace("’", "'").replace("‘", "'")
    # CJK next to Latin letters or digits ("不要taylor swift", "90年代"): a space keeps word matching working
    s = re.sub(r"(?<=[\u3040-\u9fff])(?=[A-Za-z0-9#])|(?<=[A-Za-z0-9])(?=[\u3040-\u9fff])", " ", s)
    return s[:2000]


def _clauses(s: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in BREAK.finditer(s):
        if m.group(0).strip() == "but" and re.search(r"\b(?:anything|everything|all|nothing)\s*$", s[:m.start()]):
            continue  # "anything but jazz" is a refusal, "nothing but jazz" an insistence: not a clause break
        spans.append((start, m.start()))
        start = m.end() if m.group(0).strip() != "but" else m.start() + 1
    spans.append((start, len(s)))
    return [(a, b) for a, b in spans if b > a]


def _clause_of(clauses: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    for a, b in clauses:
        if a <= pos < b:
            return a, b
    return pos, pos  # between clauses (on a break itself): no cue can reach it


# --- eras ------------------------------------------------------------------------------------------------------

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




# --- references and counts -------------------------------------------------------------------------------------

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


# --- terms -----------------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _lexicon_table() -> tuple[dict[str, tuple[str, str]], list[tuple[str, tuple[str, str]]], int]:
    """phrase key -> (kind, value) for Latin phrases, the CJK phrases longest first, the longest phrase in words."""
    table: dict[str, tuple[str, str]] = {}

    def add(phrase: str, kind: str, value: str) -> None:
        table.setdefault(phrase if _cjk(phrase) else phrase_key(phrase), (kind, value))

    for phrase, value in MOVES.items():
        add(phrase, "move", f"{value[0]}{'+' if value[1] > 0 else '-'}")
    for phrase in VOCALS:
        add(phrase, "vocals", phrase)
    for phrase, words in GENRE_WORDS.items():
        if phrase not in NOT_GENRES:
            itself = [w for w in words if phrase_key(w) == phrase_key(phrase)]
            add(phrase, "genre", CANONICAL.get(phrase) or (itself or words)[0])
    for phrase, value in EXTRA_GENRES.items():
        add(phrase, "genre", value)
    for phrase, value in STYLES.items():
        add(phrase, "style", value)
    for phrase in LANGUAGES:
        add(phrase, "language", phrase)
    for phrase, mood in NOT_GENRE_PHRASES.items():
        add(phrase, "mood", mood)
    for mood in vocabulary():
        add(mood, "mood", mood)
    for phrase, entry in _lexicon().entries.items():
        add(phrase, "mood", entry.moods[0] if entry.moods else "")
    for phrase in MUSIC_STYLES:  # the wider style list the claim checker knows ("no synthwave", "without dub")
        if phrase not in AMBIGUOUS_STYLES and phrase not in NOT_STYLE_WORDS:
            add(phrase, "style", phrase)
    latin = {k: v for k, v in table.items() if not _cjk(k)}
    cjk = sorted(((k, v) for k, v in table.items() if _cjk(k)), key=lambda kv: -len(kv[0]))
    return latin, cjk, max(k.count(" ") + 1 for k in latin)


def _cjk(text: str) -> bool:
    return any("\u3040" <= ch <= "\u9fff" for ch in text)


def _terms(s: str, cased: str, taken: list[bool], artists: ArtistMatcher | None) -> list[_Found]:
    found = _artist_spans(s, cased, taken, artists)
    for item in found:
        _take(taken, item.start, item.end)
    latin, cjk, longest = _lexicon_table()
    tokens = [_base_token(m) for m in re.finditer(r"[a-z0-9&'+-]+|[\u3040-\u9fff]+", s)]
    used = [False] * len(tokens)
    for n in range(min(longest, len(tokens)), 0, -1):
        for i in range(len(tokens) - n + 1):
            if any(used[i:i + n]):
                continue
            start, end = tokens[i][0], tokens[i + n - 1][1]
            if any(taken[start:end]) or _cjk(tokens[i][2]):
                continue
            hit = latin.get(phrase_key(s[start:end]))
            if hit and _fits(hit, s, start, end):
                used[i:i + n] = [True] * n
                found.append(_Found(start, end, hit[0], hit[1], s[start:end]))
    for phrase, hit in cjk:
        for m in re.finditer(re.escape(phrase), s):
            if not any(taken[m.start():m.end()]) and not any(f.start < m.end() and m.start() < f.end for f in found):
                found.append(_Found(m.start(), m.end(), hit[0], hit[1], phrase))
    found.sort(key=lambda f: f.start)
    return found


def _base_token(m: re.Match) -> tuple[int, int, str]:
    """"guitar-driven" and "synth-heavy" name the guitar and the synth."""
    word = m.group(0)
    head, _, tail = word.rpartition("-")
    if head and tail in HYPHEN_SUFFIXES:
        return m.start(), m.start() + len(head), head
    return m.start(), m.end(), word


def _fits(hit: tuple[str, str], s: str, start: int, end: int) -> bool:
    """Context checks for words that mean something else alone: a language is a language when it is sung in or
    names songs ("in Spanish", "Korean songs"); "words" and "voice" count only when refused or asked for."""
    kind, value = hit
    before = s[:start]
    if kind == "language":
        return bool(re.search(r"(?:\bin|sung in|language|\bno|\bnot|without|except|but)\s+$", before) or re.match(
            r"\s+(?:songs?|music|lyrics|tracks?|ballads?|language|vocals)\b", s[end:]))
    if kind == "vocals" and value in ("words", "voice", "voices", "singer", "singers", "vocal", "lyrics"):
        return bool(re.search(r"\b(?:with|without|no|not|any|some|has|have|want|need)\s+(?:a\s+|any\s+|the\s+)?$",
                              before))
    if kind == "genre" and value == "dance":  # "songs to dance to": the verb
        return not re.search(r"\b(?:to|can|could|let's|lets|wanna|want to|make me)\s+$", before)
    if kind == "genre" and value in AMBIGUOUS_GENRES:  # "food for the soul", "around the world", "in a funk"
        determiner = re.search(r"(?:\bthe|\bmy|\byour|\bour|\bhis|\bher|\btheir|\ba|\bwhole)\s+$", before)
        refusal = re.search(r"\b(?:no|not|without|minus|skip|drop|hold|avoid|except|cut|lose|ditch|remove|enough|"
                            r"spare me|none|nothing)\b[\w\s]{0,12}$", before) or (
            KEEP_OUT.search(before[-24:]) and re.match(r"\W*out\b", s[end:]))  # "keep the trap out"
        genre_noun = re.match(r"\s+(?:music|songs?|tracks?|tunes|genre|stuff|records?|albums?|artists?|bands?|"
                              r"classics|hits|playlist|singers?|jams?)\b", s[end:])
        return not determiner or bool(refusal or genre_noun)
    return True


def _artist_spans(s: str, cased: str, taken: list[bool], artists: ArtistMatcher | None) -> list[_Found]:
    if artists is None:
        return []
    out = []
    written = dict(artists.find_written(cased))  # the cased text: "Queen" is an artist, "queen" may be a word
    found = set(written.values())
    known = {form: key for form, key in artists.keys.items() if key in found} | written  # + typos as written
    forms = sorted(known, key=len, reverse=True)
    folded = strip_accents(s)
    for form in forms:
        pattern = r"(?<![\w])" + r"[^\w]+".join(map(re.escape, form.split())) + r"(?![\w])"
        for m in re.finditer(pattern, folded if len(folded) == len(s) else s):
            if not any(taken[m.start():m.end()]) and not any(o.start < m.end() and m.start() < o.end for o in out):
                out.append(_Found(m.start(), m.end(), "artist", known[form], s[m.start():m.end()]))
    return out


def _negated(s: str, item: _Found, clauses, earlier: list[_Found]) -> tuple[bool, tuple[int, int] | None]:
    clause = _clause_of(clauses, item.start)
    cue = _cue_before(s, item.start, clause)
    if cue is not None:
        between = [f for f in earlier if f.start >= cue[1]]
        # a cue refuses the first term after it and the terms coordinated with it ("no rap or metal"), not a
        # later word that merely follows ("I don't want hip-hop tonight")
        if not between or COORDINATED.match(s[between[-1].end:item.start]):
            return True, cue
    after = s[item.end:clause[1]]
    if POST_CUES.match(after):
        return True, None
    if re.match(r"\W*(?:out|out of it|out of this|out of here)\b", after) and KEEP_OUT.search(s[clause[0]:item.start]):
        return True, None
    following = [c for c in clauses if c[0] >= clause[1]]
    if following and BARE_NO.match(s[following[0][0]:following[0][1]]) and not re.search(r"\byes\b",
                                                                                         s[clause[0]:clause[1]]):
        return True, None
    return False, None


def _continues_refusal(s: str, item: _Found, clauses, found: list[_Found], refused: list[_Found]) -> bool:
    """"no pop, rock or hip hop": a clause that is only a list of terms joined by or/and/nor, right after a
    clause that ended on a refused term, goes on refusing."""
    clause = _clause_of(clauses, item.start)
    members = [f for f in found if clause[0] <= f.start < clause[1]]
    gaps = [s[a.end:b.start] for a, b in zip(members, members[1:], strict=False)]
    edges = s[clause[0]:members[0].start] + s[members[-1].end:clause[1]] if members else "x"
    if len(members) < 2 or not re.fullmatch(r"[\s\W]*", edges) or not all(COORDINATED.match(g) for g in gaps):
        return False
    if not any(re.search(r"\b(?:or|nor|and)\b|[和或、]", g) for g in gaps):
        return False
    before = [c for c in clauses if c[1] <= clause[0]]
    if not before:
        return False
    last = [f for f in found if before[-1][0] <= f.start < before[-1][1]]
    return bool(last) and last[-1] in refused and re.fullmatch(r"[\s\W]*", s[last[-1].end:before[-1][1]]) is not None


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


def _apply(c: Constraints, item: _Found, negated: bool, s: str) -> None:
    words = item.words
    if item.kind == "move":
        field, sign = item.value[:-1], 1 if item.value.endswith("+") else -1
        c.moves.append(Move(field=field, direction=-sign if negated else sign, words=words))
    elif item.kind == "vocals":
        stated, refused = VOCALS[item.value]
        value = refused if negated else stated
        if value and (c.vocals is None or value in ("female", "male")):
            c.vocals, c.vocals_words = value, words
    elif item.kind == "mood":
        comparative = re.search(r"\b(less|not so|not as|not that|more|a bit more|a little more)\s+$", s[:item.start])
        if comparative and item.value in MOOD_AXES:
            field, sign = MOOD_AXES[item.value]
            sign = -sign if comparative.group(1) in ("less", "not so", "not as", "not that") else sign
            c.moves.append(Move(field=field, direction=sign, words=comparative.group(0) + words))
        elif item.value:
            _add_term(c, Term(field="mood", value=item.value, polarity="exclude" if negated else "include",
                              words=words))
    elif item.kind == "artist":
        if not negated and SIMILAR.search(s[:item.start]):
            if item.value not in c.similar_artists:
                c.similar_artists.append(item.value)
        else:
            _add_term(c, Term(field="artist", value=item.value, polarity="exclude" if negated else "include",
                              words=words))
    elif item.kind == "language":
        _add_term(c, Term(field="language", value=LANGUAGES[item.value], polarity="exclude" if negated else "include",
                          words=words))
    else:
        _add_term(c, Term(field=item.kind, value=item.value, polarity="exclude" if negated else "include",
                          words=words))


def _add_term(c: Constraints, term: Term) -> None:
    for existing in c.terms:
        if existing.field == term.field and existing.value == term.value:
            if term.polarity == "exclude":  # a refusal wins over a mention in the same message
                existing.polarity, existing.words = "exclude", term.words
            return
    c.terms.append(term)


def _pronoun_refusals(s: str, c: Constraints) -> None:
    """"something like Billie Eilish but not her": the pronoun refuses the artist just named."""
    if c.similar_artists and PRONOUN.search(s):
        _add_term(c, Term(field="artist", value=c.similar_artists[-1], polarity="exclude", words=PRONOUN.search(s)
                          .group(0)))


def _take(taken: list[bool], start: int, end: int) -> None:
    for i in range(max(0, start), min(len(taken), end)):
        taken[i] = True


def _without(original: str, s: str, spans: list[tuple[int, int]]) -> str:
    """The request with the refused words (and their cues) blanked out, for embedding and BM25."""
    return _blank(s, spans) if spans else (original or "").strip()


def _blank(s: str, spans: list[tuple[int, int]]) -> str:
    chars = list(s)
    for a, b in spans:
        for i in range(a, min(b, len(chars))):
            chars[i] = " "
    return re.sub(r"\s+", " ", "".join(chars)).strip(" ,.;")
