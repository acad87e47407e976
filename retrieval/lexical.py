"""The local side index of a collection: BM25 (bm25s) over track documents, plus compact per-track facts.

Chroma stays the source of truth. This index is derived from it, kept under `$ENCORE_HOME/bm25/<collection>`,
and rebuilt whenever its track count no longer matches the collection's (for example after an ingest that was
killed half way, or an ingest by another machine into a shared Chroma server).
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import bm25s
import Stemmer
from bm25s.tokenization import Tokenizer

from .records import Track, billed_names
from .text import phrase_key

_FORMAT = 1
PARSED_CACHE = 50_000  # parsed Track objects kept; the raw JSON of every track stays in memory anyway


def _tokenizer() -> Tokenizer:
    return Tokenizer(stemmer=Stemmer.Stemmer("english"), stopwords="en")


_STRING = r'"(?:[^"\\]++|\\.)*+"'  # a JSON string literal (possessive: no backtracking)
_HEAD = re.compile(rf'\{{"id":{_STRING},"title":({_STRING})(?:,"artist":({_STRING}))?')


def _literal(text: str) -> str:
    """A JSON string literal's value (most need no unescaping)."""
    return text[1:-1] if "\\" not in text else json.loads(text)


@dataclass
class LexicalIndex:
    """BM25 retrieval plus the facts the ranker needs for every track, addressable by row number."""

    ids: list[str]
    records: list[str]  # Track JSON, parsed on demand: parsing 200k records up front would cost seconds
    retriever: bm25s.BM25
    tokenizer: Tokenizer
    artists: dict[str, str]  # casefolded artist name -> display name, to recognise artists a request names

    def __post_init__(self) -> None:
        self.row = {track_id: i for i, track_id in enumerate(self.ids)}
        self._lock = threading.Lock()
        self._tracks: OrderedDict[int, Track] = OrderedDict()  # parsed records, most recently used last

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def billings(self) -> dict[str, frozenset[str]]:
        """Each billed name -> every artist field it appears in: "drake" -> {"drake", "drake, 21 savage", ...}.
        A name counts when it has two words or more, or is an artist of its own here."""
        out: dict[str, set[str]] = {}
        for key in self.artists:
            for part in billed_names(key):
                if part == key or " " in part or part in self.artists:
                    out.setdefault(part, set()).add(key)
        return {part: frozenset(keys) for part, keys in out.items()}

    def named_artists(self) -> dict[str, str]:
        """Artist keys -> display names, billed names included ("Drake" of "Drake, 21 Savage")."""
        out = dict(self.artists)
        for part in self.billings:
            if part not in out:
                display = next((p for p in billed_names(self.artists[min(self.billings[part])], keep_case=True)
                                if p.casefold() == part), part)
                out[part] = display
        return out

    def billed(self, names: frozenset[str] | set[str]) -> frozenset[str]:
        """The artist fields that bill any of `names` (casefolded): what a filter on those artists must match."""
        return frozenset(key for name in names for key in self.billings.get(name, (name,)))

    @cached_property
    def labels_genres(self) -> bool:
        """Some track has a genre or a tag: only then can a genre be asked for as a hard constraint (a catalog of
        titles or plain descriptions is matched on its words instead)."""
        return any('"genre":' in record or '"tags":["' in record for record in self.records)

    @cached_property
    def labels_years(self) -> bool:
        """Some track has a year: only then is an era a hard constraint (a catalog without years cannot check
        one, and showing nothing would help no one)."""
        return any('"year":' in record for record in self.records)

    @cached_property
    def years(self) -> list[int | None]:
        """Each row's year (None where the record has none), read once from the records without parsing them."""
        found = (re.search(r'"year":(\d+)', record) for record in self.records)
        return [int(m.group(1)) if m else None for m in found]

    def rows_in_years(self, low: int | None, high: int | None) -> list[int]:
        """The rows of tracks from `low` to `high` (either open), without parsing the others."""
        return [row for row, year in enumerate(self.years)
                if year is not None and (low is None or year >= low) and (high is None or year <= high)]

    @classmethod
    def build(cls, tracks: list[Track]) -> LexicalIndex:
        tokenizer = _tokenizer()
        tokens = tokenizer.tokenize([t.document() for t in tracks], return_as="tuple", show_progress=False)
        retriever = bm25s.BM25()
        retriever.index(tokens, show_progress=False)
        artists: dict[str, str] = {}
        for track in tracks:
            if track.artist:
                artists.setdefault(track.artist_key, track.artist)
        return cls([t.id for t in tracks], [t.model_dump_json(exclude_none=True) for t in tracks], retriever,
                   tokenizer, artists)

    def track(self, row: int) -> Track:
        with self._lock:
            track = self._tracks.get(row)
            if track is None:
                track = self._tracks[row] = Track.model_validate_json(self.records[row])
                if len(self._tracks) > PARSED_CACHE:
                    self._tracks.popitem(last=False)
            else:
                self._tracks.move_to_end(row)
            return track

    def get(self, track_id: str) -> Track | None:
        row = self.row.get(track_id)
        return None if row is None else self.track(row)

    def names(self) -> list[tuple[str, str, str | None]]:
        """(id, title, artist) of every track, read from the front of each record: a record starts with these
        fields in this order (`Track`'s), so the rest of it (descriptions, lyrics) is never parsed."""
        out = []
        for track_id, record in zip(self.ids, self.records, strict=True):
            head = _HEAD.match(record)
            if head:
                artist = _literal(head.group(2)) if head.group(2) else None
                out.append((track_id, _literal(head.group(1)), artist))
            else:
                data = json.loads(record)
                out.append((track_id, data["title"], data.get("artist")))
        return out

    def titles(self) -> dict[str, list[str]]:
        """Normalised title -> track ids, for recognising titles a listener names."""
        out: dict[str, list[str]] = {}
        for row in range(len(self.ids)):
            record = json.loads(self.records[row])
            out.setdefault(phrase_key(record["title"]), []).append(record["id"])
        return out

    def search(self, text: str, k: int) -> list[tuple[int, float]]:
        """(row, score) of the best `k` tracks by BM25; empty when no query word is in the index."""
        if not self.ids or not text.strip():
            return []
        # stateless on purpose: a shared Tokenizer keeps the vocabulary of the first query it saw ("if_empty")
        # and silently drops the new words of every later query
        words = bm25s.tokenize([text], stopwords="en", stemmer=Stemmer.Stemmer("english"), return_ids=False,
                               show_progress=False)[0]
        query = [[w for w in words if w in self.retriever.vocab_dict]]
        if not query[0]:
            return []
        docs, scores = self.retriever.retrieve(query, k=min(k, len(self.ids)), show_progress=False, n_threads=1)
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def save(self, folder: Path) -> None:
        """Write to a temporary folder and swap it in, so a crash never leaves half an index behind."""
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        self.retriever.save(str(tmp / "bm25"), show_progress=False)
        with (tmp / "records.jsonl").open("w", encoding="utf-8") as handle:
            for record in self.records:
                handle.write(record + "\n")
        (tmp / "artists.json").write_text(json.dumps(self.artists, ensure_ascii=False), encoding="utf-8")
        (tmp / "manifest.json").write_text(json.dumps({"format": _FORMAT, "count": len(self.ids)}))
        old = folder.with_name(folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex | None:
        """The saved index, or None when there is none or it was written by another version."""
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
            if manifest.get("format") != _FORMAT:
                return None
            retriever = bm25s.BM25.load(str(folder / "bm25"), show_progress=False)
            tokenizer = _tokenizer()
            records = (folder / "records.jsonl").read_text(encoding="utf-8").splitlines()
            artists = json.loads((folder / "artists.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError):
            return None
        ids = [json.loads(r)["id"] for r in records]
        if len(ids) != manifest["count"]:
            return None
        return cls(ids, records, retriever, tokenizer, artists)

