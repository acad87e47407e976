"""Two-turn conversations over the demo catalog for three families of second turn, each case written by hand:

- a relative era word with an explicit bound in the same message ("older, but nothing before 1970"): the bound
  holds, and the word only says which way from the list on screen (every pick on that side of its middle year,
  whenever the bound leaves any such track);
- a refused mood with a wish for its opposite ("nothing sad, something happy instead"): no pick carries the
  refused mood, and the list moves the other way along that mood's axis (valence or energy);
- a refinement that narrows the era or genre ("only before 1995", "just the rock ones"): the picks already on
  screen that still fit stay, and only the places of those that do not are filled with new tracks.

Real Chroma and embedder, a scripted chat model; the conversation suite's own checks of the hard constraints."""

from __future__ import annotations

from statistics import mean

import pytest

from agent.graph import Agent
from tests.fakes import scripted
from tests.test_conversations import K, deliverable, fits

pytestmark = pytest.mark.integration

# (first turn, second turn, the hard constraints after it (the bound and the topic's genre), which way from the
# list on screen)
ERA_WITH_BOUND = [
    ("rock music", "something older, but nothing before 1970", {"genres": ["rock"], "years": (1970, None)}, -1),
    ("pop songs", "older stuff, from the 80s", {"genres": ["pop"], "years": (1980, 1989)}, -1),
    ("songs for a road trip", "newer, up to 2015", {"years": (None, 2015)}, 1),
    ("soul music", "older but after 1960", {"genres": ["soul"], "years": (1961, None)}, -1),
    ("hip-hop", "more recent, not after 2015", {"genres": ["hip-hop"], "years": (None, 2015)}, 1),
    ("jazz", "newer stuff, since 1960", {"genres": ["jazz"], "years": (1960, None)}, 1),
    ("happy songs", "something older, pre-2000", {"years": (None, 1999)}, -1),
    ("sad songs", "older ones please, but only after 1975", {"years": (1976, None)}, -1),
    ("electronic music", "newer tracks, nothing after 2020", {"genres": ["electronic"], "years": (None, 2020)}, 1),
    ("music for a dinner party", "older, between 1960 and 1990", {"years": (1960, 1990)}, -1),
    ("country music", "a bit more recent, from 1990 on", {"genres": ["country"], "years": (1990, None)}, 1),
    ("folk songs", "go older, though not before 1965", {"genres": ["folk"], "years": (1965, None)}, -1),
    ("indie music", "newer please, up until 2018", {"genres": ["indie"], "years": (None, 2018)}, 1),
    ("energetic songs", "older ones, 1970 or later", {"years": (1970, None)}, -1),
    ("r&b", "more recent, but before 2010", {"genres": ["r&b"], "years": (None, 2009)}, 1),
]

# (first turn, second turn, the refused moods, the axis, which way along it)
REFUSED_MOOD_AND_ITS_OPPOSITE = [
    ("sad songs", "nothing sad, something happy instead", ["sad"], "valence", 1),
    ("songs for a rainy day", "no melancholic stuff, I want something cheerful", ["melancholic"], "valence", 1),
    ("breakup songs", "enough heartbreak, cheer me up", ["heartbroken"], "valence", 1),
    ("dark music", "no more dark stuff, give me something hopeful", ["dark"], "valence", 1),
    ("happy pop", "not happy, something sad", ["happy"], "valence", -1),
    ("calm music", "nothing calm, I want something energetic", ["calm"], "energy", 1),
    ("party music", "no party songs, something peaceful", ["party"], "energy", -1),
    ("energetic workout songs", "not energetic, more chill", ["energetic"], "energy", -1),
    ("chill songs", "skip the chill ones, something more energetic", ["chill"], "energy", 1),
    ("angry music", "no angry songs, make it calmer", ["angry"], "energy", -1),
    ("melancholic indie", "I don't want melancholic music, make it happier", ["melancholic"], "valence", 1),
    ("dreamy music", "no dreamy stuff, something with more energy", ["dreamy"], "energy", 1),
    ("uplifting songs", "nothing uplifting, sadder please", ["uplifting"], "valence", -1),
    ("tense film music", "not tense, something peaceful instead", ["tense"], "energy", -1),
    ("sad country songs", "no more sadness, something joyful", ["sad"], "valence", 1),
    ("songs for a quiet night", "stop with the peaceful stuff, pump me up", ["peaceful"], "energy", 1),
]

# (first turn, second turn, the hard constraints after it)
NARROWING = [
    ("90s hip-hop", "only before 1995", {"genres": ["hip-hop"], "years": (1990, 1994)}),
    ("rock music", "only the 70s", {"genres": ["rock"], "years": (1970, 1979)}),
    ("songs for a road trip", "just rock", {"genres": ["rock"]}),
    ("happy songs", "only ones from after 2000", {"years": (2001, None)}),
    ("sad songs", "just the ones from the 90s", {"years": (1990, 1999)}),
    ("energetic songs", "only the rock ones", {"genres": ["rock"]}),
    ("music from the 80s", "only after 1985", {"years": (1986, 1989)}),
    ("songs for a summer party", "only songs before 1990", {"years": (None, 1989)}),
    ("romantic songs", "only soul", {"genres": ["soul"]}),
    ("chill music", "just the electronic ones", {"genres": ["electronic"]}),
    ("jazz", "only from the 50s", {"genres": ["jazz"], "years": (1950, 1959)}),
    ("nostalgic songs", "only the pop ones from the 80s", {"genres": ["pop"], "years": (1980, 1989)}),
    ("country music", "only songs since 2000", {"genres": ["country"], "years": (2000, None)}),
    ("feel-good songs", "only before 1980", {"years": (None, 1979)}),
    ("soul music", "just the 60s ones", {"genres": ["soul"], "years": (1960, 1969)}),
    ("upbeat songs", "narrow it to the 2010s", {"years": (2010, 2019)}),
]


def test_each_family_has_its_cases():
    assert min(len(ERA_WITH_BOUND), len(REFUSED_MOOD_AND_ITS_OPPOSITE), len(NARROWING)) >= 14
    assert len(ERA_WITH_BOUND) + len(REFUSED_MOOD_AND_ITS_OPPOSITE) + len(NARROWING) >= 40


def _two_turns(demo_catalog, tmp_path, first: str, second: str):
    agent = Agent(catalog=demo_catalog, chat=scripted(), checkpoint=tmp_path / "s.sqlite")
    index = demo_catalog.index()
    try:
        before = [index.get(t["id"]) for t in agent.say(first, "c").tracks]
        after = agent.say(second, "c")
    finally:
        agent.close()
    assert before, f"{first!r} found nothing"
    return before, [index.get(t["id"]) for t in after.tracks], after.reply


def _label(t) -> str:
    return f"{t.title} / {t.artist} ({t.year}, {t.genre}, moods {t.moods}, energy {t.energy}, valence {t.valence})"


@pytest.mark.parametrize("first, second, want, way", ERA_WITH_BOUND, ids=[c[1] for c in ERA_WITH_BOUND])
def test_an_explicit_bound_wins_and_the_era_word_says_which_way(first, second, want, way, demo_catalog, tmp_path):
    before, picks, reply = _two_turns(demo_catalog, tmp_path, first, second)
    years = sorted(t.year for t in before if t.year)
    middle = years[len(years) // 2]
    index = demo_catalog.index()
    shown = {t.id for t in before}
    fitting = [t for t in map(index.track, range(len(index))) if fits(t, want)]
    that_way = [t for t in fitting if t.year is not None and (t.year < middle if way < 0 else t.year > middle)]
    outside = [_label(t) for t in picks if not fits(t, want)]
    assert not outside, f"picks outside {want}: {outside}"
    allowed = that_way if deliverable(that_way, shown, []) else fitting
    ids = {t.id for t in allowed}
    wrong_way = [_label(t) for t in picks if t.id not in ids]
    assert not wrong_way, f"not {'before' if way < 0 else 'after'} {middle} (the list's middle year): {wrong_way}"
    assert len(picks) == min(K, deliverable(allowed, shown, [])), reply[:300]


@pytest.mark.parametrize("first, second, refused, axis, way", REFUSED_MOOD_AND_ITS_OPPOSITE,
                         ids=[c[1] for c in REFUSED_MOOD_AND_ITS_OPPOSITE])
def test_a_refused_mood_is_left_out_and_the_list_moves_the_other_way(first, second, refused, axis, way, demo_catalog,
                                                                      tmp_path):
    before, picks, reply = _two_turns(demo_catalog, tmp_path, first, second)
    assert len(picks) == K, reply[:300]
    carrying = [_label(t) for t in picks if set(t.moods) & set(refused)]
    assert not carrying, f"picks with a refused mood {refused}: {carrying}"
    was = mean(getattr(t, axis) for t in before if getattr(t, axis) is not None)
    now = mean(getattr(t, axis) for t in picks if getattr(t, axis) is not None)
    assert (now - was) * way > 0.1, f"{axis} {was:.2f} -> {now:.2f}: {[_label(t) for t in picks]}"


@pytest.mark.parametrize("first, second, want", NARROWING, ids=[c[1] for c in NARROWING])
def test_a_narrowing_refinement_keeps_the_picks_that_still_fit(first, second, want, demo_catalog, tmp_path):
    before, picks, reply = _two_turns(demo_catalog, tmp_path, first, second)
    broken = [_label(t) for t in picks if not fits(t, want)]
    assert not broken, f"picks that break {want}: {broken}"
    still = [t for t in before if fits(t, want)]
    dropped = [_label(t) for t in still if t.id not in {p.id for p in picks}]
    assert not dropped, f"on screen, still fitting {want}, but gone: {dropped}"
    assert [t.id for t in picks[:len(still)]] == [t.id for t in still], "the kept picks come first, in their order"
    index = demo_catalog.index()
    unseen = [t for t in map(index.track, range(len(index))) if fits(t, want) and t.id not in {b.id for b in before}]
    assert len(picks) == min(K, deliverable(still + unseen, set(), want.get("artists", []))), reply[:300]
