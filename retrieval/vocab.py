"""Music terms: the genres, instruments, sounds and moods a sentence about music can claim, each mapped to a
canonical term, so that "guitars", "guitar" and "guitarist" are one claim and "mellow" is the mood "calm".

    terms("a mellow piano ballad with brushed drums")  # {"calm", "piano", "ballad", "drums"}

Used to read instruments and production out of a description (content planning) and to find the music terms a
written sentence claims (the claim checker).
"""

from __future__ import annotations

from functools import lru_cache

from .genres import GENRE_WORDS
from .lexicon import load
from .mood import _lexicon, vocabulary
from .text import PhraseMatcher, is_cjk, phrase_key

_TERMS = load("terms")
# canonical term -> the words and phrases that claim it (plural and player forms included)
INSTRUMENTS: dict[str, tuple[str, ...]] = _TERMS["instruments"]
SOUNDS: dict[str, tuple[str, ...]] = _TERMS["sounds"]  # production and texture
STYLES: tuple[str, ...] = _TERMS["styles"]
MOOD_WORDS_EXTRA: dict[str, tuple[str, ...]] = _TERMS["mood_words_extra"]  # mood words the mood lexicon lacks

KINDS = ("instrument", "sound", "genre", "mood")
# genre words that are mostly ordinary words in a sentence ("a world where", "all that noise"): a genre only in
# their longer forms ("world music", "noise rock")
AMBIGUOUS = frozenset(_TERMS["ambiguous"])
# one-word request phrases that are mood words themselves ("mellow", "gloomy")
_MOODY = frozenset(_TERMS["moody"])


@lru_cache(maxsize=1)
def _table() -> tuple[PhraseMatcher, dict[str, tuple[str, str]]]:
    """phrase key -> (kind, canonical term); the matcher finds the longest phrases first."""
    table: dict[str, tuple[str, str]] = {}

    def add(kind: str, term: str, phrases) -> None:
        for phrase in phrases:
            key = phrase_key(phrase)
            if key and not is_cjk(phrase):
                table.setdefault(key, (kind, term))

    for term, phrases in INSTRUMENTS.items():
        add("instrument", term, (term, *phrases))
    for word, meant in GENRE_WORDS.items():
        if word not in AMBIGUOUS:
            add("genre", meant[0], (word,))
    for style in STYLES:
        if style not in AMBIGUOUS:
            add("genre", phrase_key(style), (style,))
    add("genre", "world", ("world music",))
    for mood in vocabulary():
        add("mood", mood, (mood,))
    for mood, phrases in MOOD_WORDS_EXTRA.items():
        add("mood", mood, phrases)
    for entry_phrase, entry in _lexicon().entries.items():  # request phrases that are mood words themselves
        if entry.moods and len(entry_phrase.split()) == 1 and entry_phrase in _MOODY:
            add("mood", entry.moods[0], (entry_phrase,))
    for term, phrases in SOUNDS.items():
        add("sound", term, (term, *phrases))
    return PhraseMatcher(table), table


def claims(text: str, negated: bool = False) -> list[tuple[str, str, str]]:
    """The music terms `text` claims, in order: (kind, canonical term, the words used). A negated term ("not too
    intense", "no drums") claims nothing, unless `negated` asks for those too."""
    matcher, table = _table()
    return [(*table[phrase_key(m.phrase)], m.phrase) for m in matcher.find(text)
            if phrase_key(m.phrase) in table and (negated or not m.negated)]


def terms(text: str) -> set[str]:
    """The canonical music terms in `text`."""
    return {term for _, term, _ in claims(text)}


def instruments(text: str) -> list[str]:
    """The instruments and sounds a description names, as its own words ("crying steel guitar" -> "steel
    guitar"), in order, without repeats."""
    out: list[str] = []
    for kind, _, words in claims(text):
        if kind in ("instrument", "sound") and words not in out:
            out.append(words)
    return out


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Lower-case English words (from the default model's tokenizer vocabulary): a capitalised one that opens a
    sentence is not read as a name, and a name made only of them needs its capitals."""
    return frozenset(load("common")["words"])
