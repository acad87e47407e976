"""Encore's vocabularies, as data: every word list the request parser, the chat reader, the mood model and the
claim checker know, one versioned JSON file per subject beside this module, read by one loader.

    load("request")["moves"]["faster"]    # ("energy", 1)

    request.json   the parser's words beyond the genre words: styles, vocals, languages, moves, refusal cues,
                   numbers, ordinals, decades
    genres.json    the genre words listeners use -> catalog genre and tag words
    mood.json      the mood lexicon: phrases (English, Chinese) -> moods, energy, valence; the mood vocabulary
    terms.json     music terms a sentence can claim (instruments, sounds, styles, mood words)
    chat.json      what only a conversation says: emoji, greetings, words that say nothing about what to play
    common.json    ordinary English words (a capitalised one opening a sentence is no name)
    unsafe.json    topics a review may not raise unless the track carries them

Regular expressions stay in code, and only for structure (eras, numbers, counts, clause breaks). A file whose
`version` is not this loader's is refused with a clear error rather than read wrongly. Lists come back as tuples
(a vocabulary is never changed at run time).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

VERSION = 1


@cache
def load(name: str) -> dict[str, Any]:
    """The vocabulary file `name` (without `.json`), its lists as tuples."""
    return read(resources.files(__package__).joinpath(f"{name}.json").read_text(encoding="utf-8"), f"{name}.json")


def read(text: str, where: str) -> dict[str, Any]:
    """One vocabulary file's text; a version this loader does not read is refused, naming the file."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("version") != VERSION:
        found = data.get("version") if isinstance(data, dict) else None
        raise ValueError(f"retrieval/lexicon/{where} is version {found}; this Encore reads version {VERSION}")
    return {key: _frozen(value) for key, value in data.items() if key not in ("version", "_about")}


def _frozen(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    return value
