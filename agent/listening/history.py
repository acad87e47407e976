"""Listening history: read what someone played (and loved) from the exports music services hand out.

One call reads any mix of files, zips and unpacked export folders into `Play` records:

    from pathlib import Path
    from agent.listening.history import read_history

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

import gc
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from retrieval.errors import HistoryError

from .formats import (
    _RECORD_READERS,
    _SPACE,
    _WRAPPERS,
    BadPlay,
    HistoryRead,
    Play,
    _Batch,
    _csv_kinds,
    _read_csv,
    _read_json,
    _read_jsonl,
    _record_kind,
    _records,
)

__all__ = ["FORMATS", "BadPlay", "HistoryRead", "Play", "bulk", "read_history"]
FORMATS = ("auto", "listenbrainz", "lastfm", "spotify", "csv")


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


def _no_records(doc: Any) -> bool:
    """`[]`, or a wrapper such as {"payload": {"listens": []}} around an empty list."""
    found = _records(doc)
    return found is not None and not found[1] and (not found[0] or found[0][-1] in _WRAPPERS)
