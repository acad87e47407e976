"""Hard filters and diversity, on a small catalog built for the purpose (real Chroma, real embedder)."""

import pytest

from retrieval import Catalog, Filters, Track
from retrieval.search import diversify

pytestmark = pytest.mark.integration


@pytest.fixture
def small(tmp_path, embedder):
    path = tmp_path / "small.jsonl"
    rows = []
    for artist in ("Alpha", "Beta", "Gamma"):
        for i in range(5):
            rows.append(Track(id=f"{artist.lower()}-{i}", title=f"{artist} Rain Song {i}", artist=artist,
                              genre="rock" if artist != "Gamma" else "jazz", year=1970 + 10 * i,
                              energy=0.1 + 0.2 * i, moods=["calm"] if i < 2 else ["energetic"],
                              description="A song about rain and long evenings."))
    path.write_text("\n".join(r.model_dump_json() for r in rows) + "\n")
    catalog = Catalog("small", embedder=embedder)
    catalog.ingest([path], progress=False)
    return catalog


def test_genre_year_energy_and_exclusions(small):
    hits = small.search("rain song", k=15, filters=Filters(genres=("jazz",)), max_per_artist=None)
    assert hits and all(h.track.genre == "jazz" for h in hits)
    hits = small.search("rain song", k=15, filters=Filters(year_min=1980, year_max=1999), max_per_artist=None)
    assert {h.track.year for h in hits} == {1980, 1990}
    hits = small.search("rain song", k=15, filters=Filters(energy_max=0.35), max_per_artist=None)
    assert hits and all(h.track.energy <= 0.35 for h in hits)
    hits = small.search("rain song", k=15, max_per_artist=None,
                        filters=Filters(exclude_ids=frozenset({"alpha-0"}), exclude_artists=frozenset({"beta"})))
    assert "alpha-0" not in {h.track.id for h in hits} and all(h.track.artist != "Beta" for h in hits)


def test_an_era_in_the_text_is_hard_and_never_padded_from_other_years(small):
    hits = small.search("rain songs from before 1985", k=6, max_per_artist=None)
    assert len(hits) == 6 and all(h.track.year <= 1984 for h in hits)
    more = small.search("rain songs from before 1985", k=10, max_per_artist=None)
    assert len(more) == 6 and all(h.track.year <= 1984 for h in more)  # only 6 there: 6 come back
    newer = small.search("nothing older than 1990", k=15, max_per_artist=None)
    assert {h.track.year for h in newer} == {1990, 2000, 2010}
    assert 1980 not in {h.track.year for h in small.search("rain, but none from the 80s", k=15, max_per_artist=None)}


def test_refused_genres_and_moods_never_come_back_and_leave_the_search(small):
    hits = small.search("keep the rock out of it", k=15, max_per_artist=None)
    assert hits and all(h.track.genre == "jazz" for h in hits)
    hits = small.search("rain songs, anything apart from jazz", k=15, max_per_artist=None)
    assert len(hits) == 10 and all(h.track.genre == "rock" for h in hits)
    assert all("calm" not in h.track.moods for h in small.search("nothing calm", k=15, max_per_artist=None))


def test_at_most_two_per_artist_unless_asked(small):
    hits = small.search("rain song", k=10)
    per_artist = {}
    for hit in hits:
        per_artist[hit.track.artist] = per_artist.get(hit.track.artist, 0) + 1
    assert len(hits) == 6 and max(per_artist.values()) == 2
    assert len(small.search("rain song", k=10, max_per_artist=None)) == 10
    named = small.search("songs by Gamma", k=6)
    assert sum(h.track.artist == "Gamma" for h in named) == 5


def test_diversify_skips_the_same_song_twice():
    a = Track(id="1", title="Song", artist="X")
    b = Track(id="2", title="song", artist="x")
    chosen = diversify([(1.0, a, None), (0.9, b, None)], k=5, max_per_artist=2)
    assert [t.id for _, t, _ in chosen] == ["1"]


def test_reingest_is_idempotent_and_skips_unchanged(small, tmp_path):
    source = tmp_path / "small.jsonl"
    again = small.ingest([source], progress=False)
    assert (again.added, again.updated, again.unchanged, again.total) == (0, 0, 15, 15)
    edited = source.read_text().replace('"Alpha Rain Song 0"', '"Alpha Rain Song Zero"')
    source.write_text(edited)
    changed = small.ingest([source], progress=False)
    assert (changed.updated, changed.total) == (1, 15)
    assert small.get("alpha-0").title == "Alpha Rain Song Zero"


def test_reset_with_a_wrong_file_keeps_what_is_stored(small, tmp_path):
    from retrieval import CatalogError

    wrong = tmp_path / "wrong.csv"
    wrong.write_text("name,singer\nx,y\n")
    with pytest.raises(CatalogError, match="missing column"):
        small.ingest([wrong], reset=True, progress=False)
    assert small.count() == 15


def test_reset_rebuilds(small, tmp_path):
    only = tmp_path / "one.jsonl"
    only.write_text(Track(id="solo", title="Solo").model_dump_json() + "\n")
    report = small.ingest([only], reset=True, progress=False)
    assert report.total == 1 and small.count() == 1 and len(small.index()) == 1


def test_lexical_search_does_not_depend_on_earlier_queries():
    """Regression: the first query once fixed the tokenizer's vocabulary, so later queries lost their new words."""
    from retrieval.lexical import LexicalIndex

    tracks = [Track(id="a", title="Locked Out of Heaven", artist="Bruno Mars"),
              Track(id="b", title="Cry Me a River", artist="Justin Timberlake"),
              Track(id="c", title="Cleaning Day", artist="Somebody")]
    index = LexicalIndex.build(tracks)
    index.search("a playlist for cleaning", 3)
    assert [index.ids[row] for row, _ in index.search("bruno mars", 3)] == ["a"]
    again = LexicalIndex.build(tracks)
    assert [again.ids[row] for row, _ in again.search("bruno mars", 3)] == ["a"]


def test_a_genre_filter_finds_the_genre_in_tags_too(demo_catalog):
    tagged = [t for t in map(demo_catalog.index().track, range(len(demo_catalog.index())))
              if "synth-pop" in t.tags or t.genre == "synth-pop"]
    assert len(tagged) >= 10 and any(t.genre != "synth-pop" for t in tagged)
    hits = demo_catalog.search("songs", k=10, filters=Filters(genres=("synth-pop",)), max_per_artist=None)
    assert len(hits) == 10 and all("synth-pop" in h.track.tags or h.track.genre == "synth-pop" for h in hits)


def test_placeholder_artists_do_not_count_towards_the_cap(tmp_path, embedder):
    path = tmp_path / "anon.jsonl"
    names = ("Unknown artist", "Various Artists", "unknown")
    rows = [Track(id=f"t{i}", title=f"Field recording {i}", artist=names[i % 3],
                  description=f"A calm ambient piece with soft pads, number {i}.") for i in range(15)]
    path.write_text("\n".join(r.model_dump_json() for r in rows) + "\n")
    catalog = Catalog("anon", embedder=embedder)
    catalog.ingest([path], progress=False)
    assert len(catalog.search("calm ambient music", k=10)) == 10
