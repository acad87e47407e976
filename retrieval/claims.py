"""The claim checker: a written sentence is kept only if everything it claims is supported by the facts of the
point it realises.

Claims are names (capitalised or quoted spans, catalog artists), numbers (years, decades, BPM, counts, lengths)
and music terms (genres, styles, instruments, production, moods: `retrieval.vocab`). A sentence is also refused
when it invents a first-person life ("I grew up ..."), carries sexual, violent, hateful or drug content that the
track's own facts or lyrics do not, echoes the prompt or is not a sentence, names something the request refused,
or claims nothing at all ("It is a great song.").

    checker = ClaimChecker(artists=catalog.artist_matcher())
    verdict = checker.judge("So What is a modal jazz track by Miles Davis.", point)
    verdict.ok, verdict.reason, verdict.supported
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from . import Track
from .lexicon import load
from .plans import WRITTEN_FACTS, Point
from .query import ArtistMatcher
from .text import QUOTED, phrase_key, same_artist
from .vocab import claims as term_claims
from .vocab import common_words, terms

REASONS = ("name", "number", "term", "self", "unsafe", "garbled", "refused", "empty")

CAPITALISED = re.compile(r"\b[A-Z][\w'\u2019&.\-]*(?:\s+(?:(?:of|the|and|de|la|le|von|van|del|da|&)\s+)?"
                         r"[A-Z][\w'\u2019&.\-]*)*")
FIRST_PERSON = re.compile(r"(?i)(?<![-\w'])(i|i'm|i've|i'd|i'll|me|my|mine|myself|we|we're|we've|our|ours|us)"
                          r"(?![-\w])")
NUMBER = re.compile(r"(?<![\w.])(?:'|\u2019)?\d[\d,.:]*(?:s|st|nd|rd|th)?\b")
_WORDS = load("claims")
SPELLED: dict[str, int] = _WORDS["spelled"]  # numbers a sentence may spell out
DECADES: dict[str, int] = _WORDS["decades"]  # "the sixties" claims 1960
ATTRIBUTION = re.compile(r"[\"\u201c]([^\"\u201d]{2,80})[\"\u201d],?\s+by\s+"
                         r"([A-Z][\w'&.\-]*(?:\s+[A-Z&][\w'&.\-]*){0,4})")
LABEL = re.compile(r"^\s*(?:[A-Z][A-Z ]{2,30}\s?[-\u2013\u2014:]|\w+(?: \w+)?:\s|#|\*|\d+[.)]\s|[-\u2022]\s)")
ECHO = frozenset(_WORDS["echo"])  # the task echoed, not the music described
# invented reception and stories: supported only when the point's own facts say so
STORY = frozenset(_WORDS["story"])
META = re.compile(r"(?i)\bin terms of (style|emotions)\b|\bnext time\b|"
                  r"\bladies and gentlemen\b|\bdescribed (as|in detail)\b.{0,40}\b(by|in|through) (the )?"
                  r"(use|mentioning|user|listener|description)\b")
YOU = re.compile(r"(?i)\b(your|yours|yourself|you're|you've|you'd)\b")
YOU_OK = re.compile(r"(?i)\bif you (like|love|enjoy|want|need|are)\b")
OPENERS = re.compile(r"(?i)^(sure|okay|ok|here's|here is|here are|let's|let me|now,|so,|well,|yes|no,|hello|hi|"
                     r"write|describe|imagine|create|list|compose)\b")  # a reply, or the task echoed
# what a song is about: a theme, supported only by words a person wrote (`WRITTEN_FACTS`)
ABOUT = re.compile(r"(?i)\b(?:is|are|was|were)\s+(?:[\w'-]+\s+){0,3}?about\s+(?!\d|a\s+\d|an?\s+hour|half)")
# words a sentence about music uses without claiming anything the facts must hold
GENERIC = frozenset(_WORDS["generic"])
NOT_NAMES = frozenset(_WORDS["not_names"])  # capitalised, but no name


@dataclass
class Verdict:
    ok: bool
    reason: str = ""  # one of REASONS when not ok
    detail: str = ""  # the claim that failed
    supported: list[str] = field(default_factory=list)  # the claims that held

    @property
    def says_something(self) -> bool:
        """Supported, and states at least one name, number or music term: what a shown sentence must be."""
        return self.ok and bool(self.supported)


@lru_cache(maxsize=1)
def unsafe_words() -> dict[str, str]:
    return {word: topic for topic, words in load("unsafe")["topics"].items() for word in words}


class ClaimChecker:
    """Judges sentences against a point's facts. `artists`: the catalog's artist names (a sentence naming one
    that the point does not name is refused); `refused`: terms and names the request excluded ("no country"):
    a sentence that says them is refused whatever its facts."""

    def __init__(self, artists: ArtistMatcher | None = None, refused: tuple[str, ...] = ()):
        self.artists = artists
        self.refused = [k for k in (phrase_key(r) for r in refused) if k]

    def judge(self, sentence: str, point: Point, carried: str = "", tracks: list[Track] = ()) -> Verdict:
        """`carried`: the track's own text (facts, description, lyrics, comments) that may carry sensitive
        content; `tracks`: the tracks the point speaks of, for "title by artist" attributions."""
        text = " ".join(sentence.replace("\u2019", "'").split())
        if not _is_sentence(text):
            return Verdict(False, "garbled", text[:40])
        support = point.support()
        support_key = f" {phrase_key(support + ' ' + ' '.join(point.names))} "
        echo = [w for w in phrase_key(text).split() if w in ECHO and f" {w} " not in support_key]
        if echo:  # talk about the prompt, the task or the reader ("as requested", "the facts provided")
            return Verdict(False, "garbled", echo[0])
        if META.search(text):
            return Verdict(False, "garbled", META.search(text).group(0))
        quotes = QUOTED.findall(text)
        bare = QUOTED.sub(" ", text)
        unnamed = bare
        for name in sorted(point.names, key=len, reverse=True):  # "What'd I Say" is a title, not a confession
            unnamed = unnamed.replace(name, " ")
        if FIRST_PERSON.search(unnamed):
            return Verdict(False, "self", FIRST_PERSON.search(unnamed).group(0))
        if YOU.search(YOU_OK.sub(" ", bare)) and point.kind not in ("remark", "explain", "use"):
            return Verdict(False, "garbled", "speaks to the reader")
        story = [w for w in phrase_key(bare).split() if w in STORY and f" {w} " not in support_key]
        if story:
            return Verdict(False, "self", story[0])
        key = f" {phrase_key(text)} "
        for word in self.refused:
            if f" {word} " in key:
                return Verdict(False, "refused", word)
        if (topic := self._unsafe(text, support + " " + carried)) is not None:
            return Verdict(False, "unsafe", topic)
        if (about := ABOUT.search(bare)) and not any(label in WRITTEN_FACTS for label, _ in point.facts):
            theme = re.split(r"[,.;:!?]", bare[about.end():])[0]
            held = set(phrase_key(support + " " + carried).split())
            if not {w for w in phrase_key(theme).split() if len(w) > 3} & held:
                return Verdict(False, "self", "a theme no one wrote down")
        supported: list[str] = []
        for check in (self._names, self._numbers, self._terms):
            failed = check(text, bare, quotes, point, support, support_key, supported, tracks)
            if failed:
                return failed
        return Verdict(True, "", "", supported)  # `supported` empty: true but says nothing (see `says_something`)

    # --- each kind of claim ----------------------------------------------------------------------------------

    def _names(self, text, bare, quotes, point, support, support_key, supported, tracks) -> Verdict | None:
        allowed = [phrase_key(n) for n in point.names if phrase_key(n)]
        for quote in quotes:
            q = phrase_key(quote)
            if not q or (all(w in common_words() for w in q.split()) and (len(q.split()) == 1 or quote.islower())):
                continue  # a quoted word ("bitter", "relaxing") is a word, not a name
            if q in allowed or f" {q} " in support_key:
                supported.append(quote)
                continue
            return Verdict(False, "name", quote)
        for span in _name_spans(bare):
            k = phrase_key(span)
            if not k or k in NOT_NAMES:
                continue
            if f" {k} " in support_key or any(k in a for a in allowed if len(a) > 2) or all(
                    f" {w} " in support_key for w in k.split() if w not in _JOINERS):
                supported.append(span)
                continue
            if terms(span) and not _proper(span):  # "Modal Jazz", "Electric Blues": a term, checked as one
                continue
            return Verdict(False, "name", span)
        if self.artists:
            for artist in self.artists.named_in_prose(text, common_words()):
                a = phrase_key(artist)
                if f" {a} " not in support_key and not any(a in n or n in a for n in allowed):
                    return Verdict(False, "name", artist)
        for title, artist in _attributions(text):  # "X by Y" holds when some track called X is by Y
            by = [t.artist for t in tracks if t.artist and phrase_key(title) == phrase_key(t.title)]
            if by and not any(_same(artist, a) for a in by):
                return Verdict(False, "name", f"{title} by {artist}")
        return None

    def _numbers(self, text, bare, quotes, point, support, support_key, supported, tracks) -> Verdict | None:
        known = _numbers_in(support)
        years = {n for n in known if 1000 <= n <= 2100}
        for match in NUMBER.finditer(bare):
            raw = match.group()
            digits = re.sub(r"(st|nd|rd|th|s)$", "", raw.strip("'\u2019")).rstrip(".,")
            if ":" in digits:  # a length, 2:54
                if digits in support:
                    supported.append(raw)
                    continue
                return Verdict(False, "number", raw)
            try:
                number = int(float(digits.replace(",", "")))
            except ValueError:
                continue
            decade = raw.rstrip(".,").endswith("s")
            unit = UNIT.match(bare, match.end())
            if unit:  # the 120 of 120 BPM is no length, and a 3:48 length is 3 minutes or 228 seconds
                if number not in _in_unit(support, _unit_of(unit.group(1))):
                    return Verdict(False, "number", f"{raw} {unit.group(1)}")
                supported.append(raw)
            elif number in known:
                supported.append(raw)
            elif decade and (number in {y // 10 * 10 for y in years} or number in {y % 100 // 10 * 10 for y in years}):
                supported.append(raw)  # the 1950s, the '50s
            elif number < 10 and not decade and _ordinal_or_small(bare, raw):
                continue  # "4 on the floor" names a beat, not a number a reader checks
            else:
                return Verdict(False, "number", raw)
        for word in re.findall(r"[a-z]+", bare.casefold()):
            if word in DECADES:
                if any(y // 10 * 10 == DECADES[word] for y in years) or f" {word} " in support_key:
                    supported.append(word)
                else:
                    return Verdict(False, "number", word)
            elif word in SPELLED and SPELLED[word] not in known and word not in phrase_key(support).split():
                return Verdict(False, "number", word)
        return None

    def _terms(self, text, bare, quotes, point, support, support_key, supported, tracks) -> Verdict | None:
        held = terms(support)
        held_words = set(phrase_key(support).split())
        for kind, term, words in term_claims(bare):
            if set(phrase_key(words).split()) <= GENERIC:
                continue
            if term in held or _related(term, held) or phrase_key(words) in support_key:
                supported.append(words)
                continue
            if kind == "genre" and set(phrase_key(words).split()) <= held_words:
                supported.append(words)
                continue
            return Verdict(False, "term", words)
        return None

    def _unsafe(self, text: str, carried: str) -> str | None:
        table = unsafe_words()
        carried_words = set(phrase_key(carried).split())
        for word in phrase_key(text).split():
            topic = table.get(word) or table.get(word.rstrip("s"))
            if topic and word not in carried_words and word.rstrip("s") not in carried_words:
                return topic
        return None


def frame(sentence: str) -> str:
    """The sentence's frame: its words with every name, number and music term masked ("#"). Two sentences with
    the same frame are the same template, whatever they say of their tracks."""
    text = QUOTED.sub(" # ", " ".join(sentence.replace("\u2019", "'").split()))
    for span in sorted(_name_spans(text), key=len, reverse=True):
        text = text.replace(span, " # ")
    text = NUMBER.sub(" # ", text)
    words = phrase_key(text.replace("#", " hashmark ")).split()
    masked = set()
    for _, _, used in term_claims(" ".join(words)):
        masked |= set(phrase_key(used).split())
    return " ".join("#" if w in masked or w == "hashmark" else w for w in words)


# --- helpers -------------------------------------------------------------------------------------------------

def _is_sentence(text: str) -> bool:
    words = re.findall(r"[^\W\d_]{2,}", text.casefold())
    if len(words) < 4 or not re.search(r"[.!?]['\")\]\u201d]*$", text) or re.search(r"(\.\.\.|\u2026)\W*$",
                                                                                        QUOTED.sub(" q ", text)):
        return False
    if LABEL.match(text) or OPENERS.match(text) or len(set(words)) / len(words) < 0.6:
        return False
    start = QUOTED.sub("Q", text)  # a sentence may open on a quoted title ("1/1", credited to ...)
    if start.rstrip("\"'\u201d)").endswith("?") or not re.match(r"[\"'\u201c(\d]*[^\W\d_]", start) or \
            start.lstrip("\"'\u201c(")[:1].islower():
        return False
    if text.count("(") != text.count(")") or re.search(r"[{}<>\[\]|_=#*@]", text):
        return False
    return True


def _name_spans(text: str) -> list[str]:
    """Capitalised spans that are names: any after the first word; a sentence's first word only when it is
    not an ordinary word ("Elvis sang ..." but not "Fans of ...")."""
    out = []
    for match in CAPITALISED.finditer(text):
        span = match.group(0).strip(" .'&-")
        words = span.split()
        if not words:
            continue
        start = match.start() == 0 or re.search(r"[.!?:;]\s*$", text[:match.start()]) is not None
        if start and _ordinary(words[0]):
            words = words[1:]
            while words and words[0].casefold() in ("of", "the", "and", "&"):
                words = words[1:]
            if not words:
                continue
        span = " ".join(words)
        if span.casefold() in ("i", "a"):
            continue
        out.append(span)
    return out


def _ordinary(word: str) -> bool:
    """An ordinary English word at the start of a sentence ("It's", "Fans", "Suitably"), not a name."""
    key = re.sub(r"'(s|re|ve|ll|d|m|t)$", "", word.casefold().strip("'"))
    return key in common_words() or key.rstrip("s") in common_words() or (key.endswith("ly") and len(key) > 5)


def _proper(span: str) -> bool:
    """Has a word that is not a music term: "Mississippi Blues" names a place as well as a genre."""
    used = {w for _, _, words in term_claims(span) for w in phrase_key(words).split()}
    leftover = set(phrase_key(span).split()) - used
    return bool(leftover - {"the", "and", "of"})


def _attributions(text: str) -> list[tuple[str, str]]:
    return ATTRIBUTION.findall(text)


def _same(named: str, artist: str) -> bool:
    """As `same_artist`, and a credited name inside the artist's ("Garfunkel" in "Simon & Garfunkel")."""
    return same_artist(named, artist) or phrase_key(named) in phrase_key(artist)


UNIT = re.compile(r"\s*-?\s*(minutes?|mins?|seconds?|secs?|bpm|beats per minute)\b", re.I)


def _unit_of(word: str) -> str:
    word = word.casefold()
    return "bpm" if word.startswith(("bpm", "beats")) else "minute" if word.startswith("min") else "second"


def _in_unit(support: str, unit: str) -> set[int]:
    """The numbers the facts give in this unit: a length 3:48 is 3 (or about 4) minutes and 228 seconds."""
    lengths = [(int(m), int(s)) for m, s in re.findall(r"\b(\d+):(\d\d)\b", support)]
    stated = {int(n) for n, u in re.findall(r"(\d+)" + UNIT.pattern, support, re.I) if _unit_of(u) == unit}
    if unit == "minute":
        return stated | {m for m, _ in lengths} | {m + 1 for m, s in lengths if s >= 30}
    if unit == "second":
        return stated | {60 * m + s for m, s in lengths}
    return stated


def _numbers_in(text: str) -> set[int]:
    out = set()
    for raw in re.findall(r"\d[\d,]*", text):
        try:
            out.add(int(raw.replace(",", "")))
        except ValueError:
            continue
    out |= {SPELLED[w] for w in re.findall(r"[a-z]+", text.casefold()) if w in SPELLED}
    return out


def _ordinal_or_small(text: str, raw: str) -> bool:
    return bool(re.search(rf"\b{re.escape(raw)}\s+(on the floor|of the|or|to)\b", text))


_JOINERS = {"the", "and", "of", "a", "de", "la", "le", "von", "van", "del", "da", "s"}


# genre and style families: a claim of the broad genre is supported by a style of it ("modal jazz" -> "jazz")
def _related(term: str, held: set[str]) -> bool:
    t = phrase_key(term)
    for h in held:
        k = phrase_key(h)
        if t and (f" {t} " in f" {k} " or f" {k} " in f" {t} "):
            return True
    return term in _FAMILY and bool(_FAMILY[term] & held)


_FAMILY = {term: frozenset(near) for term, near in load("terms")["families"].items()}
