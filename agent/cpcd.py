"""`encore eval cpcd`: turn-by-turn playlist ranking on Conversational Playlist Curation Dataset dialogs, scored with
the dataset's own protocol (Chaganty et al. 2023, github.com/google-research-datasets/cpcd, eval.py): per turn,
the first 3 liked tracks of each earlier turn are removed from predictions and goal, tracks are compared by
cluster, Hit@k and MRR@k are averaged per dialog and then over dialogs.

Encore ranks from what a listener could have said or done: each turn's user text, earlier system responses and
the liked/disliked tracks of *earlier* turns, never the wizard's searches or the goal playlist. Two baselines run
in the same pass: BM25 and dense retrieval (the same embedder), each with query = all user turns so far.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from retrieval import Catalog, CatalogError
from retrieval.fusion import fuse

K = 100
KS = (10, 100)
SEEDS_PER_TURN = 3  # the protocol's num_prev_tracks
STOP = set("""a an the and or but to of for in on at by with from into about as is are was were be been it its this
that i me my we you your some any more less no not just very really please can could would should will want need
give play add adding added song songs track tracks music something anything like love listen listening also
other else too much many maybe great good nice thanks thank okay ok yes hi hello hey list playlist artist artists
artists' more mix some kind type style genre one ones do does did have has get let make put new old see time""".split())


@dataclass
class Dialog:
    id: str
    turns: list[dict[str, Any]]
    goal: list[str] = field(default_factory=list)
    clusters: dict[str, str] = field(default_factory=dict)


def load_dialogs(path: Path) -> list[Dialog]:
    """Read a CPCD dialogs JSONL; a line that is not a dialog is a CatalogError naming its line."""
    if not path.is_file():
        raise CatalogError(f"{path}: no such file")
    dialogs = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            turns = [t for t in obj["turns"] if isinstance(t, dict)]
            if not turns or not all("user_query" in t for t in turns):
                raise KeyError("turns[].user_query")
            tracks = obj.get("tracks") or {}
            clusters = {tid: str(t.get("track_cluster_ids") or tid) for tid, t in tracks.items()
                        if isinstance(t, dict)}
            dialogs.append(Dialog(str(obj["id"]), turns, list(obj.get("goal_playlist") or []), clusters))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise CatalogError(f"{path}:{number}: not a CPCD dialog ({error})") from error
    if not dialogs:
        raise CatalogError(f"{path}: no dialogs")
    return dialogs


class ArtistFinder:
    """Artist names in free text, tolerant of typos ("Ed Sharon", "addele") and of lower case."""

    def __init__(self, names_to_ids: dict[str, list[str]]):
        self.ids = names_to_ids
        self.names = list(names_to_ids)

    def find(self, text: str) -> list[str]:
        tokens = re.findall(r"[\w'&.$!+-]+", text.casefold())
        found: list[tuple[int, str]] = []
        taken: set[int] = set()
        for size in (4, 3, 2, 1):
            for start in range(len(tokens) - size + 1):
                span = range(start, start + size)
                if taken & set(span):
                    continue
                gram = " ".join(tokens[start:start + size]).strip(".,!?")
                if all(t in STOP for t in tokens[start:start + size]) or len(gram) < 3:
                    continue
                cutoff = 100 if len(gram) < 5 else (88 if size == 1 else 84)
                match = process.extractOne(gram, self.names, scorer=fuzz.ratio, score_cutoff=cutoff)
                if match:
                    found.append((start, match[0]))
                    taken |= set(span)
        return [name for _, name in sorted(found)]


def _artist_names(catalog: Catalog) -> dict[str, list[str]]:
    index = catalog.index()
    names: dict[str, list[str]] = defaultdict(list)
    for track_id in index.ids:
        track = index.get(track_id)
        for name in re.split(r",\s*|\s+feat\.?\s+|\s+&\s+", track.artist or ""):
            if name.strip():
                names[name.strip().casefold()].append(track_id)
    return dict(names)


class Ranker:
    """Encore's conversational ranking over a catalog, plus the two baselines."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.index = catalog.index()
        self.artists = ArtistFinder(_artist_names(catalog))
        ids = self.index.ids
        vectors = catalog.vectors(list(ids))
        self.ids = [i for i in ids if i in vectors]
        self.matrix = np.array([vectors[i] for i in self.ids], dtype=np.float32)
        self.matrix /= np.linalg.norm(self.matrix, axis=1, keepdims=True) + 1e-9
        self.row = {i: n for n, i in enumerate(self.ids)}

    def dense(self, text: str, k: int = K) -> list[str]:
        if not text.strip():
            return []
        query = np.asarray(self.catalog.embedder.encode_query(text), dtype=np.float32)
        return self._top(self.matrix @ query, k)

    def bm25(self, text: str, k: int = K) -> list[str]:
        return [self.index.ids[row] for row, _ in self.index.search(text, k)]

    def _top(self, scores: np.ndarray, k: int) -> list[str]:
        top = np.argpartition(-scores, min(k, len(scores) - 1))[:k]
        return [self.ids[i] for i in top[np.argsort(-scores[top])]]

    def encore(self, dialog: Dialog, turn: int, k: int = K) -> list[str]:
        """Rank for `turn` from user turns up to it and feedback from earlier turns."""
        users = [t["user_query"] or "" for t in dialog.turns[:turn + 1]]
        liked = [i for t in dialog.turns[:turn] for i in t.get("liked_results") or [] if i in self.row]
        disliked = {i for t in dialog.turns[:turn] for i in t.get("disliked_results") or []}
        now, before = users[-1], " ".join(users[:-1])
        query = " ".join(users)
        lists: list[tuple[list[str], float]] = []
        artists_now = self.artists.find(now)
        artists_before = [a for a in self.artists.find(before) if a not in artists_now]
        if artists_now:
            lists.append((self._by_artists(artists_now, query), 2.0))
        if artists_before:
            lists.append((self._by_artists(artists_before, query), 1.0))
        if liked:
            liked_artists = list(dict.fromkeys(a for i in liked for a in self._artists_of(i)))
            lists.append((self._by_artists(liked_artists, query), 1.2))
            centroid = self.matrix[[self.row[i] for i in liked]].mean(axis=0)
            lists.append((self._top(self.matrix @ centroid, k), 0.8))
        lists.append((self.dense(now, k), 1.0))
        if before:
            lists.append((self.dense(query, k), 0.7))
        lists.append((self.bm25(now, k), 0.5))
        fused = fuse([ranking for ranking, _ in lists], [weight for _, weight in lists], depth=300)
        disliked_artists = {a for i in disliked for a in self._artists_of(i)}
        out = []
        for track_id, score in sorted(fused.items(), key=lambda kv: -kv[1]):
            if track_id in disliked or track_id in liked:
                continue  # a real playlist already holds the liked ones; disliked ones never come back
            if disliked_artists & set(self._artists_of(track_id)) and not set(artists_now) & set(
                    self._artists_of(track_id)):
                score *= 0.5
            out.append((score, track_id))
        out.sort(key=lambda s: -s[0])
        return [i for _, i in out[:k]]

    def _artists_of(self, track_id: str) -> list[str]:
        track = self.index.get(track_id)
        if track is None or not track.artist:
            return []
        return [n.strip().casefold() for n in re.split(r",\s*|\s+feat\.?\s+|\s+&\s+", track.artist) if n.strip()]

    def _by_artists(self, names: list[str], query: str) -> list[str]:
        """Tracks by these artists, interleaved so each artist gets early places; within one, closest first."""
        scores = self.matrix @ np.asarray(self.catalog.embedder.encode_query(query), dtype=np.float32)
        per = []
        for name in names:
            ids = [i for i in self.artists.ids.get(name, []) if i in self.row]
            per.append(sorted(ids, key=lambda i: -scores[self.row[i]]))
        out: list[str] = []
        for group in _interleave(per):
            if group not in out:
                out.append(group)
        return out


def _interleave(lists: list[list[str]]) -> Iterable[str]:
    for position in range(max((len(x) for x in lists), default=0)):
        for items in lists:
            if position < len(items):
                yield items[position]


def score(dialogs: list[Dialog], predictions: dict[str, list[list[str]]], clusters: dict[str, str]) -> dict:
    """Hit@k and MRR@10 with the CPCD protocol; macro-averaged (per dialog, then over dialogs)."""
    per_dialog: dict[str, list[float]] = defaultdict(list)
    for dialog in dialogs:
        if not dialog.goal:
            continue
        cluster = {**clusters, **dialog.clusters}.get
        gold = _clusters(dialog.goal, cluster)
        seen: set[str] = set()
        values: dict[str, list[float]] = defaultdict(list)
        for turn, preds in enumerate(predictions[dialog.id]):
            if turn > 0:
                seen |= set(_clusters(dialog.turns[turn - 1].get("liked_results", [])[:SEEDS_PER_TURN], cluster))
            kept_gold = [g for g in gold if g not in seen]
            if not kept_gold:
                continue
            ranked = [p for p in _clusters(preds, cluster) if p not in seen]
            for k in KS:
                values[f"hit@{k}"].append(float(bool(set(ranked[:k]) & set(kept_gold))))
            values["mrr@10"].append(next((1 / (i + 1) for i, p in enumerate(ranked[:10]) if p in kept_gold), 0.0))
        for name, vals in values.items():
            per_dialog[name].append(sum(vals) / len(vals))
    return {name: round(float(np.mean(v)), 4) for name, v in per_dialog.items()} | {
        "dialogs": len(per_dialog.get("hit@10", []))}


def _clusters(ids: list[str], cluster) -> list[str]:
    out: list[str] = []
    for track_id in ids:
        c = cluster(track_id) or track_id
        if c not in out:
            out.append(c)
    return out


def load_clusters(path: Path | None) -> dict[str, str]:
    """track id -> cluster id from a CPCD tracks.jsonl (optional: dialogs carry their own tracks)."""
    if path is None or not path.is_file():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            row = json.loads(line)
            out[str(row["track_ids"])] = str(row.get("track_cluster_ids") or row["track_ids"])
        except (ValueError, KeyError, TypeError):
            continue
    return out


def run(catalog: Catalog, dialogs: list[Dialog], out: Path, clusters: dict[str, str],
        baselines: bool = True) -> dict[str, dict]:
    """Write Encore's predictions to `out` (one line per dialog turn) and return metrics per system."""
    if catalog.count() == 0:
        raise CatalogError(f"collection '{catalog.name}' is empty; ingest the CPCD tracks.jsonl into it first")
    ranker = Ranker(catalog)
    systems = {"encore": ranker.encore}
    if baselines:
        systems["bm25 (all user turns)"] = lambda d, t, k=K: ranker.bm25(_users(d, t), k)
        systems["dense (all user turns)"] = lambda d, t, k=K: ranker.dense(_users(d, t), k)
    predictions: dict[str, dict[str, list[list[str]]]] = {name: {} for name in systems}
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for dialog in dialogs:
            for name, system in systems.items():
                predictions[name][dialog.id] = [system(dialog, t) for t in range(len(dialog.turns))]
            for t, ranked in enumerate(predictions["encore"][dialog.id]):
                handle.write(json.dumps({"docid": f"{dialog.id}:{t}", "neighbor": [{"docid": i} for i in ranked]})
                             + "\n")
    if not any(d.goal for d in dialogs):
        return {}
    return {name: score(dialogs, preds, clusters) for name, preds in predictions.items()}


def _users(dialog: Dialog, turn: int) -> str:
    return " ".join(t["user_query"] or "" for t in dialog.turns[:turn + 1])
