"""Every pick's reason states the catalog's facts as the catalog has them: rendered for every demo track under
requests of each family (genres, moods, eras, refusals, vocals, and constraints the catalog cannot meet)."""

import json
import re

import pytest

from agent.taste import Taste, _plural
from agent.understand import read_turn
from retrieval import Track
from retrieval.claims import ClaimChecker
from retrieval.plans import explain_point
from retrieval.query import read_request
from retrieval.search import score_track, style_words, why
from retrieval.settings import DEMO_DIR

CATALOG = [Track(**json.loads(line)) for line in (DEMO_DIR / "catalog.jsonl").read_text().splitlines()]
REQUESTS = [
    "happy 80s pop", "rainy evening jazz", "upbeat rock for a run", "sad country songs", "some hip-hop",
    "chill electronic, no vocals", "folk for a quiet sunday", "latin music to dance to", "soul and r&b classics",
    "angry metal from before 1950",  # no metal that old: the era cannot be met
    "romantic jazz from 2030",  # nor a future one
    "pop but no country", "punk, nothing after 1980", "something calm", "indie without any rock",
    "我今天很伤感", "instrumental piano for studying", "k-pop and j-pop", "classical, no piano",
]
ASKED = re.compile(r", the ([^,]+?(?:, [^,]+?)*?) you asked for")


def _reasons():
    for text in REQUESTS:
        request = read_request(text)
        for track in CATALOG:
            _, evidence = score_track(track, request, 0.5)
            yield text, track, why(track, evidence, request)


@pytest.mark.parametrize("text", REQUESTS)
def test_a_genre_is_claimed_only_as_the_track_has_it(text):
    request = read_request(text)
    for track in CATALOG:
        _, evidence = score_track(track, request, 0.5)
        sentence = why(track, evidence, request)
        whole = {w.casefold() for w in (track.genre, *track.tags) if w}
        for m in ASKED.finditer(sentence):  # "the pop you asked for": the genre or a whole tag is pop
            claimed = re.split(r", | and ", m.group(1))
            assert all(g in whole for g in claimed), (text, sentence)
        if tagged := re.search(r"tagged (.+?)(?:, (?:the|with|by|fitting|whose)\b|\.$)", sentence):
            left = tagged.group(1)
            for word in sorted([*track.moods, *track.tags], key=len, reverse=True):  # "rock and roll" whole
                left = left.replace(word, " ")
            assert not re.sub(r",|\band\b", " ", left).strip(), (text, sentence)
        kind = track.genre or (track.tags[0] if track.tags else None)
        if kind:
            assert f"{kind} track" in sentence, (text, sentence)


def test_a_country_pop_tag_never_makes_a_country_track_pop():
    dolly = next(t for t in CATALOG if t.id == "dolly-parton--9-to-5")
    request = read_request("happy 80s pop")
    sentence = why(dolly, score_track(dolly, request, 0.5)[1], request)
    assert "the pop you asked for" not in sentence and "country pop" in sentence and "country track" in sentence


def test_every_reason_passes_the_claim_checker_and_quotes_whole_phrases():
    checker = ClaimChecker()
    for text, track, sentence in _reasons():
        verdict = checker.judge(sentence, explain_point(text, track), carried=track.description or "",
                                tracks=[track])
        assert verdict.ok, (text, sentence, verdict)
        bare = sentence.replace(track.label(), "")  # a title may hold an ellipsis ("...Baby One More Time")
        assert "\u2026" not in bare and "..." not in bare, sentence
        if "description is closest to your request: " in sentence:
            quoted = sentence.split("description is closest to your request: ", 1)[1].rstrip(".")
            description = track.description or ""
            assert description.startswith(quoted), (quoted, description)
            after = description[len(quoted):len(quoted) + 2]
            assert after in ("", ".") or after[:1] in ".;:!?" or after.startswith((" -", " \u2013", "\u2014")), \
                (quoted, after)


def test_why_a_pick_says_an_era_or_refusal_holds_only_where_it_does():
    from agent.intents import explain_track

    class Index:
        def get(self, _):
            return None

    class Catalog:
        def index(self):
            return Index()

        def read(self, text):
            return read_request(text)

    taste = Taste(year_min=1990, year_max=1999, banned_styles=["country"], topic="upbeat songs")
    inside = next(t for t in CATALOG if t.year and 1990 <= t.year <= 1999 and t.genre != "country")
    outside = next(t for t in CATALOG if t.year and t.year < 1970 and t.genre == "country")
    said = explain_track(inside, taste, Catalog())
    assert "inside the era you asked for" in said and "no country" in said
    said = explain_track(outside, taste, Catalog())
    assert "outside the era you asked for" in said and "inside the era" not in said and "no country" not in said


@pytest.mark.parametrize("text", ["chill but no piano", "no more remixes", "something warm without strings",
                                  "no covers or medleys please", "jazz, no saxophone"])
def test_each_refusal_is_noted_once(text):
    taste = Taste()

    class Index:
        artists: dict = {}

    class Catalog:
        def index(self):
            return Index()

    taste.apply(read_turn(text), Catalog())
    keys = [re.sub(r"(?:es|s)$", "", note) for note in taste.notes]
    assert len(keys) == len(set(keys)), taste.notes


def test_block_words_read_as_plurals_in_notes():
    assert [_plural(w) for w in ("remix", "cover", "medley", "live version", "bass")] == [
        "remixes", "covers", "medleys", "live versions", "basses"]


def test_style_words_hold_the_single_words_of_a_tag():
    assert "pop" in style_words(next(t for t in CATALOG if t.id == "dolly-parton--9-to-5"))
