"""Reading a request: mood (via the mood model), genres, era, vocals, and artists the text names.

Everything here is rules and lexicons, so it works with no language model at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .constraints import Constraints
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

    def search_text(self) -> str:
        """The text to embed and match: the request (less what it refuses) plus the English mood and genre words
        it implies."""
        extra = [*self.mood.moods, *self.genres]
        if self.instrumental:
            extra.append("instrumental")
        return " ".join([self.words or self.text, *extra]).strip()


_GENRES = PhraseMatcher(GENRE_WORDS)


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


def read_request(text: str, artists: ArtistMatcher | None = None, now: int | None = None) -> Request:
    """Parse `text`; `artists` recognises the catalog's artist names. Refused genres, styles, moods, eras and
    artists become constraints and leave the words that are searched."""
    from .parse import read_constraints

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
                   words=reading.search_text if reading.refused else "", core=reading.core)
