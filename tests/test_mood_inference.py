"""Mood inference with the real parts: MusicCaps captions as a description-only catalog ingested through the real
`encore` entry point (packaged embedder, real Chroma), and `encore eval moods` on the shared captions."""

import csv
import itertools
import json

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.integration

ROWS = 300


@pytest.fixture
def captions(shared, tmp_path):
    path = tmp_path / "captions.jsonl"
    with (shared / "musiccaps" / "musiccaps.dev.csv").open(newline="", encoding="utf-8") as handle:
        rows = [{"id": r["ytid"], "description": r["caption"]} for r in itertools.islice(csv.DictReader(handle), ROWS)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _recommend(capsys, collection: str, text: str) -> list[dict]:
    code, out, err = run_cli(["recommend", text, "--collection", collection, "--k", "10", "--json"], capsys)
    assert code == 0, err
    return json.loads(out)["tracks"]


def test_a_description_only_catalog_shows_inferred_moods_and_says_so(captions, capsys):
    code, out, err = run_cli(["ingest", str(captions), "--collection", "described"], capsys)
    assert code == 0 and f"{ROWS} added" in out, err
    code, out, _ = run_cli(["ingest", str(captions), "--collection", "described"], capsys)
    assert code == 0 and f"{ROWS} unchanged" in out  # inferring again would change nothing: nothing is redone
    for request, mood in (("calm piano music for reading", "calm"), ("something sad and slow", "sad")):
        tracks = _recommend(capsys, "described", request)
        assert len(tracks) == 10
        assert all(t["moods"] == [] for t in tracks)  # the contract's moods stay the source's (none here)
        read = [t for t in tracks if any(m["mood"] == mood for m in t.get("inferred_moods", []))]
        assert len(read) >= 5, [t.get("inferred_moods") for t in tracks]
        for track in read:
            assert all(0 < m["confidence"] <= 1 for m in track["inferred_moods"])
            assert all(w.casefold() in track["description"].casefold() for w in track["mood_evidence"])
            assert track["mood_source"] == "description" and 0 <= track["inferred_energy"] <= 1
        assert any(f"description reads as {mood}" in t["why"] or f"reads as {mood} and" in t["why"] for t in read)
        assert all("reads as" not in t["why"] for t in tracks if not t.get("inferred_moods"))


def test_no_infer_stores_no_inferred_moods(captions, capsys):
    code, out, err = run_cli(["ingest", str(captions), "--collection", "plain", "--no-infer"], capsys)
    assert code == 0 and f"{ROWS} added" in out, err
    tracks = _recommend(capsys, "plain", "calm piano music for reading")
    assert len(tracks) == 10
    assert not any(k.startswith(("inferred", "mood_")) for t in tracks for k in t)
    assert not any("reads as" in t["why"] for t in tracks)
    code, out, _ = run_cli(["ingest", str(captions), "--collection", "plain"], capsys)  # now with inference
    assert code == 0 and f"{ROWS} updated" in out
    assert any(t.get("inferred_moods") for t in _recommend(capsys, "plain", "calm piano music for reading"))


def test_eval_moods_beats_the_better_baseline_by_the_bar(shared, capsys, encore_home):
    code, out, err = run_cli(["eval", "moods", "--captions", str(shared / "musiccaps" / "musiccaps.dev.csv")],
                             capsys)
    assert code == 0, err
    # the caption table's rows: | lexicon (baseline) | clips | macro-F1 | ...
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in out.splitlines() if line.startswith("| ")]
    f1 = {row[0].split()[0]: float(row[2]) for row in cells if row[0].endswith(("(baseline)", "(chosen)"))}
    assert set(f1) == {"lexicon", "prototype", "classifier"}
    assert f1["classifier"] >= 1.2 * max(f1["lexicon"], f1["prototype"]), out
    assert "demo lyrics" in out and "demo comments" in out and "left out:" in out
    assert (encore_home / "reports" / "moods.png").stat().st_size > 10_000

