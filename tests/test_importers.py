import json

import pytest

from retrieval.errors import CatalogError
from retrieval.importers import detect_format, read_source


def _split(rows):
    good = [r.track for r in rows if r.track]
    bad = [str(r.bad) for r in rows if r.bad]
    return good, bad


def test_jsonl_names_each_bad_row_with_its_line(tmp_path):
    path = tmp_path / "mixed.jsonl"
    lines = [
        json.dumps({"id": "a", "title": "Good One", "energy": 0.4}).encode(),
        b"",
        json.dumps({"title": "No Id"}).encode(),
        b"{not json",
        json.dumps({"id": "b", "title": "Wrong Type", "year": "last year"}).encode(),
        b'{"id": "c", "title": "Broken \xff\xfe encoding"}',
        json.dumps({"id": "a", "title": "Duplicate"}).encode(),
        json.dumps(["a", "list"]).encode(),
        json.dumps({"id": "d", "title": "Good Two", "tags": ["x"]}).encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    good, bad = _split(list(read_source(path)))
    assert [t.id for t in good] == ["a", "d"]
    assert bad == [
        f"{path}:3: missing id",
        f"{path}:4: not valid JSON (Expecting property name enclosed in double quotes)",
        f"{path}:5: year: Input should be a valid integer, unable to parse string as an integer (got 'last year')",
        f"{path}:6: not valid UTF-8 (broken encoding)",
        f"{path}:7: duplicate id 'a' (first at line 1)",
        f"{path}:8: expected a JSON object",
    ]


def test_csv_counts_the_header_as_line_one(tmp_path):
    path = tmp_path / "tracks.csv"
    path.write_bytes(
        b"id,title,artist,year,tags\n"
        b"1,First,Someone,1999,\"rock, indie\"\n"
        b",Missing Id,Someone,2000,\n"
        b"3,\"Multi\nline title\",Someone,2001,\n"
        b"4,Bad Year,Someone,20x1,\n"
        b"5,Bad \xff Bytes,Someone,2002,\n"
        b"6,Too,Many,2003,x,extra\n"
        b"7,Last,Someone,2004,\n")
    good, bad = _split(list(read_source(path)))
    assert [t.id for t in good] == ["1", "3", "7"]
    assert good[0].tags == ["rock", "indie"] and good[1].title == "Multi line title"
    assert [b.split(": ", 1)[0] for b in bad] == [f"{path}:3", f"{path}:6", f"{path}:7", f"{path}:8"]


def test_csv_without_required_columns_is_one_clear_error(tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("name,singer\nx,y\n")
    with pytest.raises(CatalogError, match="missing column"):
        list(read_source(path))


def test_unknown_inputs(tmp_path):
    with pytest.raises(CatalogError, match="no such file"):
        list(read_source(tmp_path / "nope.jsonl"))
    (tmp_path / "x.bin").write_bytes(b"\0\1")
    with pytest.raises(CatalogError, match="pass --format"):
        detect_format(tmp_path / "x.bin")
    with pytest.raises(CatalogError, match="unknown format"):
        list(read_source(tmp_path / "x.bin", "xml"))


def test_freemusicc_real_files(shared):
    rows = list(read_source(shared / "freemusicc"))
    good, bad = _split(rows)
    assert len(good) >= 21_000
    assert len({t.id for t in good}) == len(good)
    assert any("missing title" in b for b in bad) and any("duplicate id" in b for b in bad)
    first = good[0]
    assert first.source == "freemusi.cc" and first.license.startswith("http://creativecommons.org/")
    assert first.audio_url.startswith("http") and first.audio_url.endswith(".mp3")
    energies = {t.energy for t in good if t.energy is not None}
    assert min(energies) < 0.3 and max(energies) > 0.8  # activity 1..3 spans the energy scale
    assert sum(1 for t in good if t.year) > 20_000 and sum(1 for t in good if t.genre) > 20_000
    ambient = [t for t in good if "ambient" in t.tags]
    assert ambient and all("calm" in t.moods for t in ambient)  # moods inferred from style tags


def test_cpcd_real_tracks(shared):
    good, bad = _split(list(read_source(shared / "cpcd" / "tracks.jsonl")))
    assert len(good) == 8850 and not bad
    eilish = next(t for t in good if t.id == "s_IwrqvM618")
    assert eilish.artist == "Billie Eilish" and eilish.album.startswith("WHEN WE ALL FALL ASLEEP")


def test_musiccaps_real_captions(shared):
    good, bad = _split(list(read_source(shared / "musiccaps" / "musiccaps.dev.csv")))
    assert len(good) == 4000 and not bad
    assert all(t.description and t.tags for t in good[:50])
    assert good[0].audio_url.startswith("https://www.youtube.com/watch?v=")


def test_demo_catalog_is_clean_and_wide():
    from tests.conftest import DEMO_CATALOG

    good, bad = _split(list(read_source(DEMO_CATALOG)))
    assert not bad and len(good) >= 400
    assert len({t.genre for t in good}) >= 15
    assert {t.year // 10 * 10 for t in good} >= {1950, 1960, 1970, 1980, 1990, 2000, 2010, 2020}
    assert all(t.artist and t.moods and t.energy is not None and t.valence is not None and t.tempo_bpm
               and t.description for t in good)
