"""The next steps offered after a list: derived from the spread of the picks, and each one, sent as the next
message, gives a turn that does what it says. Real Chroma and embedder over the demo catalog, a scripted model;
the web app's chips are clicked in the browser test (tests/test_web.py)."""

from __future__ import annotations

import re
from statistics import mean

import pytest

from agent.graph import Agent
from agent.suggest import suggestions
from agent.taste import Taste
from retrieval import Track
from tests.fakes import scripted
from tests.test_conversations import _instrumental, fits

FIRST_TURNS = ["songs for a road trip", "rainy evening, something calm", "party music", "music to study to",
               "sad songs after a breakup", "something upbeat for a morning run", "romantic dinner", "90s hip-hop",
               "happy 80s pop", "late-night coding", "Sunday morning coffee", "angry music for the gym"]


def _track(**fields) -> Track:
    return Track(id=fields.pop("id"), title=fields.pop("title", "T"), artist=fields.pop("artist", "A"), **fields)


def test_the_offers_follow_the_spread_of_the_picks():
    spread = [_track(id=f"t{i}", year=year, genre=genre, energy=0.8, valence=0.6)
              for i, (year, genre) in enumerate([(1975, "rock"), (1978, "rock"), (1994, "pop"), (2003, "soul"),
                                                 (2011, "rock"), (1986, "jazz")])]
    offered = suggestions(spread, Taste())
    assert offered[:2] == ["only the 70s", "just the rock ones"] and "calmer" in offered, offered
    one_decade = [_track(id=f"u{i}", year=1990 + i, genre="hip-hop", energy=0.3, valence=0.2) for i in range(6)]
    offered = suggestions(one_decade, Taste())
    assert "something older" in offered and "more upbeat" in offered and "happier" in offered
    assert not any(o.startswith("just the") for o in offered)  # one genre: nothing to narrow to
    assert suggestions(one_decade[:2], Taste()) == []
    assert "just the rock ones" not in suggestions(spread, Taste(banned_styles=["rock"]))


def _honoured(offer: str, before: list[Track], after: list[Track]) -> str | None:
    """What is wrong with `after` as the answer to `offer`, or None."""
    if not after:
        return "no picks"
    if m := re.fullmatch(r"only the (\d\d|\d{4})s", offer):
        start = int(m.group(1)) + (1900 if len(m.group(1)) == 2 else 0)
        wrong = [t for t in after if not (t.year and start <= t.year <= start + 9)]
    elif m := re.fullmatch(r"just the (.+) ones", offer):
        wrong = [t for t in after if not fits(t, {"genres": [m.group(1)]})]
    elif offer == "no vocals":
        wrong = [t for t in after if not _instrumental(t)]
    elif offer in ("calmer", "more upbeat", "happier"):
        field = "valence" if offer == "happier" else "energy"
        way = -1 if offer == "calmer" else 1
        was, now = (mean(getattr(t, field) for t in ts if getattr(t, field) is not None) for ts in (before, after))
        return None if (now - was) * way > 0 else f"{field} {was:.2f} -> {now:.2f}"
    elif offer in ("something older", "something newer"):
        years = sorted(t.year for t in before if t.year)
        middle = years[len(years) // 2]
        wrong = [t for t in after if not t.year or (t.year >= middle if offer.endswith("older") else t.year <= middle)]
    else:
        return f"no check for {offer!r}"
    return f"{[(t.title, t.year, t.genre) for t in wrong]}" if wrong else None


@pytest.mark.integration
@pytest.mark.parametrize("first", FIRST_TURNS)
def test_each_offer_sent_next_is_honoured(first, demo_catalog, tmp_path):
    index = demo_catalog.index()
    agent = Agent(catalog=demo_catalog, chat=scripted(), checkpoint=tmp_path / "s.sqlite")
    try:
        opened = agent.say(first, "c")
        offers = opened.extra.get("suggestions", [])
        assert 2 <= len(offers) <= 3, opened.to_dict()
        before = [index.get(t["id"]) for t in opened.tracks]
        for number, offer in enumerate(offers):
            agent.say(first, f"s{number}")
            after = [index.get(t["id"]) for t in agent.say(offer, f"s{number}").tracks]
            assert _honoured(offer, before, after) is None, f"{offer!r}: {_honoured(offer, before, after)}"
    finally:
        agent.close()
