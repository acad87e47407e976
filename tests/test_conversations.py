"""Two- and three-turn conversations over the demo catalog, through `Agent`, each with the hard constraints a
listener would expect after its last turn, written by hand (not taken from the parser). For every conversation:
every pick satisfies every hard constraint, min(k, feasible) tracks come back (feasible is derived from the
catalog's own fields, less what the session already showed, at most two per artist; a last turn that only tightens
the list keeps, first, the picks on screen that still fit), and the "Only N" line is shown exactly when fewer than k
come back. Real Chroma and embedder, a scripted chat model."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from agent.graph import Agent
from tests.fakes import scripted

pytestmark = pytest.mark.integration
K = 6  # the chat's default number of picks

# (turns, expected hard constraints after the last turn)
CONVERSATIONS = [
    (["energetic songs", "keep metal out of it"], {"no": ["metal"]}),
    (["road trip music, give me anything apart from country"], {"no": ["country"]}),
    (["something upbeat", "no rock please"], {"no": ["rock"]}),
    (["party music", "anything but hip hop"], {"no": ["hip-hop"]}),
    (["calm evening songs", "skip the jazz"], {"no": ["jazz"]}),
    (["sad songs", "not pop", "and no folk either"], {"no": ["pop", "folk"]}),
    (["music for cooking", "none of that soul stuff"], {"no": ["soul"]}),
    (["workout playlist", "without any electronic"], {"no": ["electronic"]}),
    (["dinner party", "no latin, no reggae"], {"no": ["latin", "reggae"]}),
    (["happy music", "I'm not into country or gospel"], {"no": ["country", "gospel"]}),
    (["study music", "no singing"], {"vocals": "instrumental"}),
    (["late-night coding", "nothing with vocals"], {"vocals": "instrumental"}),
    (["focus music, no vocals please"], {"vocals": "instrumental"}),
    (["study music", "lose the piano"], {"no": ["piano"]}),
    (["relaxing music", "no piano and no strings"], {"no": ["piano", "strings"]}),
    (["romantic songs", "no more ballads"], {"no": ["ballad"]}),
    (["jazz for a rainy day", "without saxophone"], {"genres": ["jazz"], "no": ["saxophone"]}),
    (["something chill", "别放钢琴"], {"no": ["piano"]}),
    (["轻松的音乐", "不要摇滚"], {"no": ["rock"]}),
    (["开心的歌", "不要说唱"], {"no": ["hip-hop"]}),
    (["rock music", "nothing older than 1990"], {"genres": ["rock"], "years": (1990, None)}),
    (["pop songs", "only before 1985"], {"genres": ["pop"], "years": (None, 1984)}),
    (["soul music", "none from the sixties"], {"genres": ["soul"], "eras_out": [(1960, 1969)]}),
    (["90s hip-hop", "from 1995 on"], {"genres": ["hip-hop"], "years": (1995, 1999)}),
    (["80s music", "only after 1985"], {"years": (1986, 1989)}),
    (["songs from the 70s"], {"years": (1970, 1979)}),
    (["something nostalgic", "nothing from the 2000s"], {"eras_out": [(2000, 2009)]}),
    (["sad songs", "not from the 80s or 90s"], {"eras_out": [(1980, 1999)]}),
    (["upbeat songs", "released between 2000 and 2010"], {"years": (2000, 2010)}),
    (["country music", "since 2015"], {"genres": ["country"], "years": (2015, None)}),
    (["folk songs", "nothing newer than 1975"], {"genres": ["folk"], "years": (None, 1975)}),
    (["jazz", "from the fifties or sixties"], {"genres": ["jazz"], "years": (1950, 1969)}),
    (["electronic music", "no songs before 2000"], {"genres": ["electronic"], "years": (2000, None)}),
    (["indie music", "1990年以前的"], {"genres": ["indie"], "years": (None, 1989)}),
    (["摇滚", "不要80年代的"], {"genres": ["rock"], "eras_out": [(1980, 1989)]}),
    (["something energetic", "no metal", "and nothing from before 1980"], {"no": ["metal"], "years": (1980, None)}),
    (["chill music", "no jazz", "only after 2000"], {"no": ["jazz"], "years": (2001, None)}),
    (["songs for a wedding", "no country", "no ballads"], {"no": ["country", "ballad"]}),
    (["music to study to", "no vocals", "no piano"], {"vocals": "instrumental", "no": ["piano"]}),
    (["hip-hop", "no Eminem"], {"genres": ["hip-hop"], "artists_out": ["eminem"]}),
    (["I'd like rock", "I don't like Queen", "and skip Nirvana"], {"genres": ["rock"],
                                                                  "artists_out": ["queen", "nirvana"]}),
    (["pop music", "anything but Taylor Swift"], {"genres": ["pop"], "artists_out": ["taylor swift"]}),
    (["songs by Adele"], {"artists": ["adele"]}),
    (["metal", "keep Metallica out"], {"genres": ["metal"], "artists_out": ["metallica"]}),
    (["something sad", "nothing angry", "no heartbreak"], {"moods_out": ["angry", "heartbroken"]}),
    (["upbeat music", "nothing melancholic"], {"moods_out": ["melancholic"]}),
    (["rainy evening music", "but no sad songs"], {"moods_out": ["sad"]}),
    (["energetic songs", "no metal", "start over", "jazz"], {"genres": ["jazz"], "fresh": True}),
    (["no country", "something for a road trip"], {"no": ["country"], "fresh": True}),
    (["no jazz", "romantic dinner music", "candlelight vibes"], {"no": ["jazz"], "fresh": True}),
    (["anything but rock", "happy songs"], {"no": ["rock"], "fresh": True}),
    (["study music", "no vocals", "something sad now"], {"fresh": True}),
    (["90s rock", "from 1995 on", "no grunge"], {"genres": ["rock"], "years": (1995, 1999), "no": ["grunge"]}),
    (["soul", "no motown"], {"genres": ["soul"], "no": ["motown"]}),
    (["classical music", "without strings"], {"genres": ["classical"], "no": ["strings"]}),
    (["ambient", "nothing instrumental"], {"genres": ["ambient"], "vocals": "vocals"}),
    (["blues", "skip anything with guitar"], {"genres": ["blues"], "no": ["guitar"]}),
    (["dance music", "no synths"], {"genres": ["dance"], "no": ["synth"]}),
    (["r&b", "nothing from the 90s", "no ballads"], {"genres": ["r&b"], "eras_out": [(1990, 1999)],
                                                      "no": ["ballad"]}),
    (["songs for a sunny morning", "no reggae", "nothing older than 2000"], {"no": ["reggae"],
                                                                           "years": (2000, None)}),
    (["k-pop", "no ballads"], {"genres": ["k-pop"], "no": ["ballad"]}),
    (["latin music", "anything except reggaeton"], {"genres": ["latin"], "no": ["reggaeton"]}),
]


def _styles(track) -> set[str]:
    words = {w for w in (track.genre, *track.tags) if w}
    return words | {part for w in words for part in w.replace("-", " ").split() if len(part) > 2}


def _describes(track, word: str) -> bool:
    """The track's own title or description features `word` (and does not say "no"/"without" before it)."""
    text = f"{track.title} {track.description or ''}".casefold().replace("-", " ")
    for m in re.finditer(rf"\b{re.escape(word.replace('-', ' '))}s?\b", text):
        if not re.search(r"\b(?:no|not|without|never|less)\s+$", text[:m.start()]):
            return True
    return False


def _instrumental(track) -> bool:
    text = f"{track.description or ''} {' '.join(track.tags)}".casefold()
    return ("instrumental" in _styles(track) or bool(re.search(r"\binstrumental\b|\bno vocals\b|\bwordless\b", text))
            ) and not track.lyrics


def _vocal(track) -> bool:
    text = f"{track.description or ''} {' '.join(track.tags)} {track.genre or ''}".casefold()
    return not _instrumental(track) and (bool(track.lyrics) or bool(re.search(
        r"\b(?:vocals?|voice|voices|sings?|sung|singing|singer|singers|vocalist|rapp?(?:er|ers|s|ed|ing)?|lyrics?|"
        r"choir|chorus|duet|falsetto|croon\w*|harmon(?:y|ies)|verses?|chant\w*|belt\w*)\b", text)))


def fits(track, want: dict) -> bool:
    styles = _styles(track)
    if want.get("genres") and not any(g in styles or (not styles and _describes(track, g)) for g in want["genres"]):
        return False  # only a track with no genre or tags at all may name its genre in its description
    if any(x in styles or _describes(track, x) for x in want.get("no", [])):
        return False
    if set(track.moods) & set(want.get("moods_out", [])):
        return False
    low, high = want.get("years", (None, None))
    if (low or high) and (track.year is None or (low and track.year < low) or (high and track.year > high)):
        return False
    if track.year is not None and any(a <= track.year <= b for a, b in want.get("eras_out", [])):
        return False
    if want.get("vocals") == "instrumental" and not _instrumental(track):
        return False
    if want.get("vocals") == "vocals" and not _vocal(track):
        return False
    artist = (track.artist or "").casefold()
    if artist in want.get("artists_out", []) or (want.get("artists") and artist not in want["artists"]):
        return False
    return True


def deliverable(tracks, shown: set[str], named: list[str]) -> int:
    """How many of `tracks` a list can hold: not shown before in the session, at most two per artist."""
    per_artist = Counter()
    count = 0
    for track in tracks:
        if track.id in shown:
            continue
        key = (track.artist or "").casefold()
        if key and key not in named and per_artist[key] >= 2:
            continue
        per_artist[key] += 1
        count += 1
    return count


def test_there_are_enough_conversations():
    assert len(CONVERSATIONS) >= 60
    assert sum(len(turns) >= 3 for turns, _ in CONVERSATIONS) >= 12


@pytest.mark.parametrize("turns, want", CONVERSATIONS, ids=[" / ".join(t) for t, _ in CONVERSATIONS])
def test_the_last_turn_honours_every_hard_constraint(turns, want, demo_catalog, tmp_path):
    agent = Agent(catalog=demo_catalog, chat=scripted(), checkpoint=tmp_path / "s.sqlite")
    index = demo_catalog.index()
    shown: set[str] = set()  # the session does not repeat what it showed, "start over" or not
    last: list[str] = []
    try:
        for text in turns[:-1]:
            last = [t["id"] for t in agent.say(text, "c").tracks]
            shown |= set(last)
        result = agent.say(turns[-1], "c")
    finally:
        agent.close()
    picks = [index.get(t["id"]) for t in result.tracks]
    broken = [f"{t.title} / {t.artist} ({t.year}, {t.genre}, {t.tags})" for t in picks if not fits(t, want)]
    assert not broken, f"picks that break {want}: {broken}"
    feasible = [t for t in map(index.track, range(len(index))) if fits(t, want) and t.id not in shown]
    # a last turn that only tightens the list ("no metal", "only before 1985") keeps what of it still fits, first
    kept = [] if want.get("fresh") else [t for t in map(index.get, last) if fits(t, want)][:K]
    assert [t.id for t in picks[:len(kept)]] == [t.id for t in kept], "the picks on screen that still fit stay"
    expected = min(K, deliverable(kept + feasible, set(), want.get("artists", [])))
    assert len(picks) == expected, f"{len(picks)} picks, {expected} feasible: {result.reply[:300]}"
    first_line = result.reply.split("\n")[0]
    assert first_line.startswith("Nothing in the catalog fits") == (expected == 0), result.reply[:200]
    assert first_line.startswith("Only ") == (0 < expected < K), result.reply[:200]
