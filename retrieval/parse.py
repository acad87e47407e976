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
from .constraints import Constraints, Move, Term
from .eras import (
    _clause_of,
    _cue_before,
    _read_eras,
    _read_refs_and_counts,
    _take,
)
from .genres import GENRE_WORDS
from .mood import _lexicon, vocabulary
from .parse_words import (
    AMBIGUOUS_GENRES,
    BARE_NO,
    BREAK,
    CANONICAL,
    COORDINATED,
    EXTRA_GENRES,
    HYPHEN_SUFFIXES,
    KEEP_OUT,
    LANGUAGES,
    MOOD_AXES,
    MOVES,
    NOT_GENRE_PHRASES,
    NOT_GENRES,
    NOT_STYLE_WORDS,
    OPEN_FILLER,
    OPEN_PHRASE,
    OPEN_STOP,
    POST_CUES,
    PRE_CUES,
    PRONOUN,
    SIMILAR,
    STYLES,
    VOCALS,
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
    # refusals of words outside the lexicons ("no more remixes", "without the live versions"): (cue, phrase);
    # not constraints (nothing in a catalog field says "remix"), but not something to play either: out of `core`
    open_refusals: list[tuple[str, str]] = field(default_factory=list)


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
    opened = _open_refusals(s, clauses, found, taken)
    core = _blank(s, refused + structural + moves + [span for span, _, _ in opened])
    return Reading(c, _without(text, s, refused), [s[a:b] for a, b in refused], core,
                   [(cue, phrase) for _, cue, phrase in opened])


def _open_refusals(s: str, clauses, found: list[_Found], taken: list[bool]):
    """Refusals whose object no lexicon knows: a cue, its fillers ("any", "more of the") and one to four words
    up to the clause's end or the next "and"/"or"/"please", where no term or structure was read; "and"/"or"
    go on refusing ("no remixes or covers")."""
    out: list[tuple[tuple[int, int], str, str]] = []
    for clause in clauses:
        for m in _CUE_RE.finditer(s, clause[0], clause[1]):
            start = m.end()
            first = True
            while start < clause[1]:
                stop = OPEN_STOP.search(s, start, clause[1])
                end = stop.start() if stop else clause[1]
                if rest := OPEN_FILLER.match(s, start, end):
                    start = rest.end()
                phrase = s[start:end].strip(" '")
                if (any(start <= f.start < end for f in found) or any(taken[start:end])
                        or not OPEN_PHRASE.fullmatch(phrase)):
                    break
                out.append(((m.start() if first else start, end), m.group(0), phrase))
                first = False
                if not stop or stop.group(1) not in ("and", "or", "nor"):
                    break
                start = stop.end()
    return out


_CUE_RE = re.compile(r"(?<![\w'])(?:" + "|".join(re.escape(c) for c in sorted(PRE_CUES, key=len, reverse=True))
                     + r")(?![\w'])")


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
                              r"classics|hits|playlist|singers?|jams?|ones?)\b", s[end:])  # "just the soul ones"
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
        if comparative and negated and comparative.group(1) == "more":
            comparative = None  # "no more melancholy" refuses the mood; it asks for no move towards it
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


def _without(original: str, s: str, spans: list[tuple[int, int]]) -> str:
    """The request with the refused words (and their cues) blanked out, for embedding and BM25."""
    return _blank(s, spans) if spans else (original or "").strip()


def _blank(s: str, spans: list[tuple[int, int]]) -> str:
    chars = list(s)
    for a, b in spans:
        for i in range(a, min(b, len(chars))):
            chars[i] = " "
    return re.sub(r"\s+", " ", "".join(chars)).strip(" ,.;")
