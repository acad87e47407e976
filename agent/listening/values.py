"""The values inside history rows: times in any of the services' forms (aware UTC), ratings on any scale,
skip flags, names; and `_Bad`, which a reader raises for a row it cannot use."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any


class _Bad(Exception):
    """One record cannot be read; the reader reports it and goes on."""


def _normal(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                       "dec"), 1)}


def _when(value: Any) -> datetime | None:
    """Aware UTC from unix seconds (or milliseconds), ISO 8601 (naive = UTC) or a Last.fm date; None if empty."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _unix(value)
        if isinstance(value, str):
            text = value.strip()
            if text.replace(".", "", 1).isdigit():
                return _unix(float(text))
            moment = _iso(text) or _lastfm_date(text)
            if moment is not None:
                return moment
    except (ValueError, OverflowError, OSError):
        pass
    raise _Bad(f"bad timestamp '{str(value)[:40]}'")


def _unix(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds / 1000 if seconds > 1e11 else seconds, UTC)


def _iso(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _lastfm_date(text: str) -> datetime | None:
    """'31 Jan 2021 14:22' (or '31 Jan 2021, 14:22'), by hand: strptime is slow."""
    parts = text.replace(",", " ").split()
    if len(parts) != 4 or parts[1][:3].lower() not in _MONTHS:
        return None
    clock = parts[3].split(":")
    try:
        return datetime(int(parts[2]), _MONTHS[parts[1][:3].lower()], int(parts[0]), int(clock[0]),
                        int(clock[1]) if len(clock) > 1 else 0, int(clock[2]) if len(clock) > 2 else 0, tzinfo=UTC)
    except ValueError:
        return None


_LIKE = {"love", "loved", "like", "liked", "yes", "y", "up", "thumbs_up", "👍", "❤", "♥"}


_DISLIKE = {"hate", "hated", "dislike", "disliked", "no", "n", "down", "thumbs_down", "👎"}


_TRUE = {"1", "true", "yes", "y", "t", "x", "skipped", "skip"}


_FALSE = {"0", "false", "no", "n", "f"}


_EMOJI_NOISE = re.compile("[\ufe0f\U0001f3fb-\U0001f3ff]")  # variation selector, skin tones: 👍🏽 is 👍


_Scale = Callable[[float], float | None]


def _keep(value: float) -> float:
    return value


def _stars(value: float) -> float | None:
    return None if value == 0 else (value - 3) / 2  # 0 stars is "not rated" in players that rate 1-5


def _tenths(value: float) -> float:
    return (value - 5) / 5


def _rating_scale(cells: Iterator[str]) -> _Scale:
    """How a file's numbers map onto -1..+1, judged on the whole file: 1 tops -1..1 but is the worst of 1-5."""
    numbers = [n for cell in cells if (n := _number(cell)) is not None]
    low, high = min(numbers, default=0.0), max(numbers, default=0.0)
    if low >= -1 and high <= 1:
        return _keep
    return _stars if high <= 5 else _tenths


def _score(cell: str, scale: _Scale) -> float | None:
    if not cell:
        return None
    number = _number(cell)
    if number is None:
        word = _normal(_EMOJI_NOISE.sub("", cell))
        if word in _LIKE or word in _DISLIKE:
            return 1.0 if word in _LIKE else -1.0
        raise _Bad(f"rating '{cell[:40]}' is not a number or a like/dislike word")
    score = scale(number)
    if score is not None and not -1 <= score <= 1:
        raise _Bad(f"rating {cell} is off its scale (1-5 stars, 0-10 or -1..1)")
    return score


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _yes_no(cell: str) -> bool | None:
    word = cell.lower()
    if not word:
        return None
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise _Bad(f"skipped '{cell[:40]}' is not yes or no")


def _names(artist: Any, title: Any) -> tuple[str, str]:
    artist, title = _text(artist), _text(title)
    if not artist:
        raise _Bad("missing artist")
    if not title:
        raise _Bad("missing title")
    return artist, title


def _text(value: Any) -> str:
    if isinstance(value, str):  # nearly always: the fast path matters at 50,000 plays
        return value.strip()
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else ""


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
