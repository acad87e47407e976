"""Hard constraints on tracks: a track that fails one is never returned, however well it matches.

What Chroma's `where` can check (years, artists) is checked there, so dense candidates come filtered;
the rest (genres found in tags, refused styles and instruments, moods, decades, vocals, languages) is checked
on each track, and for catalogs up to SCAN_LIMIT tracks the admitted ids are listed for Chroma beforehand.

Where the catalog has no field (vocals, language), the track's own text decides: an unknown value fails a hard
include ("instrumental only") and passes a hard exclude ("nothing in English") unless the track names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .genres import GENRE_WORDS
from .lexicon import load
from .parse_words import NOT_GENRES
from .query import Request
from .records import Track, style_words_of
from .text import PhraseMatcher

SCAN_LIMIT = 50_000  # catalogs up to this size list their admitted ids; larger ones over-fetch and post-filter
INSTRUMENTAL = re.compile(r"\binstrumental\b|\bno vocals\b|\bwithout vocals\b|\bwordless\b|\bno singing\b|"
                          r"\bvoiceless\b")
VOCAL = re.compile(r"\b(?:vocals?|voice|voices|sings?|sung|singing|singer|singers|vocalist|rapp?(?:er|ers|s|ed|ing)?|"
                   r"lyrics?|choir|chorus|duet|falsetto|croon\w*|harmon(?:y|ies)|verses?|chant\w*|belt\w*)\b")
FEMALE = re.compile(r"\b(?:she|her|female|woman|women|girl|girls|diva|soprano|queen of)\b")
MALE = re.compile(r"\b(?:he|his|male|man|men|boy|boys|baritone|tenor|king of)\b")
LANGUAGE_WORDS: dict[str, tuple[str, ...]] = load("languages")["language_words"]  # code -> the words for it
GENRE_LANGUAGES: dict[str, str] = load("languages")["genre_languages"]  # genres that imply a language


@dataclass(frozen=True)
class Filters:
    """Hard constraints: a track that fails one is never returned."""

    genres: tuple[str, ...] = ()  # any of these, in the genre or the tags
    year_min: int | None = None
    year_max: int | None = None
    energy_min: float | None = None
    energy_max: float | None = None
    exclude_ids: frozenset[str] = frozenset()
    exclude_artists: frozenset[str] = frozenset()  # casefolded
    artists: frozenset[str] = frozenset()  # only these (casefolded), when the listener names them
    exclude_styles: frozenset[str] = frozenset()  # genres, styles, instruments: tags or the description
    exclude_moods: frozenset[str] = frozenset()
    excluded_eras: tuple[tuple[int | None, int | None], ...] = ()
    vocals: str | None = None  # instrumental | vocals | female | male
    languages: frozenset[str] = frozenset()
    exclude_languages: frozenset[str] = frozenset()

    @property
    def active(self) -> bool:
        return any(getattr(self, name) not in (None, (), frozenset()) for name in self.__dataclass_fields__)

    @property
    def needs_ids(self) -> bool:
        """Some constraint here is one Chroma's `where` cannot see."""
        return bool(self.genres or self.exclude_styles or self.exclude_moods or self.excluded_eras or self.vocals
                    or self.languages or self.exclude_languages or self.energy_min is not None
                    or self.energy_max is not None)

    def admits(self, track: Track) -> bool:
        if track.id in self.exclude_ids or track.artist_keys & self.exclude_artists:
            return False
        if self.artists and not track.artist_keys & self.artists:
            return False
        styles = style_words_of(track.genre, track.tags)
        if self.genres and not (styles & set(self.genres) or not styles and _features(track, frozenset(self.genres))):
            return False  # a track with no genre or tags at all (plain descriptions) may name its genre in words
        if not self._in_years(track.year) or not self._in_energy(track.energy):
            return False
        if self.exclude_styles and (styles & self.exclude_styles or _features(track, self.exclude_styles)):
            return False
        if self.exclude_moods and set(track.moods) & self.exclude_moods:
            return False
        if track.year is not None and any(_within(track.year, era) for era in self.excluded_eras):
            return False
        if self.vocals and not _vocals_fit(track, self.vocals):
            return False
        spoken = languages_of(track) if self.languages or self.exclude_languages else set()
        if self.languages and not spoken & self.languages:
            return False
        return not spoken & self.exclude_languages

    def _in_years(self, year: int | None) -> bool:
        if (self.year_min or self.year_max) and year is None:
            return False
        return not ((self.year_min and year < self.year_min) or (self.year_max and year > self.year_max))

    def _in_energy(self, energy: float | None) -> bool:
        """Energy is soft where the catalog does not know it: an unknown energy passes ("faster" over a catalog
        with no energy field still ranks by the words)."""
        if energy is None:
            return True
        if self.energy_min is not None and energy < self.energy_min:
            return False
        return not (self.energy_max is not None and energy > self.energy_max)

    def where(self) -> dict[str, Any] | None:
        """The constraints Chroma can check, as a `where` clause, so dense candidates are already filtered."""
        clauses: list[dict[str, Any]] = []
        if self.year_min:
            clauses.append({"year": {"$gte": self.year_min}})
        if self.year_max:
            clauses.append({"year": {"$lte": self.year_max}})
        if self.exclude_artists:
            clauses.append({"artist_key": {"$nin": sorted(self.exclude_artists)}})
        if self.artists:
            clauses.append({"artist_key": {"$in": sorted(self.artists)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def merged(self, request: Request) -> Filters:
        """Add what a request states ("only before 2000", "no metal", "no vocals") to these filters."""
        c = request.constraints
        return Filters(self.genres or _hard_genres(request), self.year_min or request.year_min,
                       self.year_max or request.year_max, self.energy_min, self.energy_max, self.exclude_ids,
                       self.exclude_artists | frozenset(c.excluded("artist")),
                       self.artists or frozenset(a for a in c.included("artist") if a not in c.excluded("artist")),
                       self.exclude_styles | frozenset(c.excluded("genre")) | frozenset(c.excluded("style")),
                       self.exclude_moods | frozenset(c.excluded("mood")),
                       self.excluded_eras + tuple((r.low, r.high) for r in c.excluded_eras),
                       self.vocals or c.vocals, self.languages or frozenset(c.included("language")),
                       self.exclude_languages | frozenset(c.excluded("language")))


def _hard_genres(request: Request) -> tuple[str, ...]:
    """The genres a request names (with the catalog words each stands for) are hard; styles and instruments it
    names ("piano", "acoustic") only rank."""
    if not request.constraints.included("genre"):
        return ()
    words = [w for phrase in request.genre_phrases if phrase not in NOT_GENRES for w in GENRE_WORDS[phrase]]
    return tuple(dict.fromkeys(words))


def _within(year: int, era: tuple[int | None, int | None]) -> bool:
    low, high = era
    return (low is None or year >= low) and (high is None or year <= high)


@lru_cache(maxsize=256)
def _matcher(terms: frozenset[str]) -> PhraseMatcher:
    """The terms and their plurals ("synth" also finds "space-age synths")."""
    return PhraseMatcher(sorted(terms | {t + "s" for t in terms if not t.endswith("s")}))


def _features(track: Track, terms: frozenset[str]) -> bool:
    """The track's own description or title features one of `terms` (not "no piano", "without strings")."""
    text = " ".join(x for x in (track.title, track.description) if x)
    return any(not match.negated for match in _matcher(terms).find(text)) if text else False


def _text(track: Track) -> str:
    return " ".join(x for x in (track.description, " ".join(track.tags), track.genre) if x).casefold()


def _vocals_fit(track: Track, wanted: str) -> bool:
    text = _text(track)
    instrumental = "instrumental" in style_words_of(track.genre, track.tags) or bool(INSTRUMENTAL.search(text))
    if wanted == "instrumental":
        return instrumental and not track.lyrics
    if instrumental and not track.lyrics:
        return False
    if wanted == "vocals":
        return bool(track.lyrics) or bool(VOCAL.search(text))
    voice = FEMALE if wanted == "female" else MALE
    return bool(VOCAL.search(text) or track.lyrics) and bool(voice.search(text))


def languages_of(track: Track) -> set[str]:
    """Languages the track's own fields name: "sung in Spanish", a Korean-language tag, a K-pop genre."""
    text = _text(track)
    found = {code for code, words in LANGUAGE_WORDS.items() if any(re.search(rf"\b{w}\b", text) for w in words)}
    styles = style_words_of(track.genre, track.tags)
    found |= {code for genre, code in GENRE_LANGUAGES.items() if genre in styles}
    return found
