"""Grounded sentences: what a point says when the model's sentence does not pass the claim checker.

Each sentence is built from the point's facts in one of many frames: a subject, a predicate and a close, eight
of each for the point's kind (512 frames). The frame a review uses for each kind is chosen by a linear code over
the prime field GF(509): a track hashes to a pair (a, b) and takes frame (a + k*b) mod 509 for its k-th kind.
Two tracks with different pairs then agree on at most one kind (a + k*b = a' + k*b' has one solution k when
b != b', none when only a differs), so no two reviews of different tracks share more than one frame; two tracks
draw the same pair with probability 1/509^2.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from retrieval import Track
from retrieval.mood import read_mood
from retrieval.plans import Point, clip, moods_of, qualities, sentences

P = 509
KIND_INDEX = {"identity": 1, "sound": 2, "described": 3, "feeling": 4, "lyrics": 5, "listener": 6,
              "neighbours": 7, "verdict": 8, "detail": 9, "pace": 10, "arc": 11, "blend": 12, "use": 13,
              "remark": 14, "explain": 15}


def frame_index(key: str, kind: str) -> int:
    digest = hashlib.sha1(key.encode()).digest()
    a, b = int.from_bytes(digest[:4], "big") % P, int.from_bytes(digest[4:8], "big") % P
    return (a + KIND_INDEX.get(kind, 0) * b) % P


def grounded(point: Point, track: Track | None, key: str | None = None, extra: dict | None = None) -> str:
    """The point's grounded sentence, in the frame `key` (a track id, a request) selects."""
    build = BODIES.get(point.kind)
    if build is None:
        return ""
    index = frame_index(key or point.track_id or point.support(), point.kind)
    text = build((index % 8, index // 8 % 8, index // 64 % 8), _Facts(point, track, extra or {}))
    return _finish(text) if text else ""


class _Facts:
    """What a body may say, read from the point's facts and its track."""

    def __init__(self, point: Point, track: Track | None, extra: dict):
        self.point = point
        self.track = track
        self.extra = extra
        self.facts = dict(point.facts)

    def get(self, key: str) -> str:
        return self.facts.get(key, "")

    @property
    def title(self) -> str:
        return f"\u201c{self.get('title') or (self.track.title if self.track else 'it')}\u201d"

    @property
    def artist(self) -> str:
        return self.get("artist") or (self.track.artist if self.track and self.track.artist else "")

    @property
    def kind(self) -> str:
        genre = self.get("genre")
        styles = [s for s in self.get("styles").split(", ") if s]
        if genre and styles:
            return f"{styles[0]}" if genre.casefold() in styles[0].casefold() else f"{genre} ({styles[0]})"
        return genre or (styles[0] if styles else "")

    @property
    def quals(self) -> list[str]:
        q = [x for x in self.get("qualities").split(", ") if x]
        if not q and self.track:
            q = qualities(self.track)
        return q

    @property
    def moods(self) -> list[str]:
        value = self.get("moods") or self.get("moods (inferred)")
        if value:
            return value.split(", ")
        return moods_of(self.track)[0] if self.track else []


def _level(energy: str) -> str:
    """"high energy, lively" -> "high"."""
    return re.sub(r"\s*energy$", "", energy.split(",")[0]).strip()


def _and(items: list[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _a(word: str) -> str:
    """The indefinite article by sound: "an era", "a europop", "a one-off", "an 1850", "an hour"."""
    w = word.casefold()
    if w[:1].isdigit():
        vowel = w.startswith(("8", "11", "18")) and not w.startswith(("111", "811"))
    else:
        vowel = w[:1] in "aeiou" and not re.match(r"(eu|uni|use|usu|one|once)", w) or \
            w.startswith(("hour", "honest", "heir"))
    return ("an " if vowel else "a ") + word


def _finish(text: str) -> str:
    text = re.sub(r"\s+([,.])", r"\1", " ".join(text.split())).strip()
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith((".", "!", "?", ".\u201d", "!\u201d")) else text + "."


# --- bodies: a subject, a predicate and a close, eight of each ------------------------------------------------

Slots = tuple[int, int, int]


def _identity(i: Slots, f: _Facts) -> str:
    t, a, year, album = f.title, f.artist, f.get("year"), f.get("album")
    kind = f.kind or "catalog"
    own = f"{a}'" if a.endswith("s") else f"{a}'s"
    subjects = ([f"{t} by {a}", f"{own} {t}", f"{t}, by {a},", f"{t}, recorded by {a},", f"{t} from {a}",
                 f"{own} recording of {t}", f"{t}, the {a} track,", f"{t}, credited to {a},"] if a else
                [t, f"The track {t}", f"{t}, from the catalog,", f"The recording {t}", f"{t}, as catalogued,",
                 f"The piece {t}", f"{t}, uncredited,", f"The song {t}"])
    predicates = [f"is {_a(kind)} track", f"is a piece of {kind}", f"belongs to {kind}",
                  f"speaks the language of {kind}", f"is {kind} at its core", f"sits squarely in {kind}",
                  f"is rooted in {kind}", f"is {_a(kind)} record"]
    closes = ([f" from {year}", f", released in {year}", f", first issued in {year}", f", dating from {year}",
               f", a recording of {year}", f", out since {year}", f", cut in {year}", f", {_a(year)} release"]
              if year else
              ["", " through and through", " first and last", " from its first bar", " in every bar",
               " without apology", " by any measure", " from top to bottom"])
    on = f", on the album \u201c{album}\u201d" if album else ""
    return f"{subjects[i[0]]} {predicates[i[1]]}{closes[i[2]]}{on}"


def _sound(i: Slots, f: _Facts) -> str:
    q = f.quals
    if not q:
        return ""
    x, rest, tempo = _and(q[:2]), q[2:4], f.get("tempo")
    subjects = ["The sound", "The arrangement", "The record", "The mix", "Its palette", "The music",
                "What you hear", "The track"]
    predicates = [f"rests on {x}", f"is built from {x}", f"leans on {x}", f"centres on {x}", f"draws on {x}",
                  f"comes down to {x}", f"is made of {x}", f"turns on {x}"]
    if tempo:
        closes = [f", moving at {tempo}", f" at {tempo}", f", paced at {tempo}", f", ticking along at {tempo}",
                  f", set at {tempo}", f" and runs at {tempo}", f", all at {tempo}", f", at a steady {tempo}"]
    elif rest:
        y = _and(rest)
        closes = [f", with {y} underneath", f", and {y} colours it", f", with {y} close behind", f", over {y}",
                  f", {y} filling the rest", f", plus {y}", f", {y} at the edges", f", with a touch of {y}"]
    else:
        closes = ["", " throughout", " above all", " from the start", " first of all", " at every turn",
                  " all the way", " in the main"]
    return f"{subjects[i[0]]} {predicates[i[1]]}{closes[i[2]]}"


def _described(i: Slots, f: _Facts) -> str:
    text = f.get("description")
    return " ".join(sentences(text)) if text else ""  # the catalog's own words: unique to the track


def _feeling(i: Slots, f: _Facts) -> str:
    moods, feel, energy = f.moods[:3], f.get("feel"), _level(f.get("energy"))
    if not moods and not feel:
        return ""
    m = _and(moods) if moods else feel
    inferred = "moods (inferred)" in f.facts
    subjects = ["The mood", "The feeling", "Its temper", "The atmosphere", "The tone", "Its spirit",
                "The emotional colour", "What it leaves behind"]
    predicates = ([f"seems {m}", f"reads as {m}", f"comes across as {m}", f"appears {m}", f"suggests {m}",
                   f"hints at {m}", f"points to {m}", f"leans {m}"] if inferred else
                  [f"is {m}", f"runs {m}", f"stays {m}", f"turns {m}", f"settles on {m}", f"comes across as {m}",
                   f"leans {m}", f"feels {m}"])
    if energy and feel and moods:
        closes = [f", {feel}", f", with {energy} energy", f"; the energy is {energy}", f", and {feel}",
                  f" at {energy} energy", f", the energy {energy}", f", {feel} in tone", f", its energy {energy}"]
    elif energy:
        closes = [f", with {energy} energy", f"; the energy is {energy}", f" at {energy} energy",
                  f", the energy {energy}", f", its energy {energy}", f", energy {energy}",
                  f", and the energy sits {energy}", f", at an energy level of {energy}"]
    else:
        closes = ["", " throughout", " from the start", " all the way", " at heart", " in the main",
                  " above all", " to the end"]
    return f"{subjects[i[0]]} {predicates[i[1]]}{closes[i[2]]}"


def _lyrics(i: Slots, f: _Facts) -> str:
    words = f.get("lyrics (opening)")
    line = next((x.strip() for x in re.split(r"[\n/]|(?<=[.!?;])\s", words or "") if len(x.split()) >= 3), "")
    if not line:
        return ""
    line = clip(line.rstrip(",.;:"), 90)
    moods = list(read_mood(words).moods)[:2]
    subjects = ["The lyrics", "Its words", "The song's words", "The opening words", "The sung words",
                "The first lines", "The lines", "Its opening lines"]
    verbs = ["open with", "begin with", "start on", "set off with", "lead with", "come in with", "start from",
             "get going with"]
    if moods:
        closes = [f", and the words turn {_and(moods)}", f", and from there the words turn {_and(moods)}",
                  f", then the words turn {_and(moods)}", f", and the words grow {_and(moods)}",
                  f", and soon the words turn {_and(moods)}", f", and the mood of the words is {_and(moods)}",
                  f", and what follows reads {_and(moods)}", f", and the words stay {_and(moods)}"]
    else:
        closes = ["", " and build from there", " and go on from there", " from the first bar", " right away",
                  " at the very start", " as the first line", " before anything else"]
    return f"{subjects[i[0]]} {verbs[i[1]]} \u201c{line}\u201d{closes[i[2]]}"


def _listener(i: Slots, f: _Facts) -> str:
    comment = f.extra.get("comment") or f.get("a listener wrote")
    parts = [p for p in sentences(comment or "") if len(p.split()) >= 5] or sentences(comment or "")
    parts = sorted(parts, key=lambda s: (-_music_words(s), len(s)))
    quote = clip(parts[0].rstrip("."), 150).rstrip("\u2026").rstrip(" ,;:") if parts else ""
    quote = re.sub(r"[\"\u201c\u201d]", "'", quote)  # one level of quotation marks: the listener's
    if not quote:
        return ""
    subjects = ["One listener", "A listener", "One fan", "A fan of the track", "One of its listeners",
                "A listener in the comments", "One commenter", "A listener here"]
    verbs = ["writes of", "says of", "sums up", "describes", "comments on", "speaks of", "reflects on",
             "remarks on"]
    closes = ["", " in short", " simply", " plainly", " briefly", " in one line", " like this",
              " this way"]
    return f"{subjects[i[0]]} {verbs[i[1]]} {f.title}{closes[i[2]]}: \u201c{quote}.\u201d"


def _music_words(sentence: str) -> int:
    from retrieval.vocab import terms

    return len(terms(sentence)) - 2 * bool(re.search(r"(?i)\b(i|my|me)\b", sentence))


def _neighbours(i: Slots, f: _Facts) -> str:
    related = [re.sub(r"\s*\([^)]*\)$", "", v) for k, v in f.point.facts if k == "related track"][:3]
    if not related:
        return ""
    r = _and(related)
    subjects = [f"Fans of {r}", f"Anyone who plays {r}", f"Those who know {r}", f"Listeners who love {r}",
                f"Whoever enjoys {r}", f"People who return to {r}", f"Anyone raised on {r}",
                f"Those who queue up {r}"]
    predicates = ["will find a kindred track here", "should give it a spin", "will feel at home with it",
                  "will have good reason to listen", "will recognise the company it keeps", "ought to hear it",
                  "will want it beside them", "can start right here"]
    closes = ["", ", since the catalog places it close by", " next", " tonight", ", back to back",
              " without hesitation", " soon", " on the same playlist"]
    return f"{subjects[i[0]]} {predicates[i[1]]}{closes[i[2]]}"


def _detail(i: Slots, f: _Facts) -> str:
    length, styles = f.get("length"), [x for x in f.get("styles").split(", ") if x][:2] or [f.kind or "sound"]
    if not length:
        return ""
    st = _and(styles)
    subjects = ["It runs", "The whole thing lasts", "It takes", "From first note to last it is", "Its running time is",
                "It clocks in at", "It lasts", "Start to finish, it is"]
    predicates = [f", long enough for its {st} to settle in", f", time enough for the {st} to unfold",
                  f", with room for its {st}", f", all of it {st}", f", and every minute of it is {st}",
                  f", a compact dose of {st}", f", which suits its {st}", f", no more than its {st} needs"]
    closes = ["", ", nothing wasted", ", and not a second too long", ", well paced", ", with no filler",
              ", tightly played", ", neatly done", ", in full"]
    return f"{subjects[i[0]]} {length}{predicates[i[1]]}{closes[i[2]]}"


def _pace(i: Slots, f: _Facts) -> str:
    tempo, energy = f.get("tempo"), _level(f.get("energy"))
    match = re.match(r"(\d+) BPM \(([^)]+)\)", tempo)
    if not match or not energy:
        return ""
    bpm, word = match.groups()
    subjects = ["The pace", "Its tempo", "The pulse", "The feel underneath", "The drive of it", "The momentum",
                "Its gait", "The forward motion"]
    predicates = [f"is {word}", f"stays {word}", f"runs {word}", f"holds {word}", f"keeps {word}",
                  f"sits {word}", f"feels {word}", f"moves {word}"]
    closes = [f" at {bpm} BPM, with {energy} energy", f", about {bpm} BPM, and the energy reads {energy}",
              f" at {bpm} BPM; the energy is {energy}", f", {bpm} BPM, the energy {energy} throughout",
              f" at {bpm} BPM, energy {energy}", f", near {bpm} BPM, keeping the energy {energy}",
              f" around {bpm} BPM at {energy} energy", f" at {bpm} BPM, its energy {energy}"]
    return f"{subjects[i[0]]} {predicates[i[1]]}{closes[i[2]]}"


def _verdict(i: Slots, f: _Facts) -> str:
    kind, moods = f.kind or "music", f.moods[:2]
    m = moods[0] if moods else ""
    subjects = ["It suits", "Put it on for", "Reach for it for", "Keep it for", "Save it for", "Queue it up for",
                "It is made for", "Play it for"]
    audiences = ([f"{kind} lovers in {_a(m)} mood", f"{_a(m)} evening of {kind}", f"anyone after {m} {kind}",
                  f"the hours that want {m} {kind}", f"{m} moments and {kind} fans",
                  f"listeners who like their {kind} {m}", f"a playlist of {m} {kind}", f"{_a(m)} night in with {kind}"]
                 if m else
                 [f"{kind} lovers", f"an evening of {kind}", f"anyone after {kind}", f"the hours that want {kind}",
                  f"long evenings and {kind} fans", f"listeners who know their {kind}", f"a playlist of {kind}",
                  f"a night in with {kind}"])
    closes = ["", ", no question", ", and it delivers", ", every time", ", above all", ", first and foremost",
              ", without fail", ", most of all"]
    return f"{subjects[i[0]]} {audiences[i[1]]}{closes[i[2]]}"


# --- playlists, remarks, explanations --------------------------------------------------------------------------

def _arc(i: Slots, f: _Facts) -> str:
    first, last, n = f.get("first track"), f.get("last track"), f.get("tracks")
    if not first:
        return ""
    forms = [f"It opens with {first}" + (f" and closes with {last}" if last else ""),
             f"The {n} tracks run from {first}" + (f" to {last}" if last else ""),
             f"{first} starts it" + (f", and {last} sees it out" if last else ""),
             "Start with " + first + (f" and end on {last}" if last else "")]
    return forms[i[0] % 4]


def _blend(i: Slots, f: _Facts) -> str:
    genres, moods, years, energy = f.get("genres"), f.get("moods"), f.get("years"), f.get("energy")
    bits = []
    if genres:
        bits.append(genres.replace(", ", ", "))
    lead = f"{f.get('tracks')} tracks" + (f" of {_and(genres.split(', '))}" if genres else "")
    if years:
        lead += f" from {years}"
    if moods:
        lead += f", mostly {_and(moods.split(', ')[:2])}"
    if energy:
        lead += f", at {_level(energy)} energy"
    forms = [lead, "Here are " + lead, "Expect " + lead, "Inside: " + lead]
    return forms[i[0] % 4]


def _use(i: Slots, f: _Facts) -> str:
    use = f.get("for")
    if not use:
        return ""
    moods = f.get("moods")
    forms = [f"Made for {use}" + (f", with {_a(_and(moods.split(', ')[:2]))} feel" if moods else ""),
             f"It is meant for {use}", f"Built with {use} in mind", f"Queue it up for {use}"]
    return forms[i[0] % 4]


def _remark(i: Slots, f: _Facts) -> str:
    genres, moods = f.get("genres"), f.get("moods")
    if not genres and not moods:
        return ""
    forms = [f"These lean {_and(moods.split(', ')[:2])}" + (f", mostly {_and(genres.split(', ')[:2])}"
                                                             if genres else "") if moods
             else f"These are mostly {_and(genres.split(', ')[:2])}",
             f"A set of {_and(genres.split(', ')[:2]) or 'tracks'}" + (f" that feels {_and(moods.split(', ')[:2])}"
                                                                       if moods else "")]
    return forms[i[0] % 2]


def _explain(i: Slots, f: _Facts) -> str:
    return ""  # explanations fall back to the grounded `why` their hit already carries


BODIES: dict[str, Callable[[Slots, _Facts], str]] = {
    "identity": _identity, "sound": _sound, "described": _described, "feeling": _feeling, "lyrics": _lyrics,
    "listener": _listener, "neighbours": _neighbours, "verdict": _verdict, "detail": _detail, "pace": _pace,
    "arc": _arc, "blend": _blend, "use": _use, "remark": _remark, "explain": _explain}
