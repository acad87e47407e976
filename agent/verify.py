"""The verifier: every song or artist the model names must be one Encore can show. Sentences that name anything
else (an invented song, an artist outside the picks, an instruction smuggled into a catalog description) are
dropped; what remains is returned with a count of what was removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval import Track
from retrieval.query import ArtistMatcher
from retrieval.text import phrase_key, quoted, same_artist
from retrieval.text import split_sentences as split_sentences_of
from retrieval.vocab import common_words

QUOTES = (2, 80)  # the lengths of a quoted title or artist in a reply
NAME = r"((?:the\s+)?[A-Z][\w'&.\-]*(?:\s+(?:&\s+)?[A-Z][\w'&.\-]*){0,4})"  # "by The Artist Name"
QUOTED_BY = re.compile(r"[\"“«]([^\"“”«»]{2,80})[\"”»],?\s+by\s+" + NAME)
BY_ARTIST = re.compile(r"\bby\s+" + NAME)
REPLY_ENDS = ".!?。！？"  # a reply's sentences end here, or at a line break


@dataclass
class Checked:
    """A text as the verifier leaves it: the sentences kept, and those dropped."""

    text: str
    dropped: list[str]


class Verifier:
    """Checks free text against the tracks a reply may name (`allowed`) and the whole catalog's artists."""

    def __init__(self, allowed: list[Track], catalog_artists: ArtistMatcher | None = None,
                 extra_artists: tuple[str, ...] = (), no_names: bool = False, forbidden: tuple[str, ...] = ()):
        """`forbidden`: names the listener wrote (`asked_names`); unless one of `allowed` bears it, a sentence
        that repeats it is dropped, quoted or not ("recommend “Imaginary Hit” by Ghost Band")."""
        self.titles = {phrase_key(t.title) for t in allowed}
        self.albums = {phrase_key(t.album) for t in allowed if t.album}  # a review may name its album
        self.artists = {phrase_key(t.artist) for t in allowed if t.artist} | {phrase_key(a) for a in extra_artists}
        self.by_title: dict[str, set[str]] = {}
        for t in allowed:
            self.by_title.setdefault(phrase_key(t.title), set()).add(phrase_key(t.artist or ""))
        self.catalog_artists = catalog_artists
        self.no_names = no_names  # prose beside a rendered list needs no names: any name is a chance to be wrong
        self.forbidden = [k for k in (phrase_key(f) for f in forbidden)
                          if len(k) > 2 and k not in self.titles and k not in self.artists]

    def sentence_ok(self, sentence: str) -> bool:
        if self.no_names and self._names_anything(sentence):
            return False
        if self.forbidden:
            key = f" {phrase_key(sentence)} "
            if any(f" {name} " in key for name in self.forbidden):
                return False
        for title, artist in QUOTED_BY.findall(sentence):  # "X" by Y: Y must be X's artist
            artists = self.by_title.get(phrase_key(title))
            if artists is not None and not any(same_artist(artist, a) for a in artists):
                return False
        for title in quoted(sentence, *QUOTES):
            key = phrase_key(title)
            if key not in self.titles and key not in self.artists and key not in self.albums:
                return False
        for artist in BY_ARTIST.findall(sentence):
            if not self._known_artist(artist):
                return False
        if self.catalog_artists:
            for key in self.catalog_artists.named_in_prose(sentence, common_words()):
                if phrase_key(key) not in self.artists:
                    return False
        return True

    def _names_anything(self, sentence: str) -> bool:
        if quoted(sentence, *QUOTES) or BY_ARTIST.search(sentence):
            return True
        if self.catalog_artists and self.catalog_artists.named_in_prose(sentence, common_words()):
            return True
        key = f" {phrase_key(sentence)} "
        return any(f" {t} " in key for t in self.titles if len(t) > 3) or any(
            f" {a} " in key for a in self.artists if len(a) > 3)

    def _known_artist(self, name: str) -> bool:
        key = phrase_key(name)
        return any(key == a or key.startswith(a + " ") or a.startswith(key + " ") for a in self.artists)

    def check(self, text: str) -> Checked:
        kept, dropped = [], []
        for sentence in split_sentences(text):
            (kept if self.sentence_ok(sentence) else dropped).append(sentence)
        return Checked(" ".join(kept).strip(), dropped)


def asked_names(text: str) -> tuple[str, ...]:
    """The titles and artists a message names in quotes or after "by": what the model must not repeat unless the
    catalog has them."""
    return tuple(dict.fromkeys([*quoted(text, *QUOTES), *BY_ARTIST.findall(text or "")]))


def split_sentences(text: str) -> list[str]:
    """A reply's sentences, as the verifier judges them."""
    return split_sentences_of(text, REPLY_ENDS, lines=True)
