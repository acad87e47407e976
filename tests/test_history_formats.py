"""Listening-history readers: every export shape in tests/data/history, zips built here, and the errors."""

import json
import random
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.listening.history import FORMATS, Play, read_history
from retrieval.errors import HistoryError

DATA = Path(__file__).parent / "data" / "history"


def _read(name: str, fmt: str = "auto"):
    return read_history([DATA / name], fmt)


def _fields(play: Play) -> tuple:
    return play.artist, play.title, play.played_at, play.album, play.ms_played, play.skipped, play.score, play.kind


def _at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(("name", "fmt", "count"), [
    ("listenbrainz.jsonl", "listenbrainz", 4),
    ("listenbrainz_minified.json", "listenbrainz", 3),
    ("listenbrainz_api.json", "listenbrainz", 3),
    ("lastfm_scrobbles.csv", "lastfm", 5),
    ("lastfm_ghan.csv", "lastfm", 4),
    ("StreamingHistory_music_0.json", "spotify", 4),
    ("Streaming_History_Audio_2021_0.json", "spotify", 4),
    ("generic.csv", "csv", 5),
])
def test_each_sample_is_detected_and_read(name, fmt, count):
    read = _read(name)
    assert read.formats == {str(DATA / name): fmt}
    assert len(read.plays) == count
    assert all(p.played_at is not None and p.played_at.tzinfo == UTC for p in read.plays)
    assert read_history([DATA / name], fmt).plays == read.plays  # naming the format reads the same


@pytest.mark.parametrize("name", ["listenbrainz.jsonl", "listenbrainz_api.json", "lastfm_scrobbles.csv",
                                  "lastfm_ghan.csv", "StreamingHistory_music_0.json", "generic.csv"])
def test_a_bom_and_crlf_line_endings_change_nothing(tmp_path, name):
    original = _read(name)
    copy = tmp_path / name
    copy.write_bytes(b"\xef\xbb\xbf" + (DATA / name).read_bytes().replace(b"\n", b"\r\n"))
    read = read_history([copy])
    assert [_fields(p) for p in read.plays] == [_fields(p) for p in original.plays]
    assert [p.where.rsplit(":", 1)[1] for p in read.plays] == [p.where.rsplit(":", 1)[1] for p in original.plays]
    assert [b.reason for b in read.bad] == [b.reason for b in original.bad]


def test_listenbrainz_jsonl_fields():
    plays = _read("listenbrainz.jsonl").plays
    assert _fields(plays[0]) == ("Nick Drake", "Pink Moon", _at(2021, 1, 1), "Pink Moon", None, None, None, "listen")
    assert plays[2].artist == "Björk" and plays[2].title == "Jóga"
    assert plays[3].artist == "Crosby, Stills, Nash & Young"
    assert plays[1].where == f"{DATA / 'listenbrainz.jsonl'}:2"


def test_listenbrainz_minified_array_takes_unix_and_iso_times():
    plays = _read("listenbrainz_minified.json").plays
    assert [(p.title, p.played_at) for p in plays] == [
        ("Blue in Green", _at(2021, 1, 31, 14, 22)), ("River Man", _at(2021, 1, 31, 15, 10)),
        ("Hyperballad", _at(2021, 1, 31, 15, 22))]
    assert {p.where for p in plays} == {f"{DATA / 'listenbrainz_minified.json'}:1"}


def test_listenbrainz_api_payload_names_the_line_each_listen_starts_on():
    plays = _read("listenbrainz_api.json").plays
    assert _fields(plays[0]) == ("Crosby, Stills, Nash & Young", "Our House", _at(2022, 1, 1), "Déjà Vu", None,
                                 None, None, "listen")
    assert [p.where.rsplit(":", 1)[1] for p in plays] == ["6", "26", "38"]


def test_lastfm_headerless_keeps_commas_and_quotes_inside_fields():
    plays = _read("lastfm_scrobbles.csv").plays
    assert _fields(plays[0]) == ("Nick Drake", "Pink Moon", _at(2021, 1, 31, 14, 22), "Pink Moon", None, None, None,
                                 "listen")
    assert (plays[1].artist, plays[1].album, plays[1].title) == ("Crosby, Stills, Nash & Young", "Déjà Vu", "Carry On")
    assert (plays[2].title, plays[2].album) == ('"Heroes"', '"Heroes"')
    assert (plays[3].artist, plays[3].album) == ("Björk", None)  # an empty album is no album
    assert plays[4].where == f"{DATA / 'lastfm_scrobbles.csv'}:5"  # no header: the first row is line 1


def test_lastfm_semicolon_export_with_uts():
    plays = _read("lastfm_ghan.csv").plays
    assert _fields(plays[1]) == ("Crosby, Stills, Nash & Young", "Teach Your Children", _at(2021, 1, 31, 14, 2),
                                 "Déjà Vu", None, None, None, "listen")
    assert plays[3].title == "All Blues" and plays[0].where.endswith("lastfm_ghan.csv:2")


def test_spotify_account_data():
    plays = _read("StreamingHistory_music_0.json").plays
    assert _fields(plays[1]) == ("Björk", "Bachelorette", _at(2023, 1, 5, 21, 17), None, 31200, None, None, "listen")
    assert plays[2].artist == "Crosby, Stills, Nash & Young"


def test_spotify_extended_counts_podcasts_and_reads_skips():
    read = _read("Streaming_History_Audio_2021_0.json")
    assert read.skipped_non_music == 1 and read.bad == []
    assert [p.title for p in read.plays] == ["Hoppípolla", "Human Behaviour", "Suite: Judy Blue Eyes", "So What"]
    assert _fields(read.plays[1]) == ("Björk", "Human Behaviour", _at(2021, 3, 1, 12, 35, 40), "Debut", 8120, True,
                                      None, "listen")
    assert read.plays[0].skipped is False
    assert read.plays[2].skipped is True  # skipped is null, but reason_end says the back button ended it
    assert read.plays[3].skipped is False  # null, and the track played to its end


def test_generic_csv_ratings_skips_and_bad_rows():
    read = _read("generic.csv")
    path = DATA / "generic.csv"
    assert [str(b) for b in read.bad] == [f"{path}:5: missing title", f"{path}:6: bad timestamp 'yesterday evening'"]
    by_title = {p.title: p for p in read.plays}
    assert _fields(by_title["Cello Song"]) == ("Nick Drake", "Cello Song", _at(2021, 2, 1, 9, 30), None, None, False,
                                               1.0, "listen")
    assert by_title["Round Midnight"].played_at == _at(2021, 2, 1, 10, 15) and by_title["Round Midnight"].score == 0.5
    assert by_title["All Is Full of Love"].score == -1.0 and by_title["All Is Full of Love"].skipped is True
    assert by_title["All Is Full of Love"].played_at == _at(2021, 2, 1, 10, 30)  # unix seconds
    assert by_title['"Heroes"'].played_at == _at(2021, 2, 2, 19) and by_title['"Heroes"'].score == 1.0
    assert by_title["Flamenco Sketches"].played_at == _at(2021, 2, 3) and by_title["Flamenco Sketches"].skipped


def test_generic_csv_scales_and_times(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("Artist;Track;Timestamp;Rating\n"
                    "Nick Drake;Fruit Tree;1612175400000;10\n"
                    "Björk;Isobel;2021-02-01T10:30:00;0\n"
                    "Miles Davis;Milestones;2021-02-01T11:30:00+02:00;7.5\n"
                    "Miles Davis;Nardis;;dislike\n"
                    "Miles Davis;Jean Pierre;2021-02-02;meh\n", encoding="utf-8")
    read = read_history([path])
    assert [(p.title, p.played_at, p.score) for p in read.plays] == [
        ("Fruit Tree", _at(2021, 2, 1, 10, 30), 1.0), ("Isobel", _at(2021, 2, 1, 10, 30), -1.0),
        ("Milestones", _at(2021, 2, 1, 9, 30), 0.5), ("Nardis", None, -1.0)]
    assert [str(b) for b in read.bad] == [f"{path}:6: rating 'meh' is not a number or a like/dislike word"]
    path.write_text("artist,name,liked\nNick Drake,Hazey Jane I,1\nNick Drake,Day Is Done,-1\nNick Drake,Fly,0\n")
    assert [p.score for p in read_history([path]).plays] == [1.0, -1.0, 0.0]  # already on -1..1


def test_jsonl_bad_lines_are_reported_and_the_good_ones_kept(tmp_path):
    path = tmp_path / "listens.jsonl"
    good = {"listened_at": 1609459200, "track_metadata": {"artist_name": "Nick Drake", "track_name": "Pink Moon"}}
    lines = [json.dumps(good), "", '{"listened_at": 1609459300, "track_metadata": {"artist_name": ""',
             json.dumps({"listened_at": 1609459400, "track_metadata": {"artist_name": "", "track_name": "x"}}),
             json.dumps(["not", "an", "object"]),
             json.dumps({"listened_at": "soon", "track_metadata": {"artist_name": "Björk", "track_name": "Joga"}}),
             json.dumps({**good, "listened_at": 1609459500})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    read = read_history([path])
    assert [p.played_at for p in read.plays] == [_at(2021, 1, 1), _at(2021, 1, 1, 0, 5)]
    assert [str(b) for b in read.bad] == [
        f"{path}:3: not valid JSON (Expecting ',' delimiter)", f"{path}:4: missing artist",
        f"{path}:5: not a JSON object", f"{path}:6: bad timestamp 'soon'"]


def _listen(msid: str, artist: str, title: str, at: int) -> str:
    return json.dumps({"listened_at": at, "recording_msid": msid,
                       "track_metadata": {"artist_name": artist, "track_name": title,
                                          "mbid_mapping": {"recording_mbid": f"mbid-{msid}"}}})


def test_listenbrainz_export_zip_resolves_feedback_through_the_listens(tmp_path):
    archive = tmp_path / "listenbrainz_lucia.zip"
    listens = "\n".join([_listen("m1", "Nick Drake", "Pink Moon", 1609459200),
                         _listen("m2", "Björk", "Hunter", 1609462800)]) + "\n"
    feedback = "\n".join(json.dumps(f) for f in [
        {"recording_msid": "m1", "score": 1, "created": 1609470000},
        {"recording_mbid": "mbid-m2", "score": -1, "created": 1609473600},
        {"recording_msid": "m9", "score": 1, "created": 1609477200}]) + "\n"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("listens/", "")
        z.writestr("listens/2021/1.jsonl", listens)
        z.writestr("feedback.jsonl", feedback)
        z.writestr("user.json", json.dumps({"user_id": 7, "username": "lucia"}))
    read = read_history([archive])
    assert read.formats == {f"{archive}#listens/2021/1.jsonl": "listenbrainz",
                            f"{archive}#feedback.jsonl": "listenbrainz"}
    listened = [p for p in read.plays if p.kind == "listen"]
    marks = [p for p in read.plays if p.kind == "feedback"]
    assert [p.title for p in listened] == ["Pink Moon", "Hunter"]
    assert listened[1].where == f"{archive}#listens/2021/1.jsonl:2"
    assert [(p.artist, p.title, p.score, p.played_at) for p in marks] == [
        ("Nick Drake", "Pink Moon", 1.0, _at(2021, 1, 1, 3)), ("Björk", "Hunter", -1.0, _at(2021, 1, 1, 4))]
    assert [str(b) for b in read.bad] == [f"{archive}#feedback.jsonl:3: feedback for a recording not in the listens"]


def test_a_feedback_file_alone_resolves_against_listens_in_the_same_call(tmp_path):
    feedback = tmp_path / "feedback.jsonl"
    feedback.write_text(json.dumps({"recording_msid": "c1d2e3f4-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "score": 1,
                                    "created": 1609500000}) + "\n")
    read = read_history([feedback, DATA / "listenbrainz.jsonl"])
    assert [(p.kind, p.artist, p.title, p.score) for p in read.plays if p.kind == "feedback"] == [
        ("feedback", "Miles Davis", "So What", 1.0)]
    alone = read_history([feedback])
    assert alone.plays == [] and [b.reason for b in alone.bad] == ["feedback for a recording not in the listens"]


def test_spotify_zip_reads_only_history_members(tmp_path):
    archive = tmp_path / "my_spotify_data.zip"
    audio = (DATA / "Streaming_History_Audio_2021_0.json").read_bytes()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("Spotify Extended Streaming History/Streaming_History_Audio_2021_0.json", audio)
        z.writestr("Spotify Extended Streaming History/Streaming_History_Video_2021.json",
                   json.dumps([{"ts": "2021-03-01T12:00:00Z", "ms_played": 1000, "episode_name": "A video"}]))
        z.writestr("Spotify Extended Streaming History/ReadMeFirst_ExtendedStreamingHistory.pdf", b"%PDF-1.4\x00\x01")
        z.writestr("Spotify Account Data/Userdata.json", json.dumps({"username": "lucia", "country": "DE"}))
        z.writestr("Spotify Account Data/Playlist1.json", json.dumps({"playlists": [{"name": "Sunday", "items": []}]}))
        z.writestr("__MACOSX/Spotify Extended Streaming History/._Streaming_History_Audio_2021_0.json",
                   b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X")
    read = read_history([archive])
    member = f"{archive}#Spotify Extended Streaming History/Streaming_History_Audio_2021_0.json"
    assert read.formats == {member: "spotify"}
    assert len(read.plays) == 4 and read.skipped_non_music == 1 and read.bad == []
    assert read.plays[1].where == f"{member}:25"


def test_an_unpacked_export_folder_reads_like_its_zip(tmp_path):
    folder = tmp_path / "Spotify Account Data"
    folder.mkdir()
    (folder / "StreamingHistory_music_0.json").write_bytes((DATA / "StreamingHistory_music_0.json").read_bytes())
    (folder / "StreamingHistory_podcast_0.json").write_text(json.dumps(
        [{"endTime": "2023-01-05 22:00", "podcastName": "Jazz Stories", "episodeName": "Bitches Brew at 50",
          "msPlayed": 1800000}]))
    (folder / "Userdata.json").write_text("{}")
    read = read_history([folder])
    assert len(read.plays) == 4 and read.skipped_non_music == 1 and len(read.formats) == 2


def test_a_zip_without_history_says_what_it_looked_for(tmp_path):
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("README.md", "# holiday photos\n")
        z.writestr("user.json", "{}")
    with pytest.raises(HistoryError, match=rf"^{archive}: no listening history inside \(looked for .*listens"):
        read_history([archive])


def test_a_damaged_zip_is_one_clear_error(tmp_path):
    archive = tmp_path / "listenbrainz.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("listens.jsonl", "\n".join(_listen(f"m{i}", "Nick Drake", f"Song {i}", 1609459200 + i)
                                               for i in range(200)))
    data = bytearray(archive.read_bytes())
    data[60:400] = bytes(340)  # zero the compressed listens
    archive.write_bytes(bytes(data))
    with pytest.raises(HistoryError, match=rf"^{archive}: a damaged or unreadable zip"):
        read_history([archive])
    archive.write_bytes(b"PK\x03\x04" + bytes(50))
    with pytest.raises(HistoryError, match=rf"^{archive}: a damaged or unreadable zip"):
        read_history([archive])


def test_truncated_json_fails_the_whole_call_naming_the_file():
    truncated = DATA / "truncated.json"
    with pytest.raises(HistoryError) as caught:
        read_history([DATA / "listenbrainz.jsonl", truncated, DATA / "generic.csv"])
    assert str(caught.value).startswith(f"{truncated}: not valid JSON (truncated or corrupt?): Unterminated string")


def test_a_truncated_history_member_of_a_zip_fails_the_call(tmp_path):
    archive = tmp_path / "my_spotify_data.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("Spotify Account Data/StreamingHistory_music_0.json", (DATA / "truncated.json").read_bytes())
    with pytest.raises(HistoryError, match="StreamingHistory_music_0.json: not valid JSON"):
        read_history([archive])


def test_binary_garbage_is_one_clear_error(tmp_path):
    garbage = tmp_path / "listens.json"
    garbage.write_bytes(random.Random(7).randbytes(2048) + b"\x00")
    with pytest.raises(HistoryError, match=rf"^{garbage}: not a text, JSON, CSV or zip file$"):
        read_history([garbage])
    latin1 = tmp_path / "scrobbles.csv"
    latin1.write_bytes("artist,title\nBjörk,Jóga\n".encode("latin-1"))
    with pytest.raises(HistoryError, match=rf"^{latin1}: not a text, JSON, CSV or zip file \(line 2 is not UTF-8"):
        read_history([latin1])


def test_missing_files_and_unknown_formats(tmp_path):
    with pytest.raises(HistoryError, match=rf"^{tmp_path / 'nope.csv'}: no such file$"):
        read_history([DATA / "generic.csv", tmp_path / "nope.csv"])
    with pytest.raises(HistoryError, match="unknown history format 'itunes'; choose one of auto, listenbrainz"):
        read_history([DATA / "generic.csv"], "itunes")
    odd = tmp_path / "odd.csv"
    odd.write_text("name,singer\nPink Moon,Nick Drake\n")
    with pytest.raises(HistoryError, match=rf"^{odd}: cannot tell which listening history .*found columns: name, "):
        read_history([odd])
    unknown_json = tmp_path / "library.json"
    unknown_json.write_text(json.dumps([{"song": "So What", "by": "Miles Davis"}]))
    with pytest.raises(HistoryError, match=rf"^{unknown_json}: cannot tell .*found keys: song, by"):
        read_history([unknown_json])
    assert FORMATS == ("auto", "listenbrainz", "lastfm", "spotify", "csv")


@pytest.mark.parametrize(("name", "fmt", "looks"), [
    ("StreamingHistory_music_0.json", "lastfm", "spotify"),
    ("listenbrainz.jsonl", "spotify", "listenbrainz"),
    ("generic.csv", "lastfm", "csv"),
    ("lastfm_scrobbles.csv", "csv", "lastfm"),
])
def test_a_wrong_explicit_format_is_a_clear_error(name, fmt, looks):
    with pytest.raises(HistoryError, match=rf"^{DATA / name}: not a {fmt} history \(it looks like {looks}\)"):
        read_history([DATA / name], fmt)


def test_an_explicit_format_settles_a_lastfm_style_header(tmp_path):
    path = tmp_path / "scrobbles.csv"
    path.write_text("Artist,Album,Track,Date\nNick Drake,Pink Moon,Road,31 Jan 2021 14:22\n")
    assert read_history([path]).formats == {str(path): "lastfm"}
    read = read_history([path], "csv")
    assert read.formats == {str(path): "csv"}
    assert _fields(read.plays[0])[:4] == ("Nick Drake", "Road", _at(2021, 1, 31, 14, 22), "Pink Moon")


def test_empty_exports_read_as_no_plays(tmp_path):
    empty = tmp_path / "StreamingHistory_music_1.json"
    empty.write_text("[]\n")
    blank = tmp_path / "feedback.jsonl"
    blank.write_text("")
    read = read_history([empty, blank])
    assert read.plays == [] and read.bad == [] and set(read.formats.values()) == {"empty"}


def test_fifty_thousand_plays_as_jsonl_and_csv(tmp_path):
    jsonl, table = tmp_path / "listens.jsonl", tmp_path / "plays.csv"
    start = 1609459200
    with jsonl.open("w", encoding="utf-8") as handle:
        for i in range(50_000):
            handle.write(json.dumps({"listened_at": start + i * 60, "track_metadata": {
                "artist_name": f"Artist {i % 700}", "track_name": f"Song {i}", "release_name": "Album",
                "additional_info": {"recording_msid": f"msid-{i}"}}}) + "\n")
    with table.open("w", encoding="utf-8") as handle:
        handle.write("artist,title,played_at,rating,skipped\n")
        for i in range(50_000):
            handle.write(f'"Crosby, Stills {i % 50}",Song {i},2021-01-01T{i // 3600 % 24:02}:{i // 60 % 60:02}:'
                         f'{i % 60:02}Z,{i % 5 + 1},{i % 2}\n')
    listens = read_history([jsonl])
    assert len(listens.plays) == 50_000 and listens.bad == []
    assert listens.plays[-1].played_at == datetime.fromtimestamp(start + 49_999 * 60, UTC)
    rows = read_history([table])
    assert len(rows.plays) == 50_000 and rows.bad == []
    assert rows.plays[8].score == 0.5 and rows.plays[8].skipped is False


def test_a_jsonl_whose_first_line_is_cut_still_reads_as_jsonl(tmp_path):
    path = tmp_path / "listens.jsonl"
    lines = [_listen(f"m{i}", "Miles Davis", f"Take {i}", 1609459200 + i) for i in range(3)]
    path.write_text(lines[0][:40] + "\n" + "\n".join(lines[1:]) + "\n")
    read = read_history([path])
    assert [p.title for p in read.plays] == ["Take 1", "Take 2"]
    assert [b.where for b in read.bad] == [f"{path}:1"]


def test_utf16_csv_with_a_bom_and_an_empty_api_page(tmp_path):
    table = tmp_path / "plays.csv"
    table.write_bytes("artist\ttitle\nBjörk\tJóga\n".encode("utf-16"))
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"payload": {"count": 0, "listens": [], "user_id": "lucia"}}))
    read = read_history([table, page])
    assert [(p.artist, p.title) for p in read.plays] == [("Björk", "Jóga")]
    assert read.formats == {str(table): "csv", str(page): "empty"}
