"""Instruction pairs: what the agent will ask, and what a person wrote. The served tasks are built from
`retrieval.plans` points, so a pair's [system, user] messages are exactly what the agent sends for that point, and
its answer is one sentence a person wrote from (at most) the point's facts:

- a MusicCaps caption sentence, with the clip's aspects that the sentence mentions as a "sound" point;
- a sentence of a demo comment or review that speaks of the music, with the point of the track's review plan
  whose facts it overlaps most (identity, sound, described, feeling, pace, detail, verdict, ...); first-person
  sentences are skipped (a review is not about its writer).

A training pair is kept only when the product's own claim checker (`retrieval.claims`) would keep its answer for
its point, and the answer does what the point asks (`retrieval.plans.does_its_point`): the adapter learns to
write what the agent shows, not what it throws away. Held-out caption pairs are all kept: they measure, they do
not teach.

Two free tasks keep the corpus's voice: write lyrics, and speak as a music-savvy friend (no facts, no system
prompt; `corpus.build` caps their share).

    from finetune.pairs import caption_examples
    caption_examples("A mellow piano ballad. Soft strings.", {"ytid": "x", "aspect_list": "['piano']"}, set())
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from retrieval.claims import ClaimChecker
from retrieval.plans import Point, caption_point, does_its_point, review_plan, title_ok
from retrieval.records import Track
from retrieval.vocab import terms

from .text import key, language, sentences, split_of

HELDOUT = Path(__file__).parent / "data" / "musiccaps_heldout.txt"
FREE_TASKS = ("lyrics", "friend")
MIN_SENTENCE_CHARS = 20
MAX_SENTENCE_WORDS = 36  # about 48 tokens: what the agent lets a point's sentence run to
FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|me|my|mine|myself|we|we're|us|our|ours)\b", re.I)
QUOTED = re.compile(r"\"[^\"]*\"|\u201c[^\u201d]*\u201d")
FRIEND = "As a music-savvy friend, share what you think of a song you love."


@dataclass
class Example:
    """One instruction pair: what the agent will ask (`system` and `prompt`: the chat messages it sends; no
    system prompt for the free tasks), and what a person wrote (`answer`). `track_id`: the clip or track the pair
    is about (a MusicCaps ytid, a catalog id), empty for the free tasks."""

    id: str
    task: str  # a plan point's kind (sound | described | feeling | verdict) | lyrics | friend
    prompt: str
    answer: str
    source: str
    language: str
    split: str = "train"  # train | validation (held-out MusicCaps clips are validation, never train)
    system: str = ""
    track_id: str = ""

    def messages(self) -> list[dict[str, str]]:
        head = [{"role": "system", "content": self.system}] if self.system else []
        return [*head, {"role": "user", "content": self.prompt}]


def served(point: Point, answer: str, source: str, lang: str, track_id: str, split: str) -> Example:
    system, user = point.messages()  # exactly what the agent sends for this point
    return Example(key(answer), point.kind, user["content"], answer, source, lang, split, system["content"], track_id)


@lru_cache(maxsize=4)
def heldout_clips(path: Path = HELDOUT) -> frozenset[str]:
    """The committed held-out MusicCaps clips (one ytid a line, `#` lines are comments)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


# --- MusicCaps captions --------------------------------------------------------------------------------------

def aspects_of(value: object) -> list[str]:
    """A MusicCaps aspect_list cell (a Python list literal) as its strings; anything else as one aspect."""
    if isinstance(value, list):
        return [str(a) for a in value if str(a).strip()]
    try:
        parsed = ast.literal_eval(str(value or "[]"))
    except (ValueError, SyntaxError):
        return [str(value)] if str(value or "").strip() else []
    return [a.strip() for a in parsed if isinstance(a, str) and a.strip()] if isinstance(parsed, list) else []


def mentioned(aspects: list[str], sentence: str) -> list[str]:
    """The aspects the sentence names, word for word (case-insensitive; "vocal" also matches "vocals", and any
    punctuation may sit between the words: '"4 on the floor" kick')."""
    text = sentence.casefold()
    out = []
    for aspect in aspects:
        words = re.findall(r"[\w']+", aspect.casefold())
        if words and re.search(r"\b" + r"\W+".join(re.escape(w) + "(?:s|es)?" for w in words) + r"\b", text):
            out.append(aspect)
    return out


def caption_examples(text: str, meta: dict, heldout: frozenset[str]) -> list[Example]:
    """One "sound" pair per caption sentence that names at least one of the clip's aspects."""
    aspects = aspects_of(meta.get("aspect_list"))
    clip = str(meta.get("ytid") or meta.get("id") or "").strip()
    split = "validation" if clip in heldout else "train" if clip else split_of(key(text))
    lang = language(text)
    out = []
    for sentence in sentences(text):
        named = mentioned(aspects, sentence)
        if named and _sentence_sized(sentence):
            point = caption_point(named)
            if split == "validation" or kept(sentence, point):
                out.append(served(point, sentence, "captions", lang, clip, split))
    return out


def kept(sentence: str, point: Point) -> bool:
    """The agent would keep this sentence for this point: the claim checker passes it (it claims something, all
    of it in the facts) and it does what the point asks. A title is kept as the agent keeps one (`title_ok`), of
    two words or more, with every music term it names in the point's facts."""
    if point.kind == "title":
        return len(sentence.split()) >= 2 and title_ok(sentence, (), []) and terms(sentence) <= terms(point.support())
    verdict = _checker().judge(sentence, point)
    return verdict.ok and verdict.says_something and does_its_point(point, sentence)


@lru_cache(maxsize=1)
def _checker() -> ClaimChecker:
    return ClaimChecker()


def _sentence_sized(sentence: str) -> bool:
    return len(sentence) >= MIN_SENTENCE_CHARS and len(sentence.split()) <= MAX_SENTENCE_WORDS


# --- listener comments and reviews ---------------------------------------------------------------------------

def comment_examples(text: str, meta: dict, track: Track | None) -> list[Example]:
    """The whole text as a "friend" pair (the voice), and each of its sentences that a point of the track's
    review plan can stand behind as a served pair (split by track, so a track's points are in one split)."""
    source = "reviews" if meta.get("kind") == "review" else "comments"
    if track is None:
        return [friend_example(text, source)]
    split, lang = split_of(track.id), language(text)  # the whole text goes where its sentences go
    out = [Example(key(text), "friend", FRIEND, text, source, lang, split, track_id=track.id)]
    points = review_plan(track, [], [])  # no listener point: a comment cannot realise itself
    for sentence in sentences(text):
        point = listener_point(sentence, points)
        if point is not None:
            out.append(served(point, sentence, source, lang, track.id, split))
    return out


def listener_point(sentence: str, points: list[Point]) -> Point | None:
    """The point whose facts the sentence overlaps most, among those that support it; None for a sentence that
    is in the first person (outside quotes), says nothing of the music, or claims what no point's facts hold."""
    if not _sentence_sized(sentence) or FIRST_PERSON.search(QUOTED.sub(" ", sentence)):
        return None
    fitting = [p for p in points if kept(sentence, p)]
    if not fitting:
        return None
    words = _content_words(sentence)
    return max(fitting, key=lambda p: len(words & _content_words(p.support())))  # first of equals: plan order


_STOP = {"the", "a", "an", "and", "or", "of", "in", "on", "to", "with", "it", "its", "is", "this", "that", "for",
         "as", "but", "by", "like", "so", "at", "from", "into", "all", "be", "are", "was"}


def _content_words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.casefold())) - _STOP


# --- free tasks ----------------------------------------------------------------------------------------------

def lyric_example(text: str, meta: dict) -> Example:
    from retrieval.mood import read_mood  # the packaged lexicon (no store needed)

    title = str(meta.get("title") or "Untitled").strip() or "Untitled"
    mood = meta.get("mood") or next(iter(read_mood(text).moods), None)
    ask = f"Write song lyrics titled \u201c{title}\u201d" + (f" in a {mood} mood" if mood else "")
    if "composer" in meta:  # an art song
        ask = f"Write the words of an art song titled \u201c{title}\u201d, in the manner of a classic Lied"
    return Example(key(text), "lyrics", ask + ".", text, "lyrics", language(text), split_of(key(text)))


def friend_example(text: str, source: str = "comments") -> Example:
    return Example(key(text), "friend", FRIEND, text, source, language(text), split_of(key(text)))
