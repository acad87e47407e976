"""Next steps to offer after a list: two or three messages derived from how the picks on screen spread (over
decades, genres, energy, mood, vocals), each worded as a message the reader honours as it is ("only the 90s",
"just the rock ones", "calmer", "no vocals"), so a chip in the web app sends exactly what it shows."""

from __future__ import annotations

from collections import Counter
from statistics import mean

from retrieval import Filters, Track

from .taste import Taste

INSTRUMENTAL = Filters(vocals="instrumental")


def suggestions(tracks: list[Track], taste: Taste, limit: int = 3) -> list[str]:
    """At most `limit` next steps, the widest spread first, one per kind; none for fewer than three picks."""
    if len(tracks) < 3:
        return []
    offers: list[tuple[float, str]] = []  # (how much the picks differ on this axis, the message)
    for offer in (_era(tracks, taste), _genre(tracks, taste), _energy(tracks, taste), _mood(tracks), _vocals(tracks,
                                                                                                           taste)):
        if offer:
            offers.append(offer)
    offers.sort(key=lambda o: -o[0])
    return [message for _, message in offers[:limit]]


def _era(tracks: list[Track], taste: Taste) -> tuple[float, str] | None:
    decades = Counter(t.year // 10 * 10 for t in tracks if t.year)
    if sum(decades.values()) < 3:
        return None
    decade, count = max(decades.items(), key=lambda d: (d[1], d[0]))
    if len(decades) == 1:  # one decade already: a step along it
        return 0.3, "something older" if decade >= 1970 else "something newer"
    if count < 2 or (taste.year_min and taste.year_max and taste.year_max - taste.year_min <= 9):
        return None
    return len(decades) / len(tracks), f"only the {_decade(decade)}"


def _decade(start: int) -> str:
    """How listeners say a decade, in words the era reader takes back: "90s", "2010s"."""
    return f"{start % 100:02d}s" if 1920 <= start < 2000 else f"{start}s"


def _genre(tracks: list[Track], taste: Taste) -> tuple[float, str] | None:
    genres = Counter(t.genre for t in tracks if t.genre)
    if len(genres) < 3:
        return None
    genre, count = max(genres.items(), key=lambda g: (g[1], g[0]))
    if count < 2 or genre in taste.banned_styles:
        return None
    return len(genres) / len(tracks), f"just the {genre} ones"


def _energy(tracks: list[Track], taste: Taste) -> tuple[float, str] | None:
    energies = [t.energy for t in tracks if t.energy is not None]
    if len(energies) < 3:
        return None
    level = mean(energies)
    if level >= 0.5:
        return (None if taste.energy_max is not None and taste.energy_max < 0.3 else
                (0.2 + level - 0.5, "calmer"))
    return None if taste.energy_min is not None and taste.energy_min > 0.7 else (0.2 + 0.5 - level, "more upbeat")


def _mood(tracks: list[Track]) -> tuple[float, str] | None:
    values = [t.valence for t in tracks if t.valence is not None]
    if len(values) < 3 or mean(values) > 0.35:
        return None
    return 0.5 - mean(values), "happier"


def _vocals(tracks: list[Track], taste: Taste) -> tuple[float, str] | None:
    if taste.vocals:
        return None
    wordless = sum(INSTRUMENTAL.admits(t) for t in tracks)
    return (0.25, "no vocals") if 0 < wordless < len(tracks) else None
