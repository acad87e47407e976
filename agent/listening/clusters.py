"""Taste clusters: a listener who plays both metal and bossa nova has two tastes, not their average.

Weighted spherical k-means over the embeddings of the tracks a listener plays, for k = 1..4; the k with the best
weighted silhouette wins, and one cluster is kept unless splitting clearly separates the tastes. Deterministic:
seeds are the heaviest tracks, spread out (k-means++ without the randomness).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from retrieval.lexical import LexicalIndex

MAX_K = 4
MIN_SILHOUETTE = 0.12  # below this a split is noise: one taste
MIN_SHARE = 0.08  # a cluster holding less of the weight than this is folded into its neighbour
SAMPLE = 600  # tracks considered at most (the heaviest): enough for a taste, cheap to cluster


@dataclass
class Cluster:
    centroid: list[float]
    share: float  # of the listener's positive weight
    label: str  # its top genre and artists, for people
    members: list[str]  # track ids, heaviest first

    def to_dict(self) -> dict:
        return {"share": round(self.share, 3), "label": self.label, "tracks": len(self.members)}


def clusters(vectors: dict[str, list[float]], weights: dict[str, float], index: LexicalIndex) -> list[Cluster]:
    ids = sorted((i for i in vectors if weights.get(i, 0) > 0), key=lambda i: (-weights[i], i))[:SAMPLE]
    if not ids:
        return []
    x = np.array([vectors[i] for i in ids], dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True) + 1e-9
    w = np.array([weights[i] for i in ids], dtype=np.float32)
    best = np.zeros(len(ids), dtype=int)
    best_score = MIN_SILHOUETTE
    for k in range(2, min(MAX_K, len(ids) // 2) + 1):
        labels = _kmeans(x, w, k)
        if min(w[labels == c].sum() for c in range(k)) < MIN_SHARE * w.sum():
            continue
        score = _silhouette(x, w, labels)
        if score > best_score:
            best, best_score = labels, score
    out = []
    for c in sorted(set(best.tolist()), key=lambda c: -w[best == c].sum()):
        mask = best == c
        centroid = (x[mask] * w[mask, None]).sum(axis=0)
        centroid /= np.linalg.norm(centroid) + 1e-9
        members = [ids[j] for j in np.flatnonzero(mask)]
        out.append(Cluster(centroid.tolist(), float(w[mask].sum() / w.sum()), _label(members, weights, index),
                           members))
    return out


def _kmeans(x: np.ndarray, w: np.ndarray, k: int, rounds: int = 25) -> np.ndarray:
    centres = [x[0]]  # the heaviest track, then each next seed the one farthest from the seeds so far
    for _ in range(1, k):
        similarity = np.max(np.stack([x @ c for c in centres]), axis=0)
        centres.append(x[int(np.argmin(similarity))])
    c = np.stack(centres)
    labels = np.zeros(len(x), dtype=int)
    for _ in range(rounds):
        new = np.argmax(x @ c.T, axis=1)
        if np.array_equal(new, labels) and _ > 0:
            break
        labels = new
        for j in range(k):
            mask = labels == j
            if mask.any():
                m = (x[mask] * w[mask, None]).sum(axis=0)
                c[j] = m / (np.linalg.norm(m) + 1e-9)
    return labels


def _silhouette(x: np.ndarray, w: np.ndarray, labels: np.ndarray) -> float:
    """Weighted mean silhouette with cosine distance."""
    d = 1.0 - x @ x.T
    scores = []
    for i in range(len(x)):
        own = labels == labels[i]
        own[i] = False
        if not own.any():
            scores.append(0.0)
            continue
        a = float(np.average(d[i, own], weights=w[own]))
        b = min(float(np.average(d[i, labels == c], weights=w[labels == c]))
                for c in set(labels.tolist()) if c != labels[i])
        scores.append((b - a) / max(a, b, 1e-9))
    return float(np.average(scores, weights=w))


def _label(members: list[str], weights: dict[str, float], index: LexicalIndex) -> str:
    genres: Counter[str] = Counter()
    artists: Counter[str] = Counter()
    for track_id in members:
        track = index.get(track_id)
        if track is None:
            continue
        if track.genre:
            genres[track.genre] += weights[track_id]
        if track.artist:
            artists[track.artist] += weights[track_id]
    names = [a for a, _ in artists.most_common(3)]
    head = genres.most_common(1)[0][0] if genres else "music"
    return f"{head} ({', '.join(names)})" if names else head
