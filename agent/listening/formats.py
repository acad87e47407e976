"""The records of a listening history and the readers of each export's rows: ListenBrainz and Spotify JSON
and JSONL, Last.fm and plain CSVs, and the values in them (dates, ratings, skips). `history` finds the files,
tells their formats apart and hands each one here.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from retrieval.errors import HistoryError

from .values import (
    _Bad,
    _dict,
    _int,
    _keep,
    _lastfm_date,
    _names,
    _normal,
    _rating_scale,
    _Scale,
    _score,
    _text,
    _when,
    _yes_no,
)


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


_SPACE = re.compile(r"[ \t\n\r]*")


_DECODER = json.JSONDecoder()


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


def _column(names: list[str], field_name: str) -> int | None:
    return next((names.index(alias) for alias in _ALIASES[field_name] if alias in names), None)
