"""Reading a request: mood (via the mood model), genres, era, vocals, and artists the text names.

Everything here is rules and lexicons, so it works with no language model at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .artists import ArtistMatcher
from .constraints import Constraints
from .genres import GENRE_WORDS
from .mood import Mood, read_mood
from .parse import read_constraints
from .parse_words import VOCALS
from .text import PhraseMatcher

__all__ = ["GENRE_WORDS", "ArtistMatcher", "Request", "read_content", "read_request"]


@dataclass(frozen=True)
class Request:
    """What a request asks for, beyond its words."""

    text: str
    mood: Mood = field(default_factory=Mood)
    genres: tuple[str, ...] = ()  # catalog genre/tag words
    genre_phrases: tuple[str, ...] = ()  # the words the person used
    year_min: int | None = None
    year_max: int | None = None
    instrumental: bool = False
    artists: tuple[str, ...] = ()  # casefolded artist names found in the text (asked for or "like")
    constraints: Constraints = field(default_factory=Constraints)  # everything stated, with polarity
    words: str = ""  # the text without the words of what it refuses ("keep metal out" does not search "metal")
    core: str | None = None  # the text without any constraint's words: what is left to say what to play
    open_refusals: tuple[tuple[str, str], ...] = ()  # (cue, phrase) refused outside the lexicons: "no remixes"

    def search_text(self) -> str:
        """The text to embed and match: the request (less what it refuses) plus the English mood and genre words
        it implies."""
        extra = [*self.mood.moods, *self.genres]
        if self.instrumental:
            extra.append("instrumental")
        return " ".join([self.words or self.text, *extra]).strip()


_GENRES = PhraseMatcher(GENRE_WORDS)
_INSTRUMENTAL = PhraseMatcher({w: w for w, (stated, _) in VOCALS.items() if stated == "instrumental"})


def read_request(text: str, artists: ArtistMatcher | None = None, now: int | None = None) -> Request:
    """Parse `text`; `artists` recognises the catalog's artist names. Refused genres, styles, moods, eras and
    artists become constraints and leave the words that are searched."""
    reading = read_constraints(text, artists, now)
    c = reading.constraints
    refused = set(c.excluded("genre")) | set(c.excluded("style"))
    genres: list[str] = []
    phrases: list[str] = []
    for match in _GENRES.find(reading.search_text):
        words = GENRE_WORDS[match.phrase]
        if not match.negated and not refused & set(words):
            phrases.append(match.phrase)
            genres += [w for w in words if w not in genres]
    era = c.era or None
    named = [a for a in (*c.included("artist"), *c.similar_artists) if a not in c.excluded("artist")]
    return Request(text=text.strip(), mood=read_mood(reading.search_text), genres=tuple(genres),
                   genre_phrases=tuple(phrases), year_min=era.low if era else None,
                   year_max=era.high if era else None, instrumental=c.vocals == "instrumental",
                   artists=tuple(dict.fromkeys(named)), constraints=c,
                   words=reading.search_text if reading.refused else "", core=reading.core,
                   open_refusals=tuple(reading.open_refusals))


def read_content(text: str, artists: ArtistMatcher | None = None) -> Request:
    """What is left of a message once the parser has read its constraints (`Request.core`, less the chat's own
    refinements): its mood and genre words, the artists it names, and whether it asks for instrumentals. The
    lexicons only, with no negation scope, eras or counts: the parser has already taken those out."""
    genres: list[str] = []
    for match in _GENRES.find(text):
        if not match.negated:
            genres += [w for w in GENRE_WORDS[match.phrase] if w not in genres]
    instrumental = any(not m.negated for m in _INSTRUMENTAL.find(text))
    return Request(text=text.strip(), mood=read_mood(text), genres=tuple(genres),
                   artists=artists.find(text) if artists else (), instrumental=instrumental)
