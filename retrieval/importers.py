"""Importers: read a catalog source into `Track` records, naming every bad row as `FILE:LINE: reason`.

Formats: generic `jsonl` and `csv` (the catalog record's own fields), `freemusicc` (tracks.csv + releases.csv),
`cpcd` (tracks.jsonl of the Conversational Playlist Curation Dataset) and `musiccaps` (the MusicCaps CSV).
Line numbers count the file's lines from 1, a CSV header included.
"""

from __future__ import annotations

import ast
import csv
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .errors import CatalogError
from .mood import moods_for_energy, moods_for_tags
from .records import Track

FORMATS = ("auto", "jsonl", "csv", "freemusicc", "cpcd", "musiccaps")
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class BadRow:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class Row:
    """One parsed source row: a track, or the reason it was rejected."""

    file: str
    line: int
    track: Track | None = None
    bad: BadRow | None = None


def _reason(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "record"
    message = f"missing {where}" if first["type"] == "missing" or first.get("input") is None else (
        f"{where}: {first['msg']} (got {str(first.get('input'))[:40]!r})")
    return message + (f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else "")


def _build(file: str, line: int, fields: dict[str, Any]) -> Row:
    try:
        track = Track.model_validate(fields)
        if not track.moods and (track.tags or track.genre):  # sources without moods: infer them from styles
            track.moods = moods_for_tags(track.tags, track.genre)
        return Row(file, line, track=track)
    except ValidationError as error:
        return Row(file, line, bad=BadRow(file, line, _reason(error)))
    except ValueError as error:
        return Row(file, line, bad=BadRow(file, line, str(error)))


def _bad(file: str, line: int, reason: str) -> Row:
    return Row(file, line, bad=BadRow(file, line, reason))


# --- reading files ---------------------------------------------------------------------------------------------

def _jsonl_objects(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, object or None, reason) for every non-blank line; undecodable lines become reasons."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                yield number, None, "not valid UTF-8 (broken encoding)"
                continue
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as error:
                yield number, None, f"not valid JSON ({error.msg})"
                continue
            if not isinstance(obj, dict):
                yield number, None, "expected a JSON object"
                continue
            yield number, obj, None


def _csv_rows(path: Path, required: tuple[str, ...] = ()) -> Iterator[tuple[int, dict[str, str] | None, str | None]]:
    """(first line of the record, row or None, reason). Undecodable bytes are caught per row."""
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [name for name in required if name not in header]
        if missing:
            raise CatalogError(f"{path}:1: missing column(s) {', '.join(missing)}; found {', '.join(header) or 'none'}")
        start = reader.line_num + 1
        for row in reader:
            line, start = start, reader.line_num + 1
            if None in row or any(v is None for v in row.values()):
                yield line, None, f"expected {len(header)} columns"
                continue
            if any(_has_surrogates(v) for v in row.values()):
                yield line, None, "not valid UTF-8 (broken encoding)"
                continue
            if not any(v.strip() for v in row.values()):
                continue
            yield line, row, None


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


# --- formats ---------------------------------------------------------------------------------------------------

def read_jsonl(path: Path) -> Iterator[Row]:
    for line, obj, reason in _jsonl_objects(path):
        yield _bad(str(path), line, reason) if obj is None else _build(str(path), line, obj)


def read_csv(path: Path) -> Iterator[Row]:
    for line, row, reason in _csv_rows(path, required=("id",)):
        if row is None:
            yield _bad(str(path), line, reason or "unreadable row")
        else:
            yield _build(str(path), line, {k: v for k, v in row.items() if v != ""})


def read_cpcd(path: Path) -> Iterator[Row]:
    for line, obj, reason in _jsonl_objects(path):
        if obj is None:
            yield _bad(str(path), line, reason or "unreadable row")
            continue
        fields = {"id": obj.get("track_ids"), "title": obj.get("track_titles"),
                  "album": obj.get("track_release_titles"), "artist": obj.get("track_artists"),
                  "source": "cpcd", "license": "CC BY 4.0 (CPCD, Chaganty et al. 2023)"}
        yield _build(str(path), line, fields)


def read_musiccaps(path: Path) -> Iterator[Row]:
    for line, row, reason in _csv_rows(path, required=("ytid", "caption")):
        if row is None:
            yield _bad(str(path), line, reason or "unreadable row")
            continue
        try:
            aspects = ast.literal_eval(row.get("aspect_list") or "[]")
        except (ValueError, SyntaxError):
            aspects = []
        tags = [a for a in aspects if isinstance(a, str)][:12]
        start, end = row.get("start_s") or "0", row.get("end_s") or ""
        fields = {"id": row["ytid"], "title": f"YouTube clip {row['ytid']} ({start}-{end} s)",
                  "tags": tags, "description": row["caption"],
                  "source": "musiccaps", "license": "CC BY-SA 4.0 (MusicCaps, Agostinelli et al. 2023)"}
        if start.isdigit():
            fields["audio_url"] = f"https://www.youtube.com/watch?v={row['ytid']}&t={start}s"
        yield _build(str(path), line, fields)


def _energy_from_activity(value: str | None) -> float | None:
    """freemusi.cc rates activity 1 (passive) .. 3 (active), 0 unrated; releases carry an average."""
    try:
        activity = float(value or 0)
    except ValueError:
        return None
    if activity < 1:
        return None
    return round(0.15 + (min(activity, 3.0) - 1) * 0.35, 2)


def _freemusicc_description(release: dict[str, str], styles: list[str], genre: str) -> str:
    """A short sentence from the release's facts (kept short: every token costs embedding time at ingest)."""
    kind = ", ".join(s.lower() for s in styles[:4] if s.lower() != "compilation") or genre.lower() or "music"
    if genre and genre.lower() not in kind:
        kind += f" {genre.lower()}"
    text = f"{'An' if kind[0] in 'aeiou' else 'A'} {kind} track"
    if release.get("album"):
        text += f" from {release.get('year') + ' ' if release.get('year') else ''}release {release['album']}"
    if release.get("label"):
        text += f" on {release['label']}"
    return text + "."


def read_freemusicc(path: Path) -> Iterator[Row]:
    folder = path if path.is_dir() else path.parent
    tracks_csv, releases_csv = folder / "tracks.csv", folder / "releases.csv"
    for needed in (tracks_csv, releases_csv):
        if not needed.is_file():
            raise CatalogError(f"{needed}: not found (freemusicc needs tracks.csv and releases.csv side by side)")
    releases: dict[str, dict[str, str]] = {}
    for _, row, _reason in _csv_rows(releases_csv, required=("id", "genre", "style", "year")):
        if row is not None:
            releases[row["id"]] = row
    for line, row, reason in _csv_rows(tracks_csv, required=("id", "title", "track", "trackartist")):
        if row is None:
            yield _bad(str(tracks_csv), line, reason or "unreadable row")
            continue
        release = releases.get(row["id"])
        if release is None:
            yield _bad(str(tracks_csv), line, f"release {row['id']!r} is not in releases.csv")
            continue
        yield _build(str(tracks_csv), line, _freemusicc_fields(row, release))


def _freemusicc_fields(row: dict[str, str], release: dict[str, str]) -> dict[str, Any]:
    styles = [s.strip() for s in (release.get("style") or "").split(",") if s.strip()]
    genres = [g.strip() for g in (release.get("genre") or "").split(",") if g.strip()]
    genre = genres[0] if genres else ""
    tags = [s.lower() for s in styles if s.lower() != "compilation"] + [g.lower() for g in genres[1:]]
    energy = _energy_from_activity(row.get("activity")) or _energy_from_activity(release.get("activity"))
    rating = row.get("rating") if (row.get("rating") or "0") != "0" else release.get("rating")
    artist = row.get("trackartist") or release.get("artist")
    return {
        "id": f"{row['id']}:{row.get('disc') or 1}:{row.get('track') or 0}",
        "title": row.get("title"), "artist": artist, "album": release.get("album"),
        "year": release.get("year") or None, "genre": genre.lower().replace("hip hop", "hip-hop") or None,
        "tags": tags, "moods": moods_for_tags(tags, genre) or moods_for_energy(energy), "energy": energy,
        "duration_s": row.get("duration") or None, "rating": rating or None,
        "description": _freemusicc_description(release, styles, genre),
        "audio_url": row.get("trackurl") or None, "license": release.get("licenseurl") or None,
        "source": "freemusi.cc",
    }


READERS: dict[str, Callable[[Path], Iterator[Row]]] = {
    "jsonl": read_jsonl, "csv": read_csv, "freemusicc": read_freemusicc, "cpcd": read_cpcd,
    "musiccaps": read_musiccaps,
}


def detect_format(path: Path) -> str:
    """Guess a source's format from its name and first record."""
    if path.is_dir():
        if (path / "tracks.csv").is_file() and (path / "releases.csv").is_file():
            return "freemusicc"
        raise CatalogError(f"{path}: a folder is only understood as freemusi.cc (tracks.csv + releases.csv)")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        with path.open("rb") as handle:
            first = handle.readline(65536).decode("utf-8", errors="replace")
        return "cpcd" if '"track_ids"' in first else "jsonl"
    if suffix in (".csv", ".tsv"):
        with path.open(encoding="utf-8", errors="replace") as handle:
            header = handle.readline()
        if "ytid" in header and "caption" in header:
            return "musiccaps"
        if "trackartist" in header and (path.parent / "releases.csv").is_file():
            return "freemusicc"
        return "csv"
    raise CatalogError(f"{path}: cannot tell the format from the name; pass --format")


def read_source(path: Path, fmt: str = "auto") -> Iterator[Row]:
    """Every row of one source, with duplicate ids (within this source) reported as bad rows."""
    if not path.exists():
        raise CatalogError(f"{path}: no such file or folder")
    if fmt not in FORMATS:
        raise CatalogError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt != "freemusicc" and path.is_dir():
        raise CatalogError(f"{path}: is a folder; format {fmt} reads a file")
    seen: dict[str, str] = {}
    for row in READERS[fmt](path):
        if row.track is not None:
            first = seen.get(row.track.id)
            if first is not None:
                yield _bad(row.file, row.line, f"duplicate id {row.track.id!r} (first at line {first})")
                continue
            seen[row.track.id] = str(row.line)
        yield row
