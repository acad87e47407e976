"""Listening history: read what someone played (and loved) from the exports music services hand out.

One call reads any mix of files, zips and unpacked export folders into `Play` records:

    from pathlib import Path
    from retrieval.history import read_history

    read = read_history([Path("listenbrainz_export.zip"), Path("StreamingHistory_music_0.json")])
    print(read.formats)            # {'listenbrainz_export.zip#listens/2021/1.jsonl': 'listenbrainz', ...}
    for bad in read.bad:           # rows that were skipped, each as FILE:LINE: reason
        print(bad)
    plays = read.plays             # artist, title, played_at (aware UTC), ms_played, skipped, score, ...

Formats (found by content; `fmt` forces one):
  listenbrainz  listens as JSONL, a JSON array or the API's {"payload": {"listens": [...]}}; feedback.jsonl
                (loved/hated, resolved to artist and title through the listens read in the same call)
  lastfm        scrobble CSVs: header-less artist,album,track,date or the uts;utc_time;artist;... export
  spotify       StreamingHistory*.json (account data) and Streaming_History_Audio_*.json / endsong_*.json
                (extended history); podcasts and audiobooks are counted, not read
  csv           any CSV with an artist and a title column, optionally played_at, album, rating, skipped

Everything is read before `read_history` returns, so a caller that stores the result stores all or nothing:
a missing, corrupt or unrecognisable file raises `HistoryError`, while a bad row of a JSONL or CSV file is
skipped and reported in `bad`. Line numbers count the file's lines from 1, a CSV header included; inside
a zip a place reads FILE#entry:LINE.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import HistoryError

FORMATS = ("auto", "listenbrainz", "lastfm", "spotify", "csv")


@dataclass(frozen=True)
class Play:
    artist: str
    title: str
    played_at: datetime | None  # timezone-aware UTC; None when the source has no time
    album: str | None = None
    ms_played: int | None = None  # how long it played, when the source knows
    skipped: bool | None = None  # the source says it was skipped
    score: float | None = None  # an explicit rating on -1..+1
    kind: str = "listen"  # "listen", or "feedback": a loved/hated mark without a play
    where: str = ""  # FILE:LINE (FILE#entry:LINE inside a zip), for reports


@dataclass(frozen=True)
class BadPlay:
    where: str  # FILE:LINE
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass
class HistoryRead:
    plays: list[Play]
    bad: list[BadPlay]
    skipped_non_music: int  # podcast episodes and audiobooks in Spotify exports: not errors
    formats: dict[str, str]  # file (or zip entry) -> detected format ("empty" for a file with no records)


def read_history(paths: list[Path], fmt: str = "auto") -> HistoryRead:
    """Every play in `paths` (files, zips or unpacked export folders), read completely before returning."""
    if fmt not in FORMATS:
        raise HistoryError(f"unknown history format {fmt!r}; choose one of {', '.join(FORMATS)}")
    batch = _Batch()
    with bulk():
        for path in paths:
            _read_path(batch, Path(path), fmt)
        return batch.finish()


@contextmanager
def bulk() -> Iterator[None]:
    """The cyclic garbage collector paused while many small acyclic objects are made (plays, rows): it would
    otherwise rescan every one of them again and again for cycles they cannot have."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class _Bad(Exception):
    """One record cannot be read; the reader reports it and goes on."""


@dataclass(frozen=True)
class _Feedback:
    """A loved/hated mark naming only a recording id: resolved once every listen of the call is read."""

    where: str
    ids: tuple[str, ...]
    score: float
    played_at: datetime | None


@dataclass
class _Batch:
    plays: list[Play] = field(default_factory=list)
    bad: list[BadPlay] = field(default_factory=list)
    non_music: int = 0
    formats: dict[str, str] = field(default_factory=dict)
    feedback: list[_Feedback] = field(default_factory=list)
    recordings: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)  # msid/mbid -> names

    def finish(self) -> HistoryRead:
        for mark in self.feedback:
            names = next((self.recordings[i] for i in mark.ids if i in self.recordings), None)
            if names is None:
                self.bad.append(BadPlay(mark.where, "feedback for a recording not in the listens"))
                continue
            artist, title, album = names
            self.plays.append(Play(artist, title, mark.played_at, album, score=mark.score, kind="feedback",
                                   where=mark.where))
        return HistoryRead(self.plays, self.bad, self.non_music, self.formats)


# --- files, folders and zips -------------------------------------------------------------------------------------

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members; an empty zip
_SPOTIFY_NAMES = re.compile(r"(streaminghistory(_music|_podcast)?_?\d*|streaming_history_audio_.*|endsong_?\d*)\.json")
_LISTENBRAINZ_NAMES = re.compile(r"(listens|feedback)\.jsonl?")
_SNIFFED = (".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".txt")
_LOOKED_FOR = ("listens/*.jsonl, listens.jsonl, feedback.jsonl, StreamingHistory*.json, "
               "Streaming_History_Audio_*.json, endsong_*.json or a history CSV")


def _read_path(batch: _Batch, path: Path, fmt: str) -> None:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        entries = ((p.relative_to(path).as_posix(), str(p), _file_loader(p)) for p in files)
        _read_entries(batch, str(path), entries, fmt)
        return
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
        if head in _ZIP_MAGIC:
            _read_zip(batch, path, fmt)
            return
        data = path.read_bytes()
    except FileNotFoundError:
        raise HistoryError(f"{path}: no such file") from None
    except OSError as error:
        raise HistoryError(f"{path}: cannot read it ({error.strerror or error})") from None
    _read_member(batch, str(path), data, fmt, required=True)


def _read_zip(batch: _Batch, path: Path, fmt: str) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            entries = ((i.filename, f"{path}#{i.filename}", _member_loader(archive, i))
                       for i in archive.infolist() if not i.is_dir())
            _read_entries(batch, str(path), entries, fmt)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as error:
        # RuntimeError: an encrypted member; NotImplementedError: a compression zipfile lacks
        raise HistoryError(f"{path}: a damaged or unreadable zip ({error})") from None


def _member_loader(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], bytes]:
    return lambda: archive.read(info)


def _file_loader(path: Path) -> Callable[[], bytes]:
    def load() -> bytes:
        try:
            return path.read_bytes()
        except OSError as error:
            raise HistoryError(f"{path}: cannot read it ({error.strerror or error})") from None

    return load


def _read_entries(batch: _Batch, container: str, entries: Iterator[tuple[str, str, Callable[[], bytes]]],
                  fmt: str) -> None:
    """Read the history members of a zip or folder; other members (Userdata.json, images...) are not errors."""
    found = False
    for name, where, load in entries:
        role = _member_role(name)
        if role is not None:
            found |= _read_member(batch, where, load(), fmt, required=role == "history")
    if not found:
        raise HistoryError(f"{container}: no listening history inside (looked for {_LOOKED_FOR})")


def _member_role(name: str) -> str | None:
    """How to treat a member: "history" (a name an export uses), "sniff" (a data file worth a look) or None."""
    member = PurePosixPath(name)
    base = member.name.lower()
    if "__MACOSX" in member.parts or base.startswith("._"):  # Finder's resource forks carry history names
        return None
    if _SPOTIFY_NAMES.fullmatch(base) or _LISTENBRAINZ_NAMES.fullmatch(base):
        return "history"
    if "listens" in member.parts[:-1] and base.endswith((".json", ".jsonl")):  # listens/2021/1.jsonl
        return "history"
    if base.startswith("streaming_history_video"):
        return None
    return "sniff" if base.endswith(_SNIFFED) else None


def _read_member(batch: _Batch, where: str, data: bytes, fmt: str, required: bool) -> bool:
    """Read one file's records into the batch. Only `required` files raise; others are skipped if unfit."""
    try:
        text = _decode(where, data)
        shape, doc = _shape(where, text) if text.strip() else ("empty", None)
        if shape == "json" and _no_records(doc):
            shape = "empty"  # `[]`: a Spotify file of a quiet month, an API page past the end
        kind = "empty" if shape == "empty" else _choose(where, fmt, *_kinds(shape, doc, text))
    except HistoryError:
        if required:
            raise
        return False
    if kind == "empty" and not required:  # an empty file next to the history says nothing
        return False
    batch.formats[where] = kind
    if kind == "empty":
        return True
    if shape == "csv":
        _read_csv(batch, where, text, kind)
    elif shape == "json":
        _read_json(batch, where, text, doc, _RECORD_READERS[kind])
    else:
        _read_jsonl(batch, where, text, _RECORD_READERS[kind])
    return True


def _choose(where: str, fmt: str, kinds: list[str], seen: str) -> str:
    if fmt == "auto" and kinds:
        return kinds[0]
    if fmt in kinds:
        return fmt
    if fmt == "auto":
        raise HistoryError(f"{where}: cannot tell which listening history this is ({seen}); expected a ListenBrainz, "
                           "Last.fm or Spotify export, or a CSV with artist and title columns")
    looks = f"it looks like {kinds[0]}" if kinds else seen
    raise HistoryError(f"{where}: not a {fmt} history ({looks}); pass another format or auto")


def _decode(where: str, data: bytes) -> str:
    garbage = f"{where}: not a text, JSON, CSV or zip file"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a BOM: Excel's "Unicode text"
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise HistoryError(garbage) from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            hint = "" if b"\x00" in data else f" (line {line} is not UTF-8; if it is text, save it as UTF-8)"
            raise HistoryError(garbage + hint) from None
    if "\x00" in text:
        raise HistoryError(garbage)
    return text


# --- telling formats apart ---------------------------------------------------------------------------------------

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _shape(where: str, text: str) -> tuple[str, Any]:
    """("json", document), ("jsonl", None) or ("csv", None); a broken JSON document raises."""
    start = _SPACE.match(text).end()
    if text[start:start + 1] not in ("[", "{"):
        return "csv", None
    try:
        return "json", json.loads(text)
    except json.JSONDecodeError as error:
        if text[start] == "{" and _looks_like_jsonl(text):
            return "jsonl", None
        raise HistoryError(f"{where}: not valid JSON (truncated or corrupt?): {error}") from None


def _looks_like_jsonl(text: str) -> bool:
    """One object a line: the first line is one, or (when it is broken) at least two of the next lines are."""
    lines = [line for line in text.split("\n", 12)[:12] if line.strip()][:10]
    objects = [_object_or_none(line) is not None for line in lines]
    return objects[0] or sum(objects) >= 2


def _object_or_none(line: str) -> dict[str, Any] | None:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


def _kinds(shape: str, doc: Any, text: str) -> tuple[list[str], str]:
    """The formats that can read this content, best first, and what was seen (for the error when none can)."""
    if shape == "csv":
        return _csv_kinds(text)
    if shape == "json":
        records = (_records(doc) or (None, []))[1]
    else:
        records = [obj for line in text.split("\n", 50)[:50] if (obj := _object_or_none(line)) is not None]
    dicts = [r for r in records[:20] if isinstance(r, dict)]
    kind = next((k for r in dicts if (k := _record_kind(r))), None)
    if kind:
        return [kind], ""
    return [], f"found keys: {', '.join(list(dicts[0])[:8])}" if dicts else "found no list of records"


def _record_kind(obj: dict[str, Any]) -> str | None:
    if "track_metadata" in obj or "listened_at" in obj:
        return "listenbrainz"
    if "score" in obj and ("recording_msid" in obj or "recording_mbid" in obj):
        return "listenbrainz"  # feedback.jsonl
    if "endTime" in obj and ("artistName" in obj or "trackName" in obj or "podcastName" in obj):
        return "spotify"
    if "ts" in obj and ("master_metadata_track_name" in obj or "episode_name" in obj or "ms_played" in obj):
        return "spotify"
    return None


_WRAPPERS = ("payload", "listens", "feedback", "data", "items", "results")


def _records(doc: Any) -> tuple[tuple[str, ...] | None, list[Any]] | None:
    """The list of records in a JSON document and the keys leading to it (None: the document is one record)."""
    if isinstance(doc, dict) and _record_kind(doc):
        return None, [doc]
    return _find_list(doc, ())


def _no_records(doc: Any) -> bool:
    """`[]`, or a wrapper such as {"payload": {"listens": []}} around an empty list."""
    found = _records(doc)
    return found is not None and not found[1] and (not found[0] or found[0][-1] in _WRAPPERS)


def _find_list(doc: Any, route: tuple[str, ...]) -> tuple[tuple[str, ...], list[Any]] | None:
    """A top-level list, or the first list of objects inside an object wrapping it (wrapper names first)."""
    if isinstance(doc, list):
        return route, doc
    if not isinstance(doc, dict) or len(route) >= 3:
        return None
    empty = None
    for key in sorted(doc, key=lambda k: k not in _WRAPPERS):
        found = _find_list(doc[key], (*route, key)) if isinstance(doc[key], list | dict) else None
        if found and found[1] and isinstance(found[1][0], dict):
            return found
        empty = empty or (found if found and not found[1] else None)
    return empty


def _element_lines(text: str, route: tuple[str, ...] | None) -> list[int]:
    """The line each element of the list at `route` starts on (json.loads keeps no positions)."""
    if route is None:
        return [text.count("\n", 0, _SPACE.match(text).end()) + 1]
    pos = _SPACE.match(text).end()
    for key in route:  # walk into {"key": ...} objects down to the list, skipping the values before it
        pos = _SPACE.match(text, pos + 1).end()
        while True:
            name, pos = _DECODER.raw_decode(text, pos)
            pos = _SPACE.match(text, _SPACE.match(text, pos).end() + 1).end()  # past the ':'
            if name == key:
                break
            pos = _SPACE.match(text, _DECODER.raw_decode(text, pos)[1]).end()
            pos = _SPACE.match(text, pos + 1).end()  # past the ','
    lines, line, last = [], 1, 0
    pos = _SPACE.match(text, pos + 1).end()
    while text[pos] != "]":
        line, last = line + text.count("\n", last, pos), pos
        lines.append(line)
        pos = _SPACE.match(text, _DECODER.raw_decode(text, pos)[1]).end()
        if text[pos] == ",":
            pos = _SPACE.match(text, pos + 1).end()
    return lines


# --- JSON and JSONL ----------------------------------------------------------------------------------------------

_RecordReader = Callable[[dict[str, Any], str, _Batch], None]


def _read_json(batch: _Batch, where: str, text: str, doc: Any, read: _RecordReader) -> None:
    route, records = _records(doc) or ((), [])
    for line, record in zip(_element_lines(text, route), records, strict=True):
        _read_record(batch, f"{where}:{line}", record, read)


def _read_jsonl(batch: _Batch, where: str, text: str, read: _RecordReader) -> None:
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        place = f"{where}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            batch.bad.append(BadPlay(place, f"not valid JSON ({error.msg})"))
            continue
        _read_record(batch, place, record, read)


def _read_record(batch: _Batch, place: str, record: Any, read: _RecordReader) -> None:
    try:
        if not isinstance(record, dict):
            raise _Bad("not a JSON object")
        read(record, place, batch)
    except _Bad as bad:
        batch.bad.append(BadPlay(place, str(bad)))


def _listenbrainz(obj: dict[str, Any], where: str, batch: _Batch) -> None:
    if "score" in obj and "listened_at" not in obj:
        _listenbrainz_feedback(obj, where, batch)
        return
    meta = obj.get("track_metadata")
    if not isinstance(meta, dict):
        raise _Bad("missing track_metadata")
    artist, title = _names(meta.get("artist_name"), meta.get("track_name"))
    if obj.get("listened_at") is None:
        raise _Bad("missing listened_at")
    album = _text(meta.get("release_name")) or None
    info = _dict(meta.get("additional_info"))
    ids = (_dict(meta.get("mbid_mapping")).get("recording_mbid"), info.get("recording_mbid"),
           obj.get("recording_msid"), info.get("recording_msid"))
    for recording in ids:
        if isinstance(recording, str) and recording:
            batch.recordings.setdefault(recording, (artist, title, album))
    # duration_ms is the track's length, not how long it played: ListenBrainz does not know that
    batch.plays.append(Play(artist, title, _when(obj["listened_at"]), album, where=where))


def _listenbrainz_feedback(obj: dict[str, Any], where: str, batch: _Batch) -> None:
    score = obj.get("score")
    if score == 0:  # a withdrawn mark
        return
    if score not in (1, -1) or isinstance(score, bool):
        raise _Bad(f"feedback score must be 1 or -1 (got {score!r})")
    when = _when(obj.get("created"))
    meta = _dict(obj.get("track_metadata"))  # the API adds names when asked (?metadata=true)
    if meta.get("artist_name") and meta.get("track_name"):
        artist, title = _names(meta["artist_name"], meta["track_name"])
        batch.plays.append(Play(artist, title, when, _text(meta.get("release_name")) or None, score=float(score),
                                kind="feedback", where=where))
        return
    ids = tuple(i for i in (obj.get("recording_mbid"), obj.get("recording_msid")) if isinstance(i, str) and i)
    batch.feedback.append(_Feedback(where, ids, float(score), when))


_EPISODE_KEYS = ("episode_name", "spotify_episode_uri", "episode_show_name", "audiobook_title", "audiobook_uri",
                 "audiobook_chapter_title", "audiobook_chapter_uri", "podcastName", "episodeName")
_SKIP_ENDS = ("fwdbtn", "backbtn")  # the listener moved on before the track ended


def _spotify(obj: dict[str, Any], where: str, batch: _Batch) -> None:
    extended = "ts" in obj or "master_metadata_track_name" in obj
    title = obj.get("master_metadata_track_name") if extended else obj.get("trackName")
    if not title and any(obj.get(key) for key in _EPISODE_KEYS):
        batch.non_music += 1
        return
    artist = obj.get("master_metadata_album_artist_name") if extended else obj.get("artistName")
    artist, title = _names(artist, title)
    stamp = obj.get("ts") if extended else obj.get("endTime")
    if stamp is None:
        raise _Bad(f"missing {'ts' if extended else 'endTime'}")
    played = obj.get("ms_played") if extended else obj.get("msPlayed")
    album = _text(obj.get("master_metadata_album_album_name")) or None
    batch.plays.append(Play(artist, title, _when(stamp), album, _int(played), _spotify_skipped(obj), where=where))


def _spotify_skipped(obj: dict[str, Any]) -> bool | None:
    flag, end = obj.get("skipped"), obj.get("reason_end")
    if flag is True or end in _SKIP_ENDS:
        return True
    if flag is False or end == "trackdone":
        return False
    return None


_RECORD_READERS: dict[str, _RecordReader] = {"listenbrainz": _listenbrainz, "spotify": _spotify}


# --- CSV ---------------------------------------------------------------------------------------------------------

_ALIASES = {  # our field -> header names that mean it, preferred first (normalised: lower case, _ for spaces)
    "artist": ("artist", "artist_name", "artistname"),
    "title": ("title", "track", "name", "track_name", "trackname", "song", "track_title"),
    "album": ("album", "album_name", "release", "release_name"),
    "played_at": ("played_at", "uts", "timestamp", "listened_at", "datetime", "date", "utc_time", "time", "played"),
    "ms_played": ("ms_played", "msplayed"),
    "rating": ("rating", "score", "stars", "liked", "loved"),
    "skipped": ("skipped", "skip"),
}
_LASTFM_POSITIONS = {"artist": 0, "album": 1, "title": 2, "played_at": 3}  # the header-less export


@dataclass(frozen=True)
class _CsvLayout:
    delimiter: str
    columns: dict[str, int]  # our field -> column index
    width: int  # the number of columns every row must have
    header: bool


def _csv_kinds(text: str) -> tuple[list[str], str]:
    rows = _first_rows(text, _delimiter(text), 6)
    if not rows:
        return [], "found no rows"
    names = [_normal(cell) for cell in rows[0]]
    if "uts" in names and "artist" in names:
        return ["lastfm"], ""
    if {"artist", "album", "track", "date"} <= set(names):
        return ["lastfm", "csv"], ""
    if _column(names, "artist") is not None and _column(names, "title") is not None:
        return ["csv"], ""
    if len(rows[0]) == 4 and any(len(r) == 4 and _lastfm_date(r[3]) for r in rows):
        return ["lastfm"], ""
    return [], f"found columns: {', '.join(rows[0][:8])}"


def _csv_layout(text: str, kind: str) -> _CsvLayout:
    delimiter = _delimiter(text)
    first = _first_rows(text, delimiter, 1)[0]
    names = [_normal(cell) for cell in first]
    if kind == "lastfm" and "artist" not in names:
        return _CsvLayout(delimiter, _LASTFM_POSITIONS, 4, header=False)
    columns = {name: index for name in _ALIASES if (index := _column(names, name)) is not None}
    return _CsvLayout(delimiter, columns, len(first), header=True)


def _read_csv(batch: _Batch, where: str, text: str, kind: str) -> None:
    layout = _csv_layout(text, kind)
    try:
        rows = list(_csv_rows(text, layout))
    except csv.Error as error:  # a field over the csv module's size limit: an unclosed quote swallowing the file
        raise HistoryError(f"{where}: not a readable CSV ({error}); is a quote left open?") from None
    rating = layout.columns.get("rating")
    scale = _rating_scale(row[rating] for _, row in rows if rating < len(row)) if rating is not None else _keep
    for line, row in rows:
        place = f"{where}:{line}"
        try:
            if len(row) != layout.width:
                raise _Bad(f"expected {layout.width} columns, found {len(row)}")
            batch.plays.append(_csv_play(row, layout.columns, scale, place))
        except _Bad as bad:
            batch.bad.append(BadPlay(place, str(bad)))


def _csv_rows(text: str, layout: _CsvLayout) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, cells) for every non-blank record after the header."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter)
    if layout.header:
        next(reader, None)
    start = reader.line_num + 1
    for row in reader:
        line, start = start, reader.line_num + 1
        if any(cell.strip() for cell in row):
            yield line, row


def _csv_play(row: list[str], columns: dict[str, int], scale: _Scale, where: str) -> Play:
    def cell(name: str) -> str:
        index = columns.get(name)
        return row[index].strip() if index is not None else ""

    artist, title = _names(cell("artist"), cell("title"))
    return Play(artist, title, _when(cell("played_at") or None), cell("album") or None, _int(cell("ms_played")),
                _yes_no(cell("skipped")), _score(cell("rating"), scale), where=where)


def _delimiter(text: str) -> str:
    """`,`, `;` or tab: whichever the first line holds most of outside quotes (csv.Sniffer guesses wildly)."""
    first = _QUOTED.sub("", text[:4096].lstrip("\r\n").split("\n", 1)[0])
    return max((",", ";", "\t"), key=first.count)


_QUOTED = re.compile(r'"[^"]*"')


def _first_rows(text: str, delimiter: str, count: int) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text[:65536], newline=""), delimiter=delimiter)
    rows = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append(row)
                if len(rows) == count:
                    break
    except csv.Error:  # an unclosed quote near the start: judge by the rows before it
        pass
    return rows


def _normal(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _column(names: list[str], field_name: str) -> int | None:
    return next((names.index(alias) for alias in _ALIASES[field_name] if alias in names), None)


# --- values ------------------------------------------------------------------------------------------------------

_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                       "dec"), 1)}


def _when(value: Any) -> datetime | None:
    """Aware UTC from unix seconds (or milliseconds), ISO 8601 (naive = UTC) or a Last.fm date; None if empty."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _unix(value)
        if isinstance(value, str):
            text = value.strip()
            if text.replace(".", "", 1).isdigit():
                return _unix(float(text))
            moment = _iso(text) or _lastfm_date(text)
            if moment is not None:
                return moment
    except (ValueError, OverflowError, OSError):
        pass
    raise _Bad(f"bad timestamp '{str(value)[:40]}'")


def _unix(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds / 1000 if seconds > 1e11 else seconds, UTC)


def _iso(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _lastfm_date(text: str) -> datetime | None:
    """'31 Jan 2021 14:22' (or '31 Jan 2021, 14:22'), by hand: strptime is slow."""
    parts = text.replace(",", " ").split()
    if len(parts) != 4 or parts[1][:3].lower() not in _MONTHS:
        return None
    clock = parts[3].split(":")
    try:
        return datetime(int(parts[2]), _MONTHS[parts[1][:3].lower()], int(parts[0]), int(clock[0]),
                        int(clock[1]) if len(clock) > 1 else 0, int(clock[2]) if len(clock) > 2 else 0, tzinfo=UTC)
    except ValueError:
        return None


_LIKE = {"love", "loved", "like", "liked", "yes", "y", "up", "thumbs_up", "👍", "❤", "♥"}
_DISLIKE = {"hate", "hated", "dislike", "disliked", "no", "n", "down", "thumbs_down", "👎"}
_TRUE = {"1", "true", "yes", "y", "t", "x", "skipped", "skip"}
_FALSE = {"0", "false", "no", "n", "f"}
_EMOJI_NOISE = re.compile("[\ufe0f\U0001f3fb-\U0001f3ff]")  # variation selector, skin tones: 👍🏽 is 👍


_Scale = Callable[[float], float | None]


def _keep(value: float) -> float:
    return value


def _stars(value: float) -> float | None:
    return None if value == 0 else (value - 3) / 2  # 0 stars is "not rated" in players that rate 1-5


def _tenths(value: float) -> float:
    return (value - 5) / 5


def _rating_scale(cells: Iterator[str]) -> _Scale:
    """How a file's numbers map onto -1..+1, judged on the whole file: 1 tops -1..1 but is the worst of 1-5."""
    numbers = [n for cell in cells if (n := _number(cell)) is not None]
    low, high = min(numbers, default=0.0), max(numbers, default=0.0)
    if low >= -1 and high <= 1:
        return _keep
    return _stars if high <= 5 else _tenths


def _score(cell: str, scale: _Scale) -> float | None:
    if not cell:
        return None
    number = _number(cell)
    if number is None:
        word = _normal(_EMOJI_NOISE.sub("", cell))
        if word in _LIKE or word in _DISLIKE:
            return 1.0 if word in _LIKE else -1.0
        raise _Bad(f"rating '{cell[:40]}' is not a number or a like/dislike word")
    score = scale(number)
    if score is not None and not -1 <= score <= 1:
        raise _Bad(f"rating {cell} is off its scale (1-5 stars, 0-10 or -1..1)")
    return score


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _yes_no(cell: str) -> bool | None:
    word = cell.lower()
    if not word:
        return None
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise _Bad(f"skipped '{cell[:40]}' is not yes or no")


def _names(artist: Any, title: Any) -> tuple[str, str]:
    artist, title = _text(artist), _text(title)
    if not artist:
        raise _Bad("missing artist")
    if not title:
        raise _Bad("missing title")
    return artist, title


def _text(value: Any) -> str:
    if isinstance(value, str):  # nearly always: the fast path matters at 50,000 plays
        return value.strip()
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else ""


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
