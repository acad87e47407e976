"""The mood model: turns what a listener says ("rainy evening", "gym", "伤感") into mood tags and energy/valence
targets, and infers moods for catalog tracks that only carry style tags.

The lexicon is packaged data (`lexicon/mood.json`): English and Chinese phrases, Encore's fixed mood vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from .lexicon import load
from .text import PhraseMatcher, phrase_key


@dataclass(frozen=True)
class Mood:
    """What the mood words of a text ask for. Ranges are (low, high) on 0..1; None when not asked."""

    moods: tuple[str, ...] = ()
    energy: tuple[float, float] | None = None
    valence: tuple[float, float] | None = None
    phrases: tuple[str, ...] = field(default=())  # the words that matched, for explanations

    @property
    def energy_target(self) -> float | None:
        return None if self.energy is None else sum(self.energy) / 2

    @property
    def valence_target(self) -> float | None:
        return None if self.valence is None else sum(self.valence) / 2

    def __bool__(self) -> bool:
        return bool(self.moods or self.energy or self.valence)


@dataclass(frozen=True)
class _Entry:
    moods: tuple[str, ...]
    energy: tuple[float, float] | None
    valence: tuple[float, float] | None


@dataclass(frozen=True)
class _Lexicon:
    matcher: PhraseMatcher
    entries: dict[str, _Entry]  # phrase -> what it means
    tags: dict[str, tuple[str, ...]]  # style tag -> moods
    vocabulary: tuple[str, ...]


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    data = load("mood")
    entries: dict[str, _Entry] = {}
    for raw in data["entries"]:
        entry = _Entry(tuple(raw["moods"]), _range(raw.get("energy")), _range(raw.get("valence")))
        entries.update((phrase, entry) for phrase in raw["phrases"])
    tags = {phrase_key(tag): tuple(moods) for tag, moods in data["tags"].items()}
    return _Lexicon(PhraseMatcher(entries), entries, tags, tuple(data["vocabulary"]))


def _range(value: list[float] | None) -> tuple[float, float] | None:
    return None if value is None else (float(value[0]), float(value[1]))


def vocabulary() -> tuple[str, ...]:
    return _lexicon().vocabulary


@lru_cache(maxsize=1)
def lexicon_words() -> frozenset[str]:
    """Every single word of the mood lexicon's phrases and tags ("rainy", "workout", "chill")."""
    lexicon = _lexicon()
    return frozenset(w for phrase in [*lexicon.entries, *lexicon.tags, *lexicon.vocabulary]
                     for w in phrase_key(phrase).split())


def read_mood(text: str) -> Mood:
    """Mood words in `text` -> moods and energy/valence ranges. Negated words ("not sad") are ignored."""
    lexicon = _lexicon()
    moods: list[str] = []
    matched: list[str] = []
    energies: list[tuple[float, float]] = []
    valences: list[tuple[float, float]] = []
    for match in lexicon.matcher.find(text):
        if match.negated:
            continue
        entry = lexicon.entries[match.phrase]
        matched.append(match.phrase)
        moods += [m for m in entry.moods if m not in moods]
        if entry.energy:
            energies.append(entry.energy)
        if entry.valence:
            valences.append(entry.valence)
    return Mood(tuple(moods), _combine(energies), _combine(valences), tuple(matched))


def phrase_moods(phrase: str) -> tuple[str, ...]:
    """The moods a lexicon phrase (one of `Mood.phrases`) stands for; () for a phrase the lexicon does not know."""
    entry = _lexicon().entries.get(phrase)
    return entry.moods if entry else ()


@lru_cache(maxsize=1)
def mood_levels() -> dict[str, tuple[float | None, float | None]]:
    """Each mood's typical (energy, valence): the mean middle of the ranges of the lexicon entries led by that
    mood; None for a part they leave open ("happy" says nothing of energy). A mood that leads no entry with a
    range borrows from the entries that name it. Lets moods read from a text suggest energy and valence."""
    entries = [e for e in {id(e): e for e in _lexicon().entries.values()}.values() if e.energy or e.valence]

    def level(mood: str, part: str) -> float | None:
        chosen = [e for e in entries if e.moods[:1] == (mood,)] or [e for e in entries if mood in e.moods]
        values = [sum(r) / 2 for r in (getattr(e, part) for e in chosen) if r]
        return sum(values) / len(values) if values else None

    return {mood: (level(mood, "energy"), level(mood, "valence")) for mood in _lexicon().vocabulary}


def _combine(ranges: list[tuple[float, float]]) -> tuple[float, float] | None:
    """Intersect the asked ranges; if they conflict ("calm" + "party"), span them instead."""
    if not ranges:
        return None
    low, high = max(r[0] for r in ranges), min(r[1] for r in ranges)
    if low <= high:
        return (low, high)
    return (min(r[0] for r in ranges), max(r[1] for r in ranges))


def moods_for_tags(tags: list[str], genre: str | None = None) -> list[str]:
    """Moods implied by style tags (for catalogs such as freemusi.cc that carry styles, not moods)."""
    table = _lexicon().tags
    found: list[str] = []
    for tag in [*tags, *([genre] if genre else [])]:
        for mood in table.get(phrase_key(tag), ()):
            if mood not in found:
                found.append(mood)
    return found


def moods_for_energy(energy: float | None) -> list[str]:
    """A coarse mood from energy alone, used when a source has neither moods nor telling tags."""
    if energy is None:
        return []
    if energy <= 0.25:
        return ["calm"]
    if energy >= 0.8:
        return ["energetic"]
    return []
