"""Understanding one chat turn without the LLM: what the person wants (intent) and how the turn relates to the
list on screen. Every constraint (genres, styles, artists, moods, eras, vocals, counts, references such as "#2",
moves such as "faster" or "happier", refusals with their scope) comes from the one parser, `retrieval.parse`,
through `read_request`; this module adds what only a conversation has: thumbs up/down by position, titles named
from the catalog, "more like that", resets, greetings, and style words outside the parser's vocabulary ("no more
remixes"). Rules and the packaged lexicon always work, whatever the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from retrieval import Request, read_request
from retrieval.lexicon import load
from retrieval.parse_words import MOVES
from retrieval.query import ArtistMatcher, read_content
from retrieval.text import phrase_key

MAX_CHARS = 2000  # longer messages are read from their start; the embedder sees 256 tokens anyway
_CHAT = load("chat")
ORDINALS = {word: n for word, n in load("request")["ordinals"].items() if n > 0}  # "the second one", "3rd"
EMOJI_WORDS: dict[str, str] = _CHAT["emoji_words"]  # "😢" is "sad"
# the parser's moves of energy: "faster" and "calmer" change the list on screen, they say nothing of what to play
FASTER = tuple(phrase for phrase, (field, way) in MOVES.items() if field == "energy" and way > 0)
SLOWER = tuple(phrase for phrase, (field, way) in MOVES.items() if field == "energy" and way < 0)
LIKE_WORDS = r"(?:like|love|liked|loved|enjoy|enjoyed|dig|great|perfect|nice|good|keep)"
DISLIKE_WORDS = r"(?:dislike|hate|hated|skip|remove|drop|not|don't like|do not like|didn't like|bad|meh|boring)"
GREETINGS = frozenset(_CHAT["greetings"])
# "only the rock ones", "just the 90s": a message narrowing the list on screen, not a new request
NARROWING = re.compile(r"^\W*(?:(?:ok(?:ay)?|now|then|and|but|hmm+|so)\W+)?(?:" + "|".join(
    re.escape(cue) for cue in sorted(_CHAT["narrowing_cues"], key=len, reverse=True)) + r")\b")
RESET = re.compile(r"^\s*(?:let's\s+|please\s+)?(?:start (?:over|again|fresh|from scratch)|forget (?:that|it|all that|"
                   r"everything|what i said)|reset|clear (?:it|that|everything|all)|new conversation|从头开始|重新开始|"
                   r"忘了吧|重来)\b")
POINTING = re.compile(r"\b(?:more\s+(?:songs?\s+|tracks?\s+|stuff\s+)?like|similar\s+to|along the lines of|"
                      r"in the same vein as)\s+(?:(that|this|it|that one|this one)|(these|those|them|these ones|"
                      r"those ones))\b|更多(?:类似|像)?(这首|这些)")
# the listener's own listening, as what they ask for: "something like what I usually play", "my usual", "based on
# my history"; not when set against it ("not my usual", "different from what I play")
HABIT = re.compile(
    r"(?<!not )(?<!unlike )(?<!different from )(?<!other than )(?<!outside )(?<!instead of )"
    r"\b(?:(?:more\s+)?(?:(?:music|songs?|stuff|tracks?|things?)\s+)?(?:like|similar to|close to|in line with)\s+"
    r"(?:what|the (?:stuff|music|songs?|things?))\s+i(?:'ve| have)?\s+(?:usually |normally |often |always |really |"
    r"mostly |tend to |been )*(?:play(?:ed|ing)?|listen(?:ed|ing)? to|like|love|enjoy|dig|stream(?:ed)?)|"
    r"(?:music|songs?|stuff|tracks?) i (?:usually |normally |often |always |really |mostly |tend to )*(?:play|"
    r"listen to|like|love|enjoy|dig|stream)|"
    r"(?:based on|from|matching|that fits?|that suits?|for) my (?:listening(?: history)?|history|taste|plays|"
    r"scrobbles|profile|usual(?: stuff)?)|"
    r"my (?:usual(?: stuff| music| kind of music)?|kind of music|type of music|regular stuff|go-to (?:music|stuff)|"
    r"taste in music|taste)|"
    r"the usual|something (?:i'd|i would|i will|i'll) (?:like|love|enjoy)|what i(?:'ve| have) been (?:playing|"
    r"listening to))\b", re.I)
HELP = re.compile(r"^\s*(help|\?|what can you do|how does this work)\s*\??\s*$", re.I)


@dataclass
class Turn:
    """What one message asks for. Positions (`refs`, `liked`, `disliked`) are 1-based into the last list shown."""

    text: str
    intent: str = "recommend"  # recommend | refine | playlist | review | explain | feedback | greeting | help |
    #                            empty | reset
    request: Request | None = None
    refs: tuple[int, ...] = ()
    liked: tuple[int, ...] = ()
    disliked: tuple[int, ...] = ()
    seed_titles: tuple[str, ...] = ()  # track ids named by title ("more like Hallelujah")
    like_artists: tuple[str, ...] = ()  # casefolded: "something like Bon Iver"
    exclude_artists: tuple[str, ...] = ()  # casefolded: "I don't like Coldplay"
    block_words: tuple[str, ...] = ()  # "no more ballads" -> ("ballad",)
    energy_shift: float = 0.0
    year_min: int | None = None
    year_max: int | None = None
    n: int | None = None
    has_content: bool = False  # says what to play (mood, genre, artist, title, own words), not only how to change it
    new_topic: bool = False  # enough of its own to replace the current request
    refusing: bool = False  # states an exclusion, vocals or a move ("keep metal out of it", "no singing", "older")
    narrows: bool = False  # only tightens the list on screen ("only before 1995", "just rock", "no metal"): what of
    #                        it still fits stays
    pointing: str | None = None  # "more like that" (one: the track just liked) / "more like these" (all)
    habitual: bool = False  # points at the listener's own listening ("like what I usually play")


class TitleMatcher:
    """Finds catalog titles a message names: quoted anywhere, or after "like"/"review"/"similar to"."""

    CONTEXT = re.compile(r"(?:like|similar to|review(?: of)?|about|as|than|pick|picked|choose|chose)\s+(.+)$", re.I)

    def __init__(self, titles: dict[str, list[str]]):
        self.titles = titles  # phrase_key(title) -> track ids

    def find(self, text: str) -> tuple[str, ...]:
        spans = re.findall(r"[\"“”‘’']([^\"“”‘’']{2,80})[\"“”‘’']", text)
        for m in self.CONTEXT.finditer(text):
            tail = re.split(r"\s+(?:but|and|with|by|from|only|except)\s+|[,.!?;]", m.group(1))[0]
            words = tail.split()
            spans += [" ".join(words[:n]) for n in range(min(len(words), 8), 0, -1)]
        found: list[str] = []
        for span in spans:
            key = phrase_key(span)
            if key in self.titles and (len(key) > 3 or span[:1].isupper()):
                found += [i for i in self.titles[key] if i not in found]
                if found:
                    break
        return tuple(found[:3])


def read_turn(text: str, artists: ArtistMatcher | None = None, titles: TitleMatcher | None = None,
              shown: int = 0, reader: Callable[[str], Request] | None = None) -> Turn:
    """Understand `text`; `shown` is how many tracks the last answer listed (for "#2", "the last one");
    `reader` parses the message (the agent's, which keeps the reading for the rest of the turn)."""
    raw = (text or "").strip()[:MAX_CHARS]
    turn = Turn(text=raw)
    if not raw:
        turn.intent = "empty"
        return turn
    plain = _emoji_words(raw)
    if HABIT.search(plain):  # the history is what they ask for: its words are not words to search for
        turn.habitual = True
        plain = " ".join(HABIT.sub(" ", plain).split()) or "more"
    lowered = plain.casefold()
    turn.request = reader(plain) if reader else read_request(plain, artists)
    stated = turn.request.constraints
    turn.refs = tuple(dict.fromkeys(shown if p == -1 else p for p in stated.refs
                                    if p == -1 and shown or 1 <= p <= max(shown, 1) or not shown and p > 0))
    turn.liked, turn.disliked = _feedback(raw, lowered, shown)
    turn.exclude_artists = tuple(dict.fromkeys(stated.excluded("artist")))
    turn.like_artists = tuple(a for a in stated.similar_artists if a not in turn.exclude_artists)
    if turn.exclude_artists:
        turn.request = _without_artists(turn.request, turn.exclude_artists)
    turn.seed_titles = titles.find(plain) if titles else ()
    turn.block_words = _blocked(turn.request)
    energy = [m.direction for m in stated.moves if m.field == "energy"]
    turn.energy_shift = 0.2 * energy[-1] if energy else 0.0
    turn.year_min, turn.year_max = turn.request.year_min, turn.request.year_max
    turn.n = max(3, min(stated.count, 25)) if stated.count else None
    if m := POINTING.search(lowered):
        turn.pointing = "all" if m.group(2) or m.group(3) == "这些" else "one"
    turn.refusing = bool(stated.excluded_eras or stated.vocals or stated.moves
                         or any(t.polarity == "exclude" for t in stated.terms))
    left = turn.request.core if turn.request.core is not None else plain  # once every constraint is taken out
    core = read_content(_strip_modifiers(left), artists)  # the lexicons over the rest: the message is parsed once
    turn.has_content = bool(core.mood.moods or core.genres or core.artists or core.instrumental
                            or _content_words(core.text) or turn.seed_titles or turn.like_artists)
    turn.new_topic = bool(core.mood.moods or core.genres or core.artists or turn.seed_titles or turn.like_artists
                          or len(_content_words(core.text)) >= 2)
    styles = [t for t in stated.terms if t.polarity == "include" and t.field in ("genre", "style")]
    rest = NARROWING.sub(" ", core.text.casefold())
    for term in styles:
        rest = re.sub(rf"(?<!\w){re.escape(term.words.casefold())}(?!\w)", " ", rest)
    style_words = {term.words.casefold() for term in styles}
    moods_of_their_own = [p for p in core.mood.phrases if p.casefold() not in style_words]  # "dance" is its genre
    only_styles = not (moods_of_their_own or core.artists or turn.seed_titles or turn.like_artists or turn.habitual
                       or _content_words(rest))
    cued = bool(shown and NARROWING.match(lowered) and only_styles and (styles or turn.year_min or turn.year_max))
    if cued:  # "just rock" after a list: the rock of that list, not a new request for rock
        turn.new_topic, turn.has_content = False, bool(styles)
    turn.intent = _intent(turn, lowered, cued)
    turn.narrows = turn.intent == "refine" and (cued or not turn.has_content) and not (
        stated.moves or turn.refs or turn.pointing or turn.energy_shift or turn.seed_titles or turn.like_artists
        or turn.habitual)
    return turn


def _strip_modifiers(text: str) -> str:
    """The message without its refinements (faster, eras, exclusions, references), to see what is left."""
    out = text
    for phrase in sorted(FASTER + SLOWER, key=len, reverse=True):
        out = re.sub(rf"(?<!\w){re.escape(phrase)}(?!\w)", " ", out, flags=re.I)
    out = re.sub(r"\b(?:only|just)?\s*(?:before|after|since|until|pre-?|post-?|from|older than|newer than)\s*"
                 r"(?:19|20)\d\d\b", " ", out, flags=re.I)
    out = re.sub(r"(?:#|\bno\.?\s*|\bnumber\s+|\btrack\s+|\bsong\s+)\d{1,2}\b|[👍👎]|(?<![\w-])[+-]\s*\d{1,2}\b", " ",
                 out, flags=re.I)
    out = re.sub(r"\b(?:the\s+)?(?:" + "|".join(ORDINALS) + r"|last)\b(?:\s+(?:one|song|track|pick))?", " ", out,
                 flags=re.I)
    return " ".join(out.split())


def _intent(turn: Turn, lowered: str, narrowing: bool = False) -> str:
    words = re.sub(r"[^\w\s']", " ", lowered).split()
    if HELP.match(lowered):
        return "help"
    if re.search(r"\b(review|write (?:a |me )?(?:review|critique))\b|评论|乐评", lowered):
        return "review"
    if re.match(r"\s*(why\b|explain\b|how come\b|what made you)", lowered) or "为什么" in lowered:
        return "explain"
    if re.search(r"\bplaylist\b|\bmake (?:this|it|that) (?:a|into a) (?:list|mix)\b|歌单", lowered):
        return "playlist"
    if RESET.match(lowered):
        return "reset"
    modifiers = bool(turn.energy_shift or turn.block_words or turn.exclude_artists or turn.year_min or turn.year_max
                     or turn.refusing or turn.pointing or narrowing
                     or (turn.refs and re.search(r"\b(more|like|similar)\b", lowered)))
    if (turn.liked or turn.disliked) and not turn.new_topic:
        return "feedback"
    if " ".join(w.strip("'") for w in words) in GREETINGS | {""}:
        return "greeting"
    if modifiers and not turn.new_topic:
        return "refine"
    return "recommend"


STOP = frozenset(_CHAT["stop"])  # words that say nothing about what to play


def _content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[^\W\d_]{3,}", text.casefold()) if w not in STOP and w not in _MODIFIER_WORDS]


_SAY_NOTHING = frozenset(_CHAT["not_styles"])  # "not too similar or different" keeps nothing out
BLOCK_CUES = frozenset(_CHAT["block_cues"])  # the refusals that keep a style word out: "no", "without", "skip"
_ENERGY_WORDS = {w for phrase in FASTER + SLOWER for w in phrase.split()} - {"more", "less"}
_MODIFIER_WORDS = _ENERGY_WORDS | frozenset(_CHAT["modifier_words"])  # the words of refinements and feedback


def _emoji_words(text: str) -> str:
    extra = [word for emoji, word in EMOJI_WORDS.items() if emoji in text]
    return f"{text} {' '.join(dict.fromkeys(extra))}" if extra else text


def _feedback(raw: str, lowered: str, shown: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Thumbs up/down: "👍 2", "+2", "-3", "👎 #3", "I love the second one", "hate #4", "not #5"."""
    liked: list[int] = []
    disliked: list[int] = []
    ref = r"(?:#|number\s+|track\s+|song\s+)?(\d{1,2}|" + "|".join(ORDINALS) + r")(?:\s+one)?"
    for m in re.finditer(r"(👍|\+)\s*" + ref, raw):
        liked.append(_position(m.group(2)))
    for m in re.finditer(r"(👎|(?<![\w-])-)\s*" + ref, raw):
        disliked.append(_position(m.group(2)))
    for m in re.finditer(rf"\b{DISLIKE_WORDS}\s+(?:the\s+)?{ref}", lowered):
        disliked.append(_position(m.group(1)))
    for m in re.finditer(rf"\b{LIKE_WORDS}\s+(?:the\s+)?{ref}", lowered):
        position = _position(m.group(1))
        if position not in disliked and not re.search(r"(?:more|something|songs?|tracks?)\s+like\s*$",
                                                      lowered[:m.start() + 5]):
            liked.append(position)
    valid = range(1, (shown or 10) + 1)
    return (tuple(dict.fromkeys(p for p in liked if p in valid and p not in disliked)),
            tuple(dict.fromkeys(p for p in disliked if p in valid)))


def _position(word: str) -> int:
    return int(word) if word.isdigit() else ORDINALS.get(word, 0)


def _without_artists(request: Request, excluded: tuple[str, ...]) -> Request:
    from dataclasses import replace

    return replace(request, artists=tuple(a for a in request.artists if a not in excluded))


def _blocked(request: Request) -> tuple[str, ...]:
    """Words to keep out that no lexicon knows, as the parser read their refusal ("no more remixes" -> "remix"),
    after the chat's own cues for a style word (not "don't know"); what a lexicon knows is a constraint already."""
    found = []
    for cue, phrase in request.open_refusals:
        words = phrase.split()
        while words and words[-1] in STOP | _SAY_NOTHING:  # "no disney songs": disney
            words.pop()
        if (cue not in BLOCK_CUES or not 0 < len(words) <= 2 or words[0] in STOP | _SAY_NOTHING
                or any(w in _ENERGY_WORDS for w in words)):
            continue
        found.append(" ".join([*words[:-1], _singular(words[-1])]))
    return tuple(dict.fromkeys(found))


def _singular(word: str) -> str:
    if re.search(r"(?:x|ch|sh|ss)es$", word):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


