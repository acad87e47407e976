"""The parser against the frozen set: 171 requests whose constraints were written by hand before the parser
(tests/data/understand_frozen.jsonl). Exact match on field, polarity and value of everything stated; included
moods are soft and left to the mood model, so they are not compared. Fast: no Chroma, no model."""

import json

from retrieval.parse import read_constraints
from retrieval.query import ArtistMatcher
from tests.conftest import DEMO_CATALOG, ROOT

FROZEN = [json.loads(line) for line in (ROOT / "tests" / "data" / "understand_frozen.jsonl").open(encoding="utf-8")]


def demo_artists() -> ArtistMatcher:
    names = {}
    for line in DEMO_CATALOG.open(encoding="utf-8"):
        artist = json.loads(line).get("artist")
        if artist:
            names.setdefault(artist.casefold(), artist)
    return ArtistMatcher(names)


def stated(text: str, artists: ArtistMatcher, now: int | None = None) -> set[tuple[str, str, str]]:
    reading = read_constraints(text, artists, now=now or 2026)
    return {t for t in reading.constraints.triples() if not (t[0] == "mood" and t[1] == "include")}


def misses(rows: list[dict], artists: ArtistMatcher) -> list[str]:
    out = []
    for row in rows:
        got, want = stated(row["text"], artists, row.get("now")), {tuple(e) for e in row["expect"]}
        if got != want:
            out.append(f"{row['text']!r}: missing {sorted(want - got)}, extra {sorted(got - want)}")
    return out


def test_the_frozen_set_passes_at_least_95_percent():
    wrong = misses(FROZEN, demo_artists())
    rate = 1 - len(wrong) / len(FROZEN)
    print(f"frozen set: {len(FROZEN) - len(wrong)}/{len(FROZEN)} = {rate:.1%}")
    assert rate >= 0.95, "\n".join(wrong)


PARAPHRASES = [json.loads(line) for line in
               (ROOT / "tests" / "data" / "understand_paraphrases.jsonl").open(encoding="utf-8")]


def test_the_paraphrase_suite_passes_at_least_98_percent():
    """410 more requests, English and Chinese, each cue family in wordings of its own (not one template)."""
    assert len(PARAPHRASES) >= 400
    assert not {row["text"] for row in PARAPHRASES} & {row["text"] for row in FROZEN}
    wrong = misses(PARAPHRASES, demo_artists())
    rate = 1 - len(wrong) / len(PARAPHRASES)
    print(f"paraphrases: {len(PARAPHRASES) - len(wrong)}/{len(PARAPHRASES)} = {rate:.1%}")
    assert rate >= 0.98, "\n".join(wrong)
