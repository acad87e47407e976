"""Genre words: what a listener may call a genre (English and Chinese), and the catalog genre/tag words it means
(`lexicon/genres.json`)."""

from __future__ import annotations

from .lexicon import load

# word or phrase -> the genre/tag words it means in a catalog (lowercase). Chinese names included.
GENRE_WORDS: dict[str, tuple[str, ...]] = load("genres")["genre_words"]
