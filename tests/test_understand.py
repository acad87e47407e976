"""Reading one chat message without any model: intents, references, refinements and feedback."""

from __future__ import annotations

import pytest

from agent.understand import TitleMatcher, read_turn
from retrieval.query import ArtistMatcher
from retrieval.text import phrase_key

ARTISTS = ArtistMatcher({"coldplay": "Coldplay", "bon iver": "Bon Iver", "boards of canada": "Boards of Canada"})
TITLES = TitleMatcher({phrase_key("Hallelujah"): ["jeff-buckley--hallelujah"],
                       phrase_key("Holocene"): ["bon-iver--holocene"]})


def turn(text, shown=6):
    return read_turn(text, ARTISTS, TITLES, shown)


@pytest.mark.parametrize("text, intent", [
    ("rough day, need something to calm down", "recommend"),
    ("90s hip-hop for a road trip", "recommend"),
    ("我今天很伤感", "recommend"),
    ("faster", "refine"),
    ("only before 2000", "refine"),
    ("no more ballads", "refine"),
    ("I don't like Coldplay", "refine"),
    ("more like the second one", "refine"),
    ("\U0001F44D 2", "feedback"),
    ("-3", "feedback"),
    ("I hate the first one", "feedback"),
    ("why did you pick that?", "explain"),
    ("why #2?", "explain"),
    ("make this a playlist", "playlist"),
    ("write a review of #3", "review"),
    ("", "empty"),
    ("hello", "greeting"),
    ("help", "help"),
])
def test_intents(text, intent):
    assert turn(text).intent == intent


def test_references_and_feedback():
    assert turn("more like the second one").refs == (2,)
    assert turn("more like #4").refs == (4,)
    t = turn("\U0001F44D 2, \U0001F44E 5 and +1")
    assert t.liked == (2, 1) and t.disliked == (5,)
    assert turn("love the third one").liked == (3,)
    t = turn("don't like the second one")
    assert t.disliked == (2,) and not t.liked
    assert turn("#9", shown=3).refs == ()  # out of range of the list on screen


def test_refinements():
    assert turn("faster").energy_shift > 0 and turn("calmer please").energy_shift < 0
    t = turn("only before 2000")
    assert (t.year_min, t.year_max) == (None, 1999)
    t = turn("no more ballads")  # a style the lexicon knows is a constraint, not a word to block
    assert t.block_words == () and ("style", "exclude", "ballad") in t.request.constraints.triples()
    assert t.intent == "refine"
    assert turn("I don't like Coldplay").exclude_artists == ("coldplay",)
    assert turn("I don't like Coldplay").block_words == ()


@pytest.mark.parametrize(("text", "blocked"), [
    ("no more remixes", ("remix",)),
    ("without the live versions please", ("live version",)),
    ("no remixes or covers, something warm", ("remix", "cover")),
    ("skip the karaoke stuff", ("karaoke",)),
    ("enough of the medleys", ("medley",)),
    ("something upbeat but not too similar or different", ()),
    ("I don't know, something chill", ()),  # not a refusal the chat keeps
    ("no thanks", ()),
    ("no metal please", ()),  # known: a constraint
])
def test_words_no_lexicon_knows_are_kept_out(text, blocked):
    """The parser finds the refusal of a word outside the lexicons; the chat keeps it as a word to block, and
    the refused words never count as something to play."""
    t = turn(text)
    assert t.block_words == blocked
    assert not any(w in (t.request.core or "") for w in blocked)


def test_something_like_an_artist_but_different():
    t = turn("something like Bon Iver but less sleepy")
    assert t.intent == "recommend" and t.new_topic
    assert t.like_artists == ("bon iver",) and t.energy_shift > 0
    assert t.block_words == ()  # "less sleepy" is an energy change, not a style to keep out


def test_titles_named_in_context():
    assert turn("more like Hallelujah").seed_titles == ("jeff-buckley--hallelujah",)
    assert turn('songs like "Holocene" but older').seed_titles == ("bon-iver--holocene",)
    assert turn("hallelujah, what a day").seed_titles == ()  # a title word out of context is just a word


def test_counts_and_emoji():
    assert turn("give me 8 songs for running").n == 8
    assert turn("twenty tracks of jazz").n == 20
    t = turn("\U0001F622")
    assert t.intent == "recommend" and "sad" in t.request.mood.moods


def test_very_long_message_is_read_from_its_start():
    t = turn("calm piano " * 5000)
    assert len(t.text) <= 2000 and t.intent == "recommend"


@pytest.mark.parametrize("text,rest", [
    ("more music like what I play", ""),
    ("something like what I usually listen to", ""),
    ("songs similar to what i've been playing lately", "lately"),
    ("recommend songs based on my listening history", ""),
    ("play me my usual kind of music", ""),
    ("the usual, please", ""),
    ("jazz, based on my taste", "jazz"),
    ("something I'd like for the evening", "evening"),
    ("music that fits my profile but slower", "slower"),
    ("stuff close to what I tend to stream", ""),
])
def test_pointing_at_the_listeners_own_listening(text, rest):
    t = turn(text)
    assert t.habitual, text
    words = t.request.text.casefold() if t.request else ""
    assert not {"usually", "history", "taste", "profile", "stream", "usual"} & set(words.replace(",", " ").split())
    if rest:
        assert rest in words


@pytest.mark.parametrize("text", [
    "I like jazz", "not my usual stuff please", "something different from what I usually play",
    "songs like Hallelujah", "dinner jazz", "music to taste wine to",
    "what I need is calm piano", "play what you like", "my friend loves metal",
])
def test_other_requests_do_not_point_at_the_history(text):
    assert not turn(text).habitual, text
