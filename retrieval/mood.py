"""The mood model: turns what a listener says ("rainy evening", "gym", "伤感") into mood tags and energy/valence
targets, and infers moods for catalog tracks that only carry style tags.

The lexicon is packaged data (`mood_lexicon.json`): English and Chinese phrases, Encore's fixed mood vocabulary.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

NEGATIONS = ("not ", "no ", "less ", "without ", "don't want ", "nothing ", "不要", "不想", "别", "不")


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


@lru_cache(maxsize=1)
def _lexicon() -> tuple[list[tuple[str, _Entry]], dict[str, tuple[str, ...]], tuple[str, ...]]:
    data = json.loads(resources.files("retrieval").joinpath("mood_lexicon.json").read_text(encoding="utf-8"))
    phrases: list[tuple[str, _Entry]] = []
    for raw in data["entries"]:
        entry = _Entry(tuple(raw["moods"]), _range(raw.get("energy")), _range(raw.get("valence")))
        phrases += [(p.casefold(), entry) for p in raw["phrases"]]
    phrases.sort(key=lambda pair: len(pair[0]), reverse=True)  # longest first: "calm down" before "down"
    tags = {tag: tuple(moods) for tag, moods in data["tags"].items()}
    return phrases, tags, tuple(data["vocabulary"])


def _range(value: list[float] | None) -> tuple[float, float] | None:
    return None if value is None else (float(value[0]), float(value[1]))


def vocabulary() -> tuple[str, ...]:
    return _lexicon()[2]


def _is_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


def _find(text: str, phrase: str) -> list[tuple[int, int]]:
    if _is_cjk(phrase):  # Chinese has no spaces between words
        return [(m.start(), m.end()) for m in re.finditer(re.escape(phrase), text)]
    pattern = r"(?<![\w-])" + re.escape(phrase) + r"(?![\w-])"
    return [(m.start(), m.end()) for m in re.finditer(pattern, text)]


def _negated(text: str, start: int) -> bool:
    before = text[max(0, start - 16):start]
    return any(before.endswith(neg) or before.rstrip().endswith(neg.strip()) for neg in NEGATIONS)


def read_mood(text: str) -> Mood:
    """Mood words in `text` -> moods and energy/valence ranges. Negated words ("not sad") are ignored."""
    text = text.casefold()
    taken = [False] * len(text)
    moods: list[str] = []
    matched: list[str] = []
    energies: list[tuple[float, float]] = []
    valences: list[tuple[float, float]] = []
    for phrase, entry in _lexicon()[0]:
        for start, end in _find(text, phrase):
            if any(taken[start:end]):
                continue
            taken[start:end] = [True] * (end - start)
            if _negated(text, start):
                continue
            matched.append(phrase)
            moods += [m for m in entry.moods if m not in moods]
            if entry.energy:
                energies.append(entry.energy)
            if entry.valence:
                valences.append(entry.valence)
    return Mood(tuple(moods), _combine(energies), _combine(valences), tuple(matched))


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
    table = _lexicon()[1]
    found: list[str] = []
    for tag in [*tags, *([genre] if genre else [])]:
        for mood in table.get(tag.casefold().replace("-", " "), table.get(tag.casefold(), ())):
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
