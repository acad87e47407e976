"""A catalog of plain descriptions: MusicCaps captions rewritten to JSONL with an id and a description only (no
title, artist, genre, year or tags), ingested and searched through the real `encore` entry point."""

import csv
import itertools
import json

import pytest

from retrieval.filters import Filters
from retrieval.records import Track
from tests.conftest import run_cli

pytestmark = pytest.mark.integration

ROWS = 800  # of the 4,000 dev captions: enough for every query below to have ten good answers


@pytest.fixture
def captions(shared, tmp_path, capsys):
    path = tmp_path / "captions.jsonl"
    with (shared / "musiccaps" / "musiccaps.dev.csv").open(newline="", encoding="utf-8") as handle:
        rows = [{"id": row["ytid"], "description": row["caption"]}
                for row in itertools.islice(csv.DictReader(handle), ROWS)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    code, out, err = run_cli(["ingest", str(path), "--collection", "captions"], capsys)
    assert code == 0, err
    assert f"{ROWS} added" in out
    return {r["id"]: r["description"] for r in rows}


@pytest.mark.parametrize("request_text, refused", [
    ("calm piano music for reading", None),
    ("energetic rock with loud drums", None),
    ("something to dance to at a party", None),
    ("relaxing music, no vocals please", "vocals"),
    ("upbeat songs but nothing with a guitar", "guitar"),
    ("sad slow songs, anything except piano", "piano"),
    ("hip hop beats without any rap", "rap"),
])
def test_ten_tracks_from_descriptions_alone(captions, capsys, request_text, refused):
    code, out, err = run_cli(["recommend", request_text, "--collection", "captions", "--k", "10", "--json"], capsys)
    assert code == 0, err
    tracks = json.loads(out)["tracks"]
    assert len(tracks) == 10 and len({t["id"] for t in tracks}) == 10
    assert all(t["id"] in captions for t in tracks)
    if refused == "vocals":  # no description that speaks of a voice
        assert all(Filters(vocals="instrumental").admits(Track(id=t["id"], description=captions[t["id"]]))
                   for t in tracks)
    elif refused:  # a refused instrument is not featured ("no guitar" in a description would be fine)
        blocked = Filters(exclude_styles=frozenset({refused}))
        assert all(blocked.admits(Track(id=t["id"], description=captions[t["id"]])) for t in tracks)
