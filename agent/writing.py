"""What the model writes: reviews, playlist titles and descriptions, chat remarks and `--explain` sentences.

Every text is a content plan (`retrieval.plans`): the model writes each point from only that point's facts, one
short sentence at a time, and the claim checker (`claims.py`) keeps the sentence only if every name, number and
music term in it is supported by those facts. A point whose sentence fails gets a grounded sentence built from
the same facts (`templates.py`). The first sentence streams as soon as it is checked.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from retrieval import Hit, Request, Track
from retrieval.claims import ClaimChecker, Verdict
from retrieval.lexicon import load
from retrieval.plans import (
    MAX_TOKENS,
    Point,
    blend_facts,
    common,
    does_its_point,
    ended_sentences,
    explain_point,
    playlist_plan,
    remark_point,
    review_plan,
    rich,
    title_line,
    title_ok,
    title_point,
)
from retrieval.query import ArtistMatcher, read_request
from retrieval.text import phrase_key
from retrieval.vocab import common_words

from .templates import grounded
from .verify import Verifier

OnText = Callable[[str], None]
REVIEW_WORDS = {True: (120, 250), False: (60, 150)}  # with a description, comments or lyrics / metadata only
REVIEW_SENTENCES = (5, 14)


@dataclass
class Line:
    kind: str
    text: str
    source: str  # "model" | "template"
    point: Point | None = field(default=None, repr=False)


@dataclass
class Written:
    """A finished text with its account: which lines the model wrote, and every raw model sentence judged."""

    text: str
    lines: list[Line] = field(default_factory=list)
    judged: list[tuple[str, str, Verdict]] = field(default_factory=list)  # (kind, raw sentence, verdict)
    first_model_s: float | None = None  # seconds from the start to the first model-written sentence shown
    seconds: float = 0.0


# --- realising points ------------------------------------------------------------------------------------------

def ask(chat: BaseChatModel, point: Point, count: int = 1) -> list[str]:
    """The model's first `count` sentences for a point (generation stops once they end)."""
    text = ""
    try:
        for chunk in chat.stream(_messages(point), max_tokens=MAX_TOKENS * count):
            text += str(chunk.content)
            if len(ended_sentences(text, final=False)) >= count:
                break
    except ValueError as error:  # LangChain's "No generation chunks": the model ended at once, said nothing
        if "no generation chunks" not in str(error).casefold():
            raise
    done = ended_sentences(text)  # the last sentence counts once the stream has ended on its full stop
    return done[:count]  # a sentence cut off by the token limit is never shown, nor checked


def _messages(point: Point) -> list:
    return [SystemMessage(m["content"]) if m["role"] == "system" else HumanMessage(m["content"])
            for m in point.messages()]


class Writer:
    """Realises plans with one model (or none) under one checker."""

    def __init__(self, chat: BaseChatModel | None, checker: ClaimChecker, tries: int | None = None):
        """`tries`: samples asked per point until one passes (default two: a server batches them with the other
        points', the in-process model writes every point's in one batch, so a second costs little time)."""
        self.chat = chat
        self.checker = checker
        self.tries = tries if tries is not None else (1 if chat is None else 2)

    def lines(self, plan: list[Point], track: Track | None, tracks: list[Track], carried: str = "",
              on_text: OnText | None = None, key: str | None = None,
              extra_check: Callable[[Point, str], bool] | None = None,
              grounded_kinds: frozenset[str] = frozenset()) -> Written:
        """Each point's sentence: the model's first that passes the checker, else a grounded one; points of
        `grounded_kinds` are written from their facts without asking the model."""
        start = time.perf_counter()
        written = Written("")

        def judged(point: Point, samples: Iterator[list[str]]) -> list[tuple[str, Verdict]]:
            out: list[tuple[str, Verdict]] = []
            for sentences in samples:
                for sentence in sentences:
                    out.append((sentence, self._judge(sentence, point, carried, tracks, extra_check)))
                if out and out[-1][1].ok:
                    break
            return out

        asked = [p if p.kind not in grounded_kinds else None for p in plan]
        each, rows = self._each(asked, judged)
        try:
            for point, tried in zip(plan, each, strict=True):
                line = None
                for sentence, verdict in tried():
                    written.judged.append((point.kind, sentence, verdict))
                    if verdict.ok:
                        line = Line(point.kind, sentence, "model", point)
                        if written.first_model_s is None:
                            written.first_model_s = time.perf_counter() - start
                if line is None:
                    text = grounded(point, track, key)
                    line = Line(point.kind, text, "template", point) if text else None
                if line is not None:
                    written.lines.append(line)
                    if on_text:
                        on_text(line.text)
        finally:  # the rows nobody read (a second sample after a first that passed) stop generating
            for row in rows:
                row.cancel()
        written.seconds = time.perf_counter() - start
        return written

    def _judge(self, sentence: str, point: Point, carried: str, tracks: list[Track],
               extra_check: Callable[[Point, str], bool] | None) -> Verdict:
        verdict = self.checker.judge(sentence, point, carried, tracks)
        if verdict.ok and not verdict.says_something:  # true, but it says nothing a reader can use
            verdict = Verdict(False, "empty", "")
        if verdict.ok and extra_check and not extra_check(point, sentence):
            verdict = Verdict(False, "plan", "does not do what its point asks")
        return verdict

    def _each(self, plan: list[Point | None], judged: Callable[[Point, Iterator[list[str]]], list]
              ) -> tuple[list[Callable[[], list]], list[Future]]:
        """Each point's judged tries, to be read in order (None: a point not asked). The in-process model writes
        the first point's tries in a small batch (shown sooner) and every other point's in a second, and a point's
        sentences are read as soon as its rows end; a server
        gets all the points at once, in threads, and batches them itself."""
        if self.chat is None:
            return [list for _ in plan], []
        asked = [p for p in plan if p is not None]
        if _in_process(self.chat) and asked:
            futures = self.chat.batch([_messages(p) for p in asked for _ in range(self.tries)],
                                      lambda text: bool(ended_sentences(text, final=False)), MAX_TOKENS,
                                      head=self.tries if len(asked) > 1 else 0)
            flow = iter(futures)
            rows = {id(p): [next(flow) for _ in range(self.tries)] for p in asked}
            return [list if p is None else
                    (lambda p=p: judged(p, (ended_sentences(f.result())[:1] for f in rows[id(p)]))) for p in plan
                    ], futures

        def tries(point: Point | None) -> list:
            return [] if point is None else judged(point, (ask(self.chat, point) for _ in range(self.tries)))

        if len(plan) == 1:
            return [lambda p=p: tries(p) for p in plan], []
        pool = ThreadPoolExecutor(max_workers=min(8, len(plan)))
        futures = [pool.submit(tries, p) for p in plan]
        pool.shutdown(wait=False)
        return [f.result for f in futures], futures


def _in_process(chat: BaseChatModel) -> bool:
    from .engines import LocalChatModel

    return isinstance(chat, LocalChatModel)


# --- reviews -----------------------------------------------------------------------------------------------------

def review_written(chat: BaseChatModel | None, track: Track, comments: list[str],
                   artists: ArtistMatcher | None = None, related: list[Track] = (),
                   on_text: OnText | None = None) -> Written:
    plan = review_plan(track, comments, related)
    carried = " ".join([track.lyrics or "", track.description or "", *comments, *track.comments])
    writer = Writer(chat, ClaimChecker(artists))
    # the in-process model seldom gets the opening facts right (7% of its identity sentences pass) and each try
    # costs seconds before anything shows, so the first sentence comes from the facts at once
    opening = frozenset({"identity"}) if chat is not None and _in_process(chat) else frozenset()
    written = writer.lines(plan, track, [track, *related], carried, on_text, track.id, does_its_point, opening)
    every = list(written.lines)
    lines = _unique_lines(every)
    low, high = REVIEW_WORDS[rich(track, comments)]
    lines = _fit(lines, high)
    written.lines = lines
    written.text = " ".join(line.text for line in lines)
    if _count(lines) < low:  # the model wrote short: each point keeps the longer of its two sentences (the
        # grounded sentences alone always meet the length rule, so this does too)
        lines = [max((x, Line(x.kind, grounded(x.point, track, track.id), "template", x.point)),
                     key=lambda y: len(y.text.split())) if x.source == "model" and x.point is not None else x
                 for x in every]
        written.lines = _fit(_unique_lines(lines), high)
        written.text = " ".join(line.text for line in written.lines)
    return written


DROP_FIRST = ("listener", "described", "lyrics", "neighbours", "feeling")


def _fit(lines: list[Line], high: int) -> list[Line]:
    """Within the word limit: the optional points go first, the later of a kind before the earlier."""
    lines = list(lines)
    for kind in DROP_FIRST:
        while _count(lines) > high and sum(1 for x in lines if x.kind == kind):
            index = max(i for i, x in enumerate(lines) if x.kind == kind)
            lines.pop(index)
    while _count(lines) > high and len(lines) > REVIEW_SENTENCES[0]:
        lines.pop(-2)
    return lines[:REVIEW_SENTENCES[1]]


def _after(lines: list[Line], kind: str) -> int:
    last = [i for i, x in enumerate(lines) if x.kind == kind]
    return (last[-1] + 1) if last else len(lines)


def _count(lines: list[Line]) -> int:
    return sum(len(x.text.split()) for x in lines)


def _unique_lines(lines: list[Line]) -> list[Line]:
    kept: list[tuple[set[str], Line]] = []
    for line in lines:
        words = set(re.findall(r"\w+", line.text.casefold()))
        if words and all(len(words & w) / len(words | w) < 0.6 for w, _ in kept):
            kept.append((words, line))
    return [line for _, line in kept]


# --- playlists -------------------------------------------------------------------------------------------------

_WORDS = load("writing")
NEGATIONS = frozenset(_WORDS["negations"])  # the words of a refusal, never refused themselves
FILLER = frozenset(_WORDS["filler"])
VOCAL_WORDS = frozenset(_WORDS["vocal_words"])  # what "no vocals" refuses a title or description to say


Asked = str | Request  # a request: its words, or the words as the turn already read them (parsed once)


def reading_of(request: Asked, artists: ArtistMatcher | None = None) -> Request:
    """The request parsed: as given when the turn has read it already, else read now (with the catalog's
    `artists`, as the search reads it)."""
    return request if isinstance(request, Request) else read_request(request, artists)


def refused(request: Asked, artists: ArtistMatcher | None = None) -> tuple[str, ...]:
    """What a request refuses, as the words a title or description must not say: excluded genres, styles,
    moods and artists (their values and the listener's words), and vocals when it asks for none. `artists`, the
    catalog's matcher, reads artist names as the search does ("no addele" refuses Adele)."""
    reading = reading_of(request, artists)
    c = reading.constraints
    out: list[str] = []
    for term in c.terms:
        if term.polarity == "exclude":
            out.append(term.value)
            out += [w for w in re.findall(r"[\w&'-]+", term.words.casefold()) if w not in NEGATIONS | FILLER]
    if c.vocals == "instrumental":
        out += sorted(VOCAL_WORDS)
    return tuple(dict.fromkeys(w for w in out if len(w) > 1))


def playlist(chat: BaseChatModel | None, request: Asked, hits: list[Hit], verifier: Verifier) -> tuple[str, str]:
    """(title, description): a title of at most six words that respects what the request refuses, and two to
    four checked sentences on the arc, the blend and the use."""
    written = playlist_written(chat, request, hits, verifier.catalog_artists)
    return written[0], written[1].text


def playlist_written(chat: BaseChatModel | None, request: Asked, hits: list[Hit],
                     artists: ArtistMatcher | None = None) -> tuple[str, Written, list[tuple[str, bool]]]:
    """(title, description, the model's raw titles with whether each was kept)."""
    tracks = [h.track for h in hits]
    if not tracks:
        return "Empty Playlist", Written("This playlist is empty: nothing in the catalog matched."), []
    request = reading_of(request, artists)
    no = refused(request, artists)
    use = use_words(request, artists)
    raw_titles: list[tuple[str, bool]] = []
    title = ""
    if chat is not None:
        raw = title_line(ask_title(chat, title_point(use, tracks)))
        ok = title_ok(raw, no, tracks, artists)
        raw_titles.append((raw, ok))
        title = raw if ok else ""
    title = title or fallback_title(request, tracks, artists)
    checker = ClaimChecker(artists, refused=no)
    plan = playlist_plan(use, tracks)
    written = Writer(chat, checker).lines(plan, None, tracks, key=request.text)
    written.lines = _unique_lines(written.lines)[:4]
    written.text = " ".join(x.text for x in written.lines)
    return title, written, raw_titles


def use_words(request: Asked, artists: ArtistMatcher | None = None) -> str:
    """What the playlist is for, in at most four of the listener's words, less what it refuses: "road trip, no
    country" -> "road trip", "songs for a late night drive, nothing too sad" -> "late night drive". A long
    request ("I'm addicted to ... what else would I like?") names no use, and gives "": a title or description
    never quotes it back."""
    reading = reading_of(request, artists)
    request = reading.text
    no = set(refused(reading, artists))
    plain = ASIDES.sub(" , ", request)  # quoted titles and asides are never a use
    candidates = [SUBJECT.sub("", m.group(1)) for m in USE_CUE.finditer(plain)]
    core = reading.core if reading.core is not None else request
    if len(core.split()) <= 6 and not re.search(r"[\"\u201c\u201d?]", core):
        candidates.append(core)
    candidates += [p for p in reading.mood.phrases if len(p.split()) >= 1][-1:]
    for candidate in candidates:
        words = []
        for word in re.findall(r"[\w'&-]+|[,.;:!?/()]", candidate):
            if not re.match(r"[\w'&-]", word) or word.casefold() in CUT_WORDS:
                break
            words.append(word)
        words = [w for w in words if w.casefold() not in INNER_FILLER and w.casefold() not in no]
        while words and words[-1].casefold() in (FILLER - {"on"}) | {"but", "and", "or", "with", "without"}:
            words.pop()
        while words and words[0].casefold() in FILLER - {"late"}:
            words.pop(0)
        if not 1 <= len(words) <= 4 or any(_name_like(w, request) or re.search(r"\d", w) for w in words):
            continue
        return " ".join(w.casefold() for w in words)
    return ""


QUOTE_MARKS = "\"\u201c\u201d\u00ab\u00bb"
ASIDES = re.compile(rf"[{QUOTE_MARKS}][^{QUOTE_MARKS}]*[{QUOTE_MARKS}]|\([^)]*\)|\[[^\]]*\]")
INNER_FILLER = frozenset(_WORDS["inner_filler"])
USE_CUE = re.compile(r"\b(?:for|while|during|when)\b(?:\s+(?:when|while))?[:\s]+([^,.;!?/()]{3,60})", re.IGNORECASE)
SUBJECT = re.compile(r"^\s*(?:i am|i'm|im|we are|we're|i|we|you are|you're)\s+", re.IGNORECASE)
CUT_WORDS = frozenset(_WORDS["cut_words"])  # a use ends where one of these starts


def _name_like(word: str, request: str) -> bool:
    """A word the request writes with a capital mid-sentence and that is no ordinary word: likely a name."""
    if word.casefold() in common_words() or word.isupper() and len(word) <= 3:
        return False
    return bool(re.search(rf"(?<=[\w,;:'\"] )\b{re.escape(word[:1].upper() + word[1:])}\b", request)) or \
        word.casefold() not in common_words() and word[:1].isupper()


def ask_title(chat: BaseChatModel, point: Point) -> str:
    messages = [SystemMessage(m["content"]) if m["role"] == "system" else HumanMessage(m["content"])
                for m in point.messages()]
    return str(chat.invoke(messages, max_tokens=16).content)


DECADE_NAMES = {1920: "Twenties", 1930: "Thirties", 1940: "Forties", 1950: "Fifties", 1960: "Sixties",
                1970: "Seventies", 1980: "Eighties", 1990: "Nineties"}  # a title has no digits


def fallback_title(request: Asked, tracks: list[Track], artists: ArtistMatcher | None = None) -> str:
    """A title from what the request asks for (never what it refuses), with what sets the list apart."""
    reading = reading_of(request, artists)
    no = refused(reading, artists)
    use = [w for w in use_words(reading, artists).split() if w.casefold() not in FILLER][:4]
    if artists and artists.named_in_prose(" ".join(_cap(w) for w in use), common_words()):
        use = []  # "drake vibes": a title names no artist outside the list, so the mood and genre lead
    qualifier, era = "", ""
    if reading.constraints.vocals == "instrumental":
        qualifier = "Instrumentals"
    if reading.constraints.era and reading.constraints.era.low and reading.constraints.era.high and \
            reading.constraints.era.high - reading.constraints.era.low == 9:
        era = DECADE_NAMES.get(reading.constraints.era.low, "")
    refused_keys = {k for r in no for k in phrase_key(r).split()}

    def allowed(value: str) -> bool:
        return bool(value) and not set(phrase_key(value).split()) & refused_keys and \
            phrase_key(value) not in phrase_key(" ".join(use))

    asked = [t for t in reading.constraints.terms if t.polarity == "include"]
    named = any(phrase_key(t.value) in phrase_key(" ".join(use)) for t in asked if t.field == "genre")
    if not qualifier and not named:  # the genre the request names, else the list's own
        genres = [t.value for t in asked if t.field == "genre"] + common([t.genre for t in tracks if t.genre])
        qualifier = next((g for g in genres if allowed(g)), "")
    mood = ""
    if not use:  # no use named: what the list feels like leads ("Calm Ambient Mix")
        moods = [t.value for t in asked if t.field == "mood"] + common([m for t in tracks for m in t.moods[:2]])
        mood = next((m for m in moods if allowed(m) and " " not in m), "")
    words = [_cap(w) for w in [era, mood, *use] if w] + ([_cap(w) for w in qualifier.split()] if qualifier else [])
    if not words:
        words = ["Encore", "Mix"]
    if len(words) == 1 or not use and "Instrumentals" not in words:
        words.append("Mix")
    title = " ".join(words[:6])
    return title if title_ok(title, no, tracks, artists) else "Encore Mix"


def _cap(word: str) -> str:
    return "-".join(p[:1].upper() + p[1:] for p in word.split("-")) if not word.isupper() else word


# --- remarks and explanations ------------------------------------------------------------------------------------

def remark(chat: BaseChatModel | None, message: Asked, hits: list[Hit], notes: list[str], verifier: Verifier,
           on_text: OnText | None = None, dropped: list[str] | None = None) -> str:
    """The model's one sentence on the picks as a whole, checked (it may name none of them); empty when the
    model has none that passes, or there is no model: the list and its grounded intro stand alone."""
    if chat is None or not hits:
        return ""
    reading = reading_of(message, verifier.catalog_artists)
    point = remark_point(reading.text, [h.track for h in hits])
    checker = ClaimChecker(verifier.catalog_artists, refused=refused(reading, verifier.catalog_artists))
    for sentence in ask(chat, point, count=2):  # the first of two that passes
        verdict = checker.judge(sentence, point, tracks=[h.track for h in hits])
        if verdict.says_something and verifier.sentence_ok(sentence):
            if on_text:
                on_text(sentence)
            return sentence
        if dropped is not None:
            dropped.append(sentence)
    return ""


def explained(chat: BaseChatModel, request: str, hits: list[Hit], artists: ArtistMatcher | None = None,
              judged: list | None = None, tries: int = 2) -> list[Hit]:
    """The same hits, each `why` rewritten by the model when one of its first `tries` sentences passes the checker
    (`why_by` "model"), else the grounded `why` stays (`why_by` "facts")."""
    checker = ClaimChecker(artists, refused=refused(request, artists))
    writer = Writer(chat, checker, tries)
    out = []
    for hit in hits:
        point = explain_point(request, hit.track)
        written = writer.lines([point], hit.track, [hit.track])
        if judged is not None:
            judged += written.judged
        model = [x.text for x in written.lines if x.source == "model"]
        out.append(replace(hit, why=model[0], why_by="model") if model else replace(hit, why_by="facts"))
    return out


def grounded_intro(hits: list[Hit], notes: list[str]) -> str:
    """The opening line, from the picks' own tags: shown at once, before any model text."""
    facts = dict(blend_facts([h.track for h in hits]))
    head = f"Here are {len(hits)} pick{'s' if len(hits) != 1 else ''}"
    if notes:
        head += f" ({'; '.join(notes)})"
    moods = " and ".join(facts.get("moods", "").split(", ")[:2])
    kinds = [k for k in (moods, facts.get("genres", "")) if k]
    return head + (f": mostly {' '.join(kinds)}" if kinds else "") + "."


def pick_lines(hits: list[Hit]) -> str:
    lines = []
    for i, hit in enumerate(hits, 1):
        t = hit.track
        bits = [x for x in (t.genre, str(t.year) if t.year else None, ", ".join(t.moods[:3])) if x]
        lines.append(f"{i}. \"{t.title}\" by {t.artist or 'unknown artist'} ({'; '.join(bits)})")
    return "\n".join(lines)
