"""Matching a play ("artist", "title" as a listening service wrote them) to a catalog track.

Services write titles their own way ("Pink Moon - Remastered 2011", "So What (feat. John Coltrane)", "Hound Dog
[Live]") and people misspell: a title is compared after its decorations are taken off, and a miss is retried with a
small typo allowed, first in the artist's name (the artist matcher's rules) and then in the title among that
artist's tracks only (a typo-tolerant title search over the whole catalog would match strangers' songs).

    matcher = TrackMatcher(catalog.index())
    matcher.match("Nick Drake", "Pink Moon - Remastered")   # -> "nick-drake--pink-moon" or None
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import fuzz, process

from retrieval.lexical import LexicalIndex
from retrieval.records import billed_names
from retrieval.text import phrase_key, strip_accents

ARTIST_CUTOFF = 88  # rapidfuzz ratio (0-100) for a misspelt artist: the artist matcher's one-word bar
TITLE_CUTOFF = 86
DECORATION = re.compile(
    r"\s*(?:[(\[][^)\]]*(?:remaster|live|version|edit|mix|mono|stereo|demo|feat\.?|featuring|with|bonus|deluxe|"
    r"acoustic|instrumental|radio|single|take)[^)\]]*[)\]]|\s-\s.*(?:remaster|live|version|edit|mix|mono|stereo|demo|"
    r"bonus|deluxe|acoustic|radio|single).*$)", re.I)


@lru_cache(maxsize=200_000)
def title_key(title: str) -> str:
    """A title as compared: decorations off ("- Remastered 2011", "(Live)", "[feat. X]"), accents and case folded."""
    bare = (DECORATION.sub("", title).strip() or title) if "(" in title or "[" in title or " - " in title else title
    return phrase_key(strip_accents(bare))


@lru_cache(maxsize=200_000)
def artist_key(artist: str) -> str:
    return phrase_key(strip_accents(artist))


class TrackMatcher:
    """Finds the catalog track a (artist, title) pair means; answers are cached, since a history repeats itself."""

    def __init__(self, index: LexicalIndex):
        # artist key -> (track id, title as written); titles are keyed only for the artists a history names
        self.tracks: dict[str, list[tuple[str, str]]] = {}
        billed: dict[str, set[str]] = {}  # an artist field -> its keys (an artist has many tracks: once each)
        for track_id, title, artist in index.names():
            if not artist:
                continue
            if artist not in billed:
                billed[artist] = {artist_key(artist), *(artist_key(b) for b in billed_names(artist.casefold()))}
            for name in billed[artist]:
                self.tracks.setdefault(name, []).append((track_id, title))
        self._titles: dict[str, dict[str, str]] = {}
        self.artists = list(self.tracks)
        self._guessed: dict[str, str | None] = {}  # a misspelt artist -> the catalog's, once looked up
        self._cache: dict[tuple[str, str], str | None] = {}

    def match_many(self, pairs: list[tuple[str, str]]) -> list[str | None]:
        """`match` for many pairs at once: the misspelt artists among them are looked up in one batch (rapidfuzz's
        cdist on every core), which is what a 50,000-play history needs."""
        wanted = [(artist_key(a), title_key(t)) for a, t in pairs]
        missing = sorted({a for a, _ in wanted if self._exact_artist(a) is None and len(a.replace(" ", "")) >= 6}
                         - set(self._guessed))
        if missing and self.artists:
            scores = process.cdist(missing, self.artists, scorer=fuzz.ratio, score_cutoff=ARTIST_CUTOFF, workers=-1)
            best = scores.argmax(axis=1)
            for row, artist in enumerate(missing):
                self._guessed[artist] = self.artists[best[row]] if scores[row, best[row]] else None
        out = []
        for key in wanted:
            if key not in self._cache:
                self._cache[key] = self._match(*key)
            out.append(self._cache[key])
        return out

    def match(self, artist: str, title: str) -> str | None:
        key = (artist_key(artist), title_key(title))
        if key not in self._cache:
            self._cache[key] = self._match(*key)
        return self._cache[key]

    def _match(self, artist: str, title: str) -> str | None:
        found = self._find_artist(artist)
        if found is None:
            return None
        titles = self._titles_of(found)
        if title in titles:
            return titles[title]
        if len(title) < 4:  # "Go" vs "No": too short to forgive a typo
            return None
        best = process.extractOne(title, list(titles), scorer=fuzz.ratio, score_cutoff=TITLE_CUTOFF)
        return titles[best[0]] if best else None

    def _titles_of(self, artist: str) -> dict[str, str]:
        """Title key -> track id, for one artist (the first track of a title wins)."""
        if artist not in self._titles:
            keyed: dict[str, str] = {}
            for track_id, title in self.tracks[artist]:
                keyed.setdefault(title_key(title), track_id)
            self._titles[artist] = keyed
        return self._titles[artist]

    def _exact_artist(self, artist: str) -> str | None:
        if artist in self.tracks:
            return artist
        if artist.startswith("the ") and artist[4:] in self.tracks:
            return artist[4:]
        if f"the {artist}" in self.tracks:
            return f"the {artist}"
        return None

    def _find_artist(self, artist: str) -> str | None:
        found = self._exact_artist(artist)
        if found is not None:
            return found
        if len(artist.replace(" ", "")) < 6:  # the artist matcher's rule: short names only as written
            return None
        if artist not in self._guessed:
            best = process.extractOne(artist, self.artists, scorer=fuzz.ratio, score_cutoff=ARTIST_CUTOFF)
            self._guessed[artist] = best[0] if best else None
        return self._guessed[artist]
