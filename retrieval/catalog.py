"""`Catalog`: the front door of retrieval. Ingest sources into a collection, search it, fetch tracks.

    from retrieval import Catalog
    catalog = Catalog("demo")
    catalog.ingest([Settings.load().demo_catalog])
    for hit in catalog.search("rainy evening jazz", k=5):
        print(hit.track.title, hit.why)
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tqdm import tqdm

from .embed import Embedder, get_embedder
from .errors import CatalogError
from .genres import GENRE_WORDS
from .importers import BadRow, read_source
from .infer import LexiconReader, MoodModel, infer_tracks, needs_inference, reader_for
from .lexical import LexicalIndex
from .mood import lexicon_words
from .query import ArtistMatcher, Request, read_request
from .records import Track
from .search import Filters, Hit, admitted_ids, search
from .settings import DEFAULT_COLLECTION, Settings
from .store import Store, check_collection_name
from .text import phrase_key

BATCH = 256
RECHECK_S = 5.0
PAGE = 5000


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: list[BadRow] = field(default_factory=list)
    total: int = 0  # tracks in the collection afterwards

    @property
    def ingested(self) -> int:
        return self.added + self.updated + self.unchanged


class Catalog:
    """One named collection of tracks, in Chroma plus its local lexical index."""

    def __init__(self, name: str = DEFAULT_COLLECTION, embedder: Embedder | None = None, store: Store | None = None,
                 settings: Settings | None = None):
        self.settings = settings or Settings.load()
        self.name = check_collection_name(name)
        self.embedder = embedder or get_embedder(self.settings)
        self.store = store or Store(self.embedder, settings=self.settings)
        self.lexical_dir = self.settings.lexical_path(self.name)  # fixed now, like the store's path
        self._collection = None
        self._index: LexicalIndex | None = None
        self._artists: tuple[LexicalIndex, ArtistMatcher] | None = None
        self._checked = 0.0
        self._reader: MoodModel | LexiconReader | None = None

    # --- writing ---------------------------------------------------------------------------------------------

    def ingest(self, paths: Iterable[Path], fmt: str = "auto", reset: bool = False,
               on_bad: Callable[[BadRow], None] | None = None, progress: bool | None = None,
               infer: bool = True) -> IngestReport:
        """Upsert every good row of every source; bad rows are reported and skipped. Safe to re-run after a
        crash: rows already stored unchanged are skipped without re-embedding. With `infer`, a track whose
        source gave no moods, energy or valence gets them read from its own text (`retrieval.infer`), from the
        embedding computed here anyway, and stored apart from the given fields."""
        paths = list(paths)
        for path in paths:  # read each source's first row now: a wrong file fails before anything is touched
            next(iter(read_source(path, fmt)), None)
        if reset:
            self.drop()
        collection = self._open(create=True)
        report = IngestReport()
        batch: list[Track] = []
        for path in paths:
            bar = tqdm(desc=f"ingest {path.name}", unit=" rows", total=_count_lines(path), file=sys.stderr,
                       disable=progress is False or (progress is None and not sys.stderr.isatty()), mininterval=0.5)
            for row in read_source(path, fmt):
                bar.update(1)
                if row.bad is not None:
                    report.bad.append(row.bad)
                    if on_bad:
                        on_bad(row.bad)
                    continue
                batch.append(self._prepared(row.track) if infer else row.track)
                if len(batch) >= BATCH:
                    self._upsert(collection, batch, report, infer)
                    batch = []
            if batch:
                self._upsert(collection, batch, report, infer)
                batch = []
            bar.close()
        report.total = collection.count()
        self.rebuild_index()
        return report

    def _upsert(self, collection, tracks: list[Track], report: IngestReport, infer: bool = False) -> None:
        unique = {t.id: t for t in tracks}  # a later row with the same id wins, as an upsert would
        stored = collection.get(ids=list(unique), include=["metadatas"])
        known = {i: (m or {}).get("fingerprint") for i, m in zip(stored["ids"], stored["metadatas"], strict=True)}
        changed = [t for t in unique.values() if known.get(t.id) != t.fingerprint()]
        report.unchanged += len(unique) - len(changed)
        report.updated += sum(1 for t in changed if t.id in known)
        report.added += sum(1 for t in changed if t.id not in known)
        if changed:
            documents = [t.document() for t in changed]
            vectors = self.embedder.encode(documents)
            if infer:
                changed = infer_tracks(changed, vectors, self._mood_reader())
            collection.upsert(ids=[t.id for t in changed], documents=documents, embeddings=vectors,
                              metadatas=[t.metadata() for t in changed])

    def _prepared(self, track: Track) -> Track:
        """A track to infer moods for carries the reader's version before it is compared with the stored one, so
        a re-ingest with the same reader finds it unchanged and another reader (or --no-infer) redoes it."""
        if not needs_inference(track):
            return track
        return track.model_copy(update={"mood_model": self._mood_reader().version})

    def _mood_reader(self) -> MoodModel | LexiconReader:
        """The packaged mood model when it fits this catalog's embedder (loaded once), else the lexicon."""
        if self._reader is None:
            self._reader = reader_for(self.embedder)
        return self._reader

    def drop(self) -> None:
        self.store.drop(self.name)
        shutil.rmtree(self.lexical_dir, ignore_errors=True)
        self._collection = None
        self._index = None

    # --- reading ---------------------------------------------------------------------------------------------

    def count(self) -> int:
        return self._open().count()

    def tracks(self) -> list[Track]:
        """Every track in the collection, read page by page from the store."""
        collection = self._open()
        tracks: list[Track] = []
        offset = 0
        while True:
            page = collection.get(include=["metadatas"], limit=PAGE, offset=offset)
            tracks += [Track.from_metadata(m) for m in page["metadatas"]]
            if len(page["ids"]) < PAGE:
                return tracks
            offset += PAGE

    def get(self, track_id: str) -> Track:
        found = self._open().get(ids=[track_id], include=["metadatas"])
        if not found["ids"]:
            raise CatalogError(f"no track {track_id!r} in collection {self.name!r}")
        return Track.from_metadata(found["metadatas"][0])

    def index(self) -> LexicalIndex:
        """The lexical index, loaded from disk or rebuilt when it no longer matches the collection.

        Counting a large collection is not free, so a loaded index is re-checked at most every few seconds
        (enough to notice another process's ingest without taxing every request)."""
        if self._index is not None and time.monotonic() - self._checked < RECHECK_S:
            return self._index
        count = self.count()
        self._checked = time.monotonic()
        if self._index is not None and len(self._index) == count:
            return self._index
        loaded = LexicalIndex.load(self.lexical_dir)
        if loaded is not None and len(loaded) == count:
            self._index = loaded
            return loaded
        return self.rebuild_index()

    def rebuild_index(self) -> LexicalIndex:
        self._index = LexicalIndex.build(self.tracks())
        self._checked = time.monotonic()
        self._index.save(self.lexical_dir)
        return self._index

    def artist_matcher(self) -> ArtistMatcher:
        """Recognises this catalog's artists in text; rebuilt when the index changes."""
        index = self.index()
        if self._artists is None or self._artists[0] is not index:
            self._artists = (index, ArtistMatcher(index.named_artists(), _vocabulary()))
        return self._artists[1]

    def read(self, text: str) -> Request:
        return read_request(text, self.artist_matcher())

    def search(self, text: str | Request, k: int = 10, filters: Filters | None = None,
               max_per_artist: int | None = 2) -> list[Hit]:
        request = text if isinstance(text, Request) else self.read(text)
        if k < 1:
            raise CatalogError("k must be at least 1")
        return search(self.index(), self._open(), self.embedder, request, k, filters, max_per_artist)

    def vectors(self, ids: list[str]) -> dict[str, list[float]]:
        """The stored embeddings of `ids` (those that exist)."""
        if not ids:
            return {}
        found = self._open().get(ids=list(dict.fromkeys(ids)), include=["embeddings"])
        return {i: list(map(float, v)) for i, v in zip(found["ids"], found["embeddings"], strict=True)}

    def near(self, vector: list[float], k: int = 10, filters: Filters | None = None) -> list[tuple[Track, float]]:
        """Tracks whose embedding is closest to `vector` (cosine similarity), best first, within `filters`."""
        filters = filters or Filters()
        index = self.index()
        ids = admitted_ids(index, filters) if filters.needs_ids else None  # constraints Chroma's where cannot see
        if ids is not None and not ids:
            return []
        found = self._open().query(query_embeddings=[vector], n_results=max(1, min(k, len(ids or index))),
                                   ids=ids, where=filters.where(), include=["distances"])
        pairs = [(index.get(i), 1.0 - d) for i, d in zip(found["ids"][0], found["distances"][0], strict=True)]
        return [(t, s) for t, s in pairs if t is not None and filters.admits(t)]

    def _open(self, create: bool = False):
        if self._collection is None or create:
            self._collection = self.store.collection(self.name, create=create)
        return self._collection


def _count_lines(path: Path) -> int | None:
    """Rows to expect, for the progress bar (a folder counts its tracks.csv)."""
    target = path / "tracks.csv" if path.is_dir() else path
    try:
        with target.open("rb") as handle:
            return max(sum(1 for _ in handle) - (1 if target.suffix == ".csv" else 0), 0)
    except OSError:
        return None


@lru_cache(maxsize=1)
def _vocabulary() -> frozenset[str]:
    """Words that are music vocabulary, never a misspelt artist name."""
    genres = {w for phrase, words in GENRE_WORDS.items() for x in (phrase, *words) for w in phrase_key(x).split()}
    return frozenset(genres) | lexicon_words()
