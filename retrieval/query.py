"""Reading a request: mood (via the mood model), genres, era, vocals, and artists the text names.

Everything here is rules and lexicons, so it works with no language model at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .mood import Mood, read_mood
from .text import PhraseMatcher, phrase_key, strip_accents

# word or phrase -> the genre/tag words it means in a catalog (lowercase). Chinese names included.
GENRE_WORDS: dict[str, tuple[str, ...]] = {
    "rock": ("rock",), "摇滚": ("rock",), "indie": ("indie",), "alternative": ("indie", "alternative", "rock"),
    "metal": ("metal",), "heavy metal": ("metal",), "金属": ("metal",), "punk": ("punk",), "grunge": ("grunge",),
    "pop": ("pop",), "流行": ("pop",), "synth-pop": ("synth-pop",), "synthpop": ("synth-pop",),
    "hip hop": ("hip-hop",), "hip-hop": ("hip-hop",), "hiphop": ("hip-hop",), "rap": ("hip-hop", "rap"),
    "说唱": ("hip-hop",), "嘻哈": ("hip-hop",), "trap": ("trap", "hip-hop"),
    "r&b": ("r&b",), "rnb": ("r&b",), "soul": ("soul",), "funk": ("funk",), "disco": ("disco",),
    "motown": ("soul", "motown"), "jazz": ("jazz",), "爵士": ("jazz",), "swing": ("swing", "jazz"),
    "blues": ("blues",), "蓝调": ("blues",), "country": ("country",), "乡村": ("country",),
    "folk": ("folk",), "民谣": ("folk",), "singer-songwriter": ("singer-songwriter",),
    "electronic": ("electronic",), "electronica": ("electronic",), "电子": ("electronic",),
    "edm": ("dance", "electronic"), "dance": ("dance",), "house": ("house",), "techno": ("techno",),
    "trance": ("trance",), "drum and bass": ("drum & bass",), "dnb": ("drum & bass",),
    "dubstep": ("dubstep",), "ambient": ("ambient",), "氛围": ("ambient",), "downtempo": ("downtempo",),
    "trip hop": ("trip hop",), "trip-hop": ("trip hop",), "lo-fi": ("lo-fi",), "lofi": ("lo-fi",),
    "idm": ("idm",), "chiptune": ("chiptune",), "classical": ("classical",), "古典": ("classical",),
    "piano": ("piano",), "钢琴": ("piano",), "orchestral": ("orchestral",), "reggae": ("reggae",),
    "雷鬼": ("reggae",), "latin": ("latin",), "bossa nova": ("bossa nova", "latin"), "salsa": ("salsa", "latin"),
    "reggaeton": ("reggaeton", "latin"), "gospel": ("gospel",), "afrobeat": ("afrobeat", "world"),
    "afrobeats": ("afrobeats", "world"), "world": ("world",), "soundtrack": ("soundtrack",),
    "film score": ("soundtrack",), "k-pop": ("k-pop",), "kpop": ("k-pop",), "j-pop": ("j-pop",),
    "jpop": ("j-pop",), "mandopop": ("mandopop",), "cantopop": ("cantopop",), "c-pop": ("mandopop", "cantopop"),
    "华语": ("mandopop", "cantopop"), "中文歌": ("mandopop", "cantopop"), "粤语": ("cantopop",),
    "post rock": ("post rock",), "post-rock": ("post rock",), "shoegaze": ("shoegaze",),
    "new wave": ("new wave",), "doo-wop": ("doo-wop",), "big band": ("big band",), "acoustic": ("acoustic",),
}
INSTRUMENTAL_WORDS = ("instrumental", "no vocals", "without vocals", "no lyrics", "without lyrics", "no singing",
                      "纯音乐", "无人声", "没有歌词")
DECADE_WORDS = {"fifties": 1950, "sixties": 1960, "seventies": 1970, "eighties": 1980, "nineties": 1990,
                "noughties": 2000, "aughts": 2000}


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
    artists: tuple[str, ...] = ()  # casefolded artist names found in the text

    def search_text(self) -> str:
        """The text to embed and match: the request plus the English mood and genre words it implies."""
        extra = [*self.mood.moods, *self.genres]
        if self.instrumental:
            extra.append("instrumental")
        return " ".join([self.text, *extra]).strip()


_GENRES = PhraseMatcher(GENRE_WORDS)
_INSTRUMENTAL = PhraseMatcher(INSTRUMENTAL_WORDS)


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


def read_era(text: str) -> tuple[int | None, int | None]:
    """'90s', 'the 1980s', 'nineties', '90年代', 'before 2000', 'after 2010', 'from 1975 to 1985' -> a year range."""
    text = text.casefold()
    if m := re.search(r"(?:between|from)\s+((?:19|20)\d\d)\s+(?:and|to|-)\s+((?:19|20)\d\d)", text):
        low, high = sorted((int(m.group(1)), int(m.group(2))))
        return low, high
    low = high = None
    if m := re.search(r"(?:before|until|up to|pre-?|older than|earlier than)\s*((?:19|20)\d\d)", text):
        high = int(m.group(1)) - (0 if "until" in m.group(0) or "up to" in m.group(0) else 1)
    if m := re.search(r"(?:after|since|post-?|newer than|later than|from)\s*((?:19|20)\d\d)(?!s)", text):
        low = int(m.group(1)) + (1 if m.group(0).startswith(("after", "newer", "later")) else 0)
    if low or high:
        return low, high
    if m := re.search(r"(?<!\d)(?:(19|20)|')?(\d)0\s*(?:'?s|年代)", text):
        century = m.group(1) or ("20" if m.group(2) in "012" else "19")
        start = int(century + m.group(2) + "0")
        return start, start + 9
    for word, start in DECADE_WORDS.items():
        if word in text:
            return start, start + 9
    if m := re.search(r"(?<!\d)((?:19|20)\d\d)(?!\d|s)", text):
        return None, None  # a lone year is usually part of a title ("1979"), not a filter
    return None, None


def read_request(text: str, artists: ArtistMatcher | None = None) -> Request:
    """Parse `text`; `artists` recognises the catalog's artist names."""
    genres: list[str] = []
    phrases: list[str] = []
    for match in _GENRES.find(text):
        if not match.negated:
            phrases.append(match.phrase)
            genres += [w for w in GENRE_WORDS[match.phrase] if w not in genres]
    year_min, year_max = read_era(text)
    instrumental = any(not m.negated for m in _INSTRUMENTAL.find(text))
    return Request(text=text.strip(), mood=read_mood(text), genres=tuple(genres), genre_phrases=tuple(phrases),
                   year_min=year_min, year_max=year_max, instrumental=instrumental,
                   artists=artists.find(text) if artists else ())
