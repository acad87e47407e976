"""The claim checker against the hand-labelled SmolLM2 sentences in tests/data/claims/labelled.jsonl (labelled
before the checker was tuned; see that folder's README): it must catch at least 95% of the unsupported sentences
and wrongly reject at most 30% of the supported ones. Fast: no model, no Chroma."""

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from retrieval.claims import ClaimChecker
from retrieval.plans import Point

LABELLED = Path(__file__).parent / "data" / "claims" / "labelled.jsonl"
ALL = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]
# a sentence cut off by the token limit never reaches the checker (the writer keeps finished sentences only)
ROWS = [row for row in ALL if not row.get("truncated")]


def point_of(row: dict) -> Point:
    facts = tuple(re.findall(r"(?m)^- ([^:\n]+): (.*)$", row["facts"]))
    return Point(row["kind"], facts, tuple(row["names"]))


def judged() -> list[tuple[dict, bool]]:
    checker = ClaimChecker()
    return [(row, checker.judge(row["sentence"], point_of(row)).ok) for row in ROWS]


def test_the_labelled_set_is_big_enough_and_covers_every_kind():
    assert len(ALL) >= 300 and len(ROWS) >= 300
    labels = Counter(r["label"] for r in ROWS)
    assert set(labels) == {"supported", "unsupported"}
    kinds = {r["kind"] for r in ROWS}
    assert {"identity", "sound", "described", "feeling", "listener", "neighbours", "verdict", "remark"} <= kinds
    assert all(r["reason"] for r in ROWS if r["label"] == "unsupported")


def test_the_checker_catches_the_unsupported_and_keeps_the_supported():
    results = judged()
    unsupported = [ok for row, ok in results if row["label"] == "unsupported"]
    supported = [ok for row, ok in results if row["label"] == "supported"]
    caught = sum(not ok for ok in unsupported) / len(unsupported)
    wrongly = sum(not ok for ok in supported) / len(supported)
    missed = [row["sentence"] for row, ok in results if row["label"] == "unsupported" and ok]
    assert caught >= 0.95, f"caught {caught:.3f}; missed e.g. {missed[:5]}"
    assert wrongly <= 0.30, f"rejected {wrongly:.3f} of {len(supported)} supported sentences"


@pytest.mark.parametrize("reason", ["name", "number", "self", "garbled"])
def test_each_kind_of_error_is_mostly_caught(reason):
    results = [(row, ok) for row, ok in judged() if row["reason"] == reason]
    if len(results) < 10:
        pytest.skip(f"only {len(results)} sentences with reason {reason}")
    assert sum(not ok for _, ok in results) / len(results) >= 0.8  # invented stories are the hardest to see


@pytest.mark.parametrize("sentence, ok", [
    ("Myth runs 4 minutes of dream pop.", True),  # 4:31 is four minutes and some
    ("Myth is dream pop at 120 BPM.", True),
    ("Myth runs a full 120 minutes of dream pop.", False),  # the 120 of the tempo is no length
    ("A 120-minute dream pop epic.", False),
    ("Myth is dream pop at 4 beats per minute.", False),  # the 4 of the length is no tempo
    ("Myth spends 271 seconds on dream pop.", True),  # 4:31
    ("Myth spends 31 seconds on dream pop.", False),
])
def test_a_number_with_a_unit_needs_the_fact_in_that_unit(sentence, ok):
    point = Point("detail", (("title", "Myth"), ("length", "4:31"), ("tempo", "120 BPM"), ("genre", "dream pop")),
                  ("Myth",))
    assert ClaimChecker().judge(sentence, point).ok is ok


THEME_FACTS = (("title", "Peggy Sue"), ("artist", "Buddy Holly"), ("genre", "rock and roll"), ("tempo", "148 BPM"))


@pytest.mark.parametrize("sentence, facts, ok", [
    ("The track is a song about a young woman at a ballroom dance.", THEME_FACTS, False),  # a theme invented
    ("It is a song about relaxation.", THEME_FACTS, False),
    ("The recording is all about the rock and roll of its day.", THEME_FACTS, True),  # the facts hold its words
    ("The song is about getting out of jail.", THEME_FACTS, False),
    ("It is a song about a young woman at a dance.",
     THEME_FACTS + (("lyrics (opening)", "If you knew Peggy Sue, then you'd know why I feel blue"),), True),
    ("It moves at about 148 BPM, rock and roll through and through.", THEME_FACTS, True),  # "about" a number
    ("Write a story about a rock and roll fan who hears Peggy Sue.", THEME_FACTS, False),  # the task echoed
    ("Describe the rock and roll of Peggy Sue in one line.", THEME_FACTS, False),
])
def test_a_theme_needs_words_a_person_wrote_and_an_instruction_is_no_sentence(sentence, facts, ok):
    point = Point("neighbours", facts, ("Peggy Sue", "Buddy Holly"))
    assert ClaimChecker().judge(sentence, point).ok is ok
