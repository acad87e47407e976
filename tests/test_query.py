import pytest

from retrieval.query import ArtistMatcher, read_request


@pytest.mark.parametrize("text, era", [
    ("90s hip-hop", (1990, 1999)), ("songs from the 1980s", (1980, 1989)), ("nineties rock", (1990, 1999)),
    ("80年代的摇滚", (1980, 1989)), ("only before 2000", (None, 1999)), ("after 2010", (2011, None)),
    ("since 2015", (2015, None)), ("between 1975 and 1985", (1975, 1985)), ("'70s soul", (1970, 1979)),
    ("1979 by the smashing pumpkins", (None, None)), ("the 2010s", (2010, 2019)), ("happy songs", (None, None)),
    ("nothing older than 1990", (1990, None)), ("songs from 1999", (1999, 1999)), ("from 1995 on", (1995, None)),
])
def test_era(text, era):
    request = read_request(text)
    assert (request.year_min, request.year_max) == era


def test_genres_instrumental_and_artists():
    request = read_request("late-night coding, no vocals, some lo-fi hip hop like Nujabes",
                           ArtistMatcher({"nujabes": "Nujabes", "abba": "ABBA"}))
    assert "hip-hop" in request.genres and "lo-fi" in request.genres
    assert request.instrumental
    assert request.artists == ("nujabes",)
    assert "instrumental" in request.search_text()


def test_chinese_request_gains_english_search_words():
    request = read_request("我今天很伤感")
    assert "sad" in request.search_text()


def test_artist_names_match_whole_words_and_short_ones_need_a_capital():
    artists = ArtistMatcher({"eve": "Eve", "air": "Air", "ac/dc": "AC/DC", "radiohead": "Radiohead"})
    assert read_request("a long evening walk", artists).artists == ()
    assert read_request("music floating in the air", artists).artists == ()
    assert read_request("something like Air, but darker", artists).artists == ("air",)
    assert read_request("more ac dc and radiohead please", artists).artists == ("ac/dc", "radiohead")


def test_negated_genres_are_not_asked_for():
    assert read_request("anything but no country").genres == ()


def test_refused_words_are_not_searched_for():
    request = read_request("energetic songs, keep the metal out of it")
    assert "metal" not in request.search_text() and request.constraints.excluded("genre") == ["metal"]
    assert read_request("road trip music, anything apart from country").genres == ()
    assert "country" not in read_request("road trip music, anything apart from country").search_text()
    plain = read_request("calm piano for a rainy evening")
    assert plain.search_text().startswith("calm piano for a rainy evening")
