"""A reference ("something like Bon Iver", "music like Take Five", "more like #2") ranks by what the reference is
(its genre, moods, energy, description neighbours) before the request's other words, and a modifier ("but less
sleepy", "but calmer") moves the target without leaving the reference's neighbourhood. Over the demo catalog,
with hand-written expectations: the genres or style words the picks should share with the reference, what may
not come back (the reference itself, title look-alikes; an artist named as the reference at most once), and which
way a modifier moves energy or valence. Real Chroma and embedder, a scripted model."""

from __future__ import annotations

from statistics import mean

import pytest

from agent.graph import Agent
from tests.fakes import scripted

pytestmark = pytest.mark.integration

# (turns, the reference track ids or artist, the genres/style words the neighbourhood shares, modifier)
# modifier: (field, way, strict): strict means every pick is past the reference's own mean, else the mean is
CASES = [
    (["something like Bon Iver"], {"artist": "bon iver"}, {"indie", "folk"}, None),
    (["something like Bon Iver but less sleepy"], {"artist": "bon iver"}, {"indie", "folk"}, ("energy", 1, True)),
    (["music like Take Five"], {"ids": ["the-dave-brubeck-quartet--take-five"]}, {"jazz"}, None),
    (["something like Take Five but calmer"], {"ids": ["the-dave-brubeck-quartet--take-five"]}, {"jazz"},
     ("energy", -1, True)),
    (["songs like Hurt by Johnny Cash"], {"ids": ["johnny-cash--hurt"], "artist": "johnny cash"}, {"country"}, None),
    (["something like Radiohead"], {"artist": "radiohead"}, {"rock", "indie", "alternative"}, None),
    (["something like Radiohead but more upbeat"], {"artist": "radiohead"}, {"rock", "indie", "alternative"},
     ("energy", 1, True)),
    (["tracks similar to Holocene"], {"ids": ["bon-iver--holocene"]}, {"indie", "folk"}, None),
    (["something like Holocene but happier"], {"ids": ["bon-iver--holocene"]}, {"indie", "folk"},
     ("valence", 1, False)),
    (["music like Daft Punk"], {"artist": "daft punk"}, {"electronic", "dance", "house"}, None),
    (["something like Bob Marley"], {"artist": "bob marley & the wailers"}, {"reggae"}, None),
    (["songs like Metallica"], {"artist": "metallica"}, {"metal", "rock"}, None),
    (["something like So What by Miles Davis, but livelier"], {"ids": ["miles-davis--so-what"],
                                                                "artist": "miles davis"}, {"jazz"},
     ("energy", 1, True)),
    (["rainy evening jazz", "more like #1"], {"position": 1}, {"jazz"}, None),
]


def _styles(track) -> set[str]:
    words = {w for w in (track.genre, *track.tags) if w}
    return words | {part for w in words for part in w.replace("-", " ").split()}


@pytest.mark.parametrize("turns, reference, shared, modifier", CASES, ids=[" / ".join(c[0]) for c in CASES])
def test_a_reference_ranks_by_what_it_is(turns, reference, shared, modifier, demo_catalog, tmp_path):
    index = demo_catalog.index()
    agent = Agent(catalog=demo_catalog, chat=scripted(), checkpoint=tmp_path / "s.sqlite")
    try:
        before = []
        for text in turns[:-1]:
            before = [index.get(t["id"]) for t in agent.say(text, "c").tracks]
        picks = [index.get(t["id"]) for t in agent.say(turns[-1], "c").tracks]
    finally:
        agent.close()
    assert len(picks) == 6
    ids = list(reference.get("ids", []))
    if "position" in reference:
        ids = [before[reference["position"] - 1].id]
    artist = reference.get("artist")
    references = [index.get(i) for i in ids] or [t for t in map(index.track, range(len(index)))
                                                   if t.artist_key == artist]
    assert references, reference
    labels = [f"{t.title} / {t.artist} ({t.genre}, {t.tags}, e={t.energy}, v={t.valence})" for t in picks]
    assert not {t.id for t in picks} & {t.id for t in references}, f"a reference came back: {labels}"
    if artist:  # near them, not them: one of theirs at most
        assert len([t for t in picks if t.artist_key == artist]) <= 1, f"the reference's artist, again: {labels}"
    title_words = {w.casefold() for t in references for w in t.title.split() if len(w) > 2}
    look_alikes = [t for t in picks if {w.casefold() for w in t.title.split()} & title_words
                   and not _styles(t) & shared]
    assert not look_alikes, f"picked for a word of the title, not for what the reference is: {labels}"
    near = [t for t in picks if _styles(t) & shared and t.artist_key != artist]
    assert len(near) >= 4, f"fewer than 4 of 6 share {shared} with the reference: {labels}"
    if modifier:
        field, way, strict = modifier
        own = mean(getattr(t, field) for t in references)
        values = [getattr(t, field) for t in picks]
        moved = all((v - own) * way > 0 for v in values) if strict else (mean(values) - own) * way > 0
        assert moved, f"{field} not {'above' if way > 0 else 'below'} the reference's {own:.2f}: {labels}"
