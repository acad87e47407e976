"""The taste model's logic, fast (no Chroma, no model): play weights and taste clusters."""

from __future__ import annotations

import numpy as np

from agent.listening.clusters import clusters
from agent.listening.profile import FULL, SKIP, _weight
from retrieval import Track

DAY = 86_400


class Index:
    def __init__(self, tracks):
        self.tracks = {t.id: t for t in tracks}

    def get(self, track_id):
        return self.tracks.get(track_id)


def test_plays_skips_loves_and_recency_weigh_as_a_listener_means_them():
    now = 1_700_000_000
    assert _weight(now, "listen", 200_000, 0, None, now) == FULL
    assert _weight(now, "listen", 12_000, None, None, now) == SKIP < 0  # a short play counts against
    assert _weight(now, "listen", None, 1, None, now) == SKIP  # a skip, whatever its length
    assert _weight(now, "feedback", None, None, 1.0, now) > 3 * FULL - 1e-9  # loved: three plays' worth
    assert _weight(now, "feedback", None, None, -1.0, now) < 0
    assert abs(_weight(now - 365 * DAY, "listen", None, None, None, now) - FULL / 2) < 1e-6  # a year older: half
    assert _weight(0, "listen", None, None, None, now) == FULL  # no time known: no decay


def _axes() -> tuple[np.ndarray, np.ndarray]:
    a, b = np.zeros(32), np.zeros(32)
    a[0], b[1] = 1.0, 1.0
    return a, b


def _group(centre: np.ndarray, n: int, rng, prefix: str, genre: str):
    vectors, tracks = {}, []
    for i in range(n):
        v = centre + 0.15 * rng.standard_normal(centre.shape)
        vectors[f"{prefix}{i}"] = (v / np.linalg.norm(v)).tolist()
        tracks.append(Track(id=f"{prefix}{i}", title=f"{prefix} {i}", artist=f"{prefix} band {i % 3}", genre=genre))
    return vectors, tracks


def test_two_separate_tastes_are_two_clusters_and_one_is_one():
    rng = np.random.default_rng(1)
    a, b = _axes()
    va, ta = _group(a, 12, rng, "m", "metal")
    vb, tb = _group(b, 8, rng, "j", "jazz")
    weights = {i: 2.0 for i in va} | {i: 1.0 for i in vb}
    found = clusters(va | vb, weights, Index(ta + tb))
    assert len(found) == 2
    assert found[0].label.startswith("metal") and found[1].label.startswith("jazz")
    assert abs(found[0].share - 24 / 32) < 1e-6
    one = clusters(va, {i: 1.0 for i in va}, Index(ta))
    assert len(one) == 1 and one[0].label.startswith("metal")


def test_a_tiny_side_taste_does_not_split_the_profile():
    rng = np.random.default_rng(2)
    a, b = _axes()
    va, ta = _group(a, 30, rng, "m", "metal")
    vb, tb = _group(b, 2, rng, "j", "jazz")
    weights = {i: 1.0 for i in va} | {i: 0.5 for i in vb}  # 1 of 31 weight units: under the folding share
    assert len(clusters(va | vb, weights, Index(ta + tb))) == 1


def test_skipped_tracks_are_not_part_of_any_taste():
    rng = np.random.default_rng(3)
    a, _ = _axes()
    va, ta = _group(a, 6, rng, "m", "metal")
    weights = {i: 1.0 for i in va} | {"m0": -2.0}
    found = clusters(va, weights, Index(ta))
    assert found and all("m0" not in c.members for c in found)
    assert {m for c in found for m in c.members} == set(va) - {"m0"}
