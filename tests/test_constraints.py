"""The constraint model, and the frozen set of hand-labelled utterances that the understanding parser will be
measured on (tests/data/understand_frozen.jsonl, written before the parser). Fast: no Chroma, no model."""

import json
import re

import pytest

from retrieval.constraints import Constraints, Move, Term, YearRange
from retrieval.mood import vocabulary
from retrieval.query import GENRE_WORDS
from tests.conftest import DEMO_CATALOG, ROOT

FROZEN = [json.loads(line) for line in (ROOT / "tests" / "data" / "understand_frozen.jsonl").open(encoding="utf-8")]
ARTISTS = {json.loads(line).get("artist", "").casefold() for line in DEMO_CATALOG.open(encoding="utf-8")}
GENRES = {words[0] for words in GENRE_WORDS.values()} | {"dancehall"}
FIELDS = {"genre", "style", "artist", "mood", "language", "era", "vocals", "move", "count", "ref", "similar"}


def test_triples_flatten_every_kind_of_constraint():
    c = Constraints(terms=[Term(field="genre", value="metal", polarity="exclude", words="no metal"),
                           Term(field="artist", value="adele")],
                    era=YearRange(low=1990, words="nothing older than 1990"),
                    excluded_eras=[YearRange(low=1960, high=1969)], vocals="instrumental",
                    moves=[Move(field="energy", direction=1)], count=8, refs=[2], similar_artists=["bon iver"])
    assert c.triples() == {("genre", "exclude", "metal"), ("artist", "include", "adele"), ("era", "include", "1990-"),
                           ("era", "exclude", "1960-1969"), ("vocals", "include", "instrumental"),
                           ("move", "include", "energy+"), ("count", "include", "8"), ("ref", "include", "2"),
                           ("similar", "include", "bon iver")}
    assert c.excluded("genre") == ["metal"] and c.included("artist") == ["adele"]


def test_year_ranges_are_inclusive_with_open_ends():
    assert YearRange(low=1990, high=1999).admits(1990) and YearRange(low=1990, high=1999).admits(1999)
    assert not YearRange(low=1990).admits(1989) and YearRange(high=1989).admits(1950)
    assert not YearRange(low=1990).admits(None)  # an unknown year fails a hard era


def test_the_frozen_set_is_large_varied_and_well_formed():
    assert len(FROZEN) >= 150 and len({row["text"] for row in FROZEN}) == len(FROZEN)
    assert sum(bool(re.search(r"[\u4e00-\u9fff]", row["text"])) for row in FROZEN) >= 12
    for row in FROZEN:
        for field, polarity, value in row["expect"]:
            assert field in FIELDS and polarity in ("include", "exclude"), row
            if field == "genre":
                assert value in GENRES, row
            elif field == "mood":
                assert value in vocabulary() and polarity == "exclude", row  # included moods are soft
            elif field in ("artist", "similar"):
                assert value in ARTISTS, row
            elif field == "era":
                low, high = value.split("-")
                assert (low or high) and (not (low and high) or int(low) <= int(high)), row
            elif field == "language":
                assert re.fullmatch(r"[a-z]{2}", value), row


@pytest.mark.parametrize("family, minimum", [("genre", 40), ("style", 15), ("artist", 12), ("era", 35),
                                             ("vocals", 10), ("move", 12), ("count", 4), ("ref", 4)])
def test_each_family_is_well_represented(family, minimum):
    assert sum(any(e[0] == family for e in row["expect"]) for row in FROZEN) >= minimum
