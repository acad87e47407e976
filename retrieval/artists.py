"""Recognising a catalog's artists in text: whole words, short names only with a capital, accents optional."""

from __future__ import annotations

import re

from .text import PhraseMatcher, phrase_key, strip_accents


class ArtistMatcher:
    """Finds catalog artists named in a request. Short one-word names ("Air", "Eve", "Queen") must be written
    with a capital, so "music in the air" does not summon Air."""

    def __init__(self, artists: dict[str, str]):
        names: dict[str, str] = {}  # phrase key of a way to write the name -> the artist's key
        for key, name in artists.items():
            for form in _forms(name):
                names.setdefault(phrase_key(form), key)
        self.matcher = PhraseMatcher(names)
        self.keys = names

    def find(self, text: str) -> tuple[str, ...]:
        found = []
        for match in self.matcher.find(text):
            name = match.phrase
            if " " not in phrase_key(name) and len(name) < 6 and not _capitalised_in(name, text):
                continue
            found.append(self.keys[phrase_key(name)])
        return tuple(dict.fromkeys(found))


def _forms(name: str) -> list[str]:
    """The name, without its accents ("Beyonce"), and the leading act of a billing such as "Bob Marley & The
    Wailers" or "Stevie Ray Vaughan and Double Trouble" when that part is a name of two words or more."""
    forms = [name, strip_accents(name)]
    head = re.split(r"\s+(?:&|and|with|feat\.?|featuring|x)\s+", name, maxsplit=1)[0]
    if head != name and len(head.split()) >= 2:
        forms += [head, strip_accents(head)]
    return list(dict.fromkeys(forms))


def _capitalised_in(name: str, text: str) -> bool:
    return any(w[:1].isupper() and w.casefold() == phrase_key(name) for w in re.findall(r"[\w&]+", text))
