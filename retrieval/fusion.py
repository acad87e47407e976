"""Reciprocal-rank fusion, the one formula every Encore ranking uses to merge ranked lists.

A track at 0-based `rank` in a list of weight `w` scores w / (RRF_K + rank + 1); its fused score is the sum over
the lists it appears in. RRF_K = 60 is the constant from Cormack, Clarke and Buettcher (SIGIR 2009): it damps
the head of each list so that agreement between lists counts for more than one list's first place.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TypeVar

RRF_K = 60
Key = TypeVar("Key", bound=Hashable)


def rrf_score(rank: int, weight: float = 1.0) -> float:
    """What one list contributes for an item at 0-based `rank`."""
    return weight / (RRF_K + rank + 1)


def fuse(rankings: Iterable[Iterable[Key]], weights: Sequence[float] | None = None,
         depth: int | None = None) -> dict[Key, float]:
    """Fused scores, in order of first appearance; `weights` per list (default 1), `depth` cuts each list."""
    fused: dict[Key, float] = {}
    for number, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[number]
        for rank, key in enumerate(ranking):
            if depth is not None and rank >= depth:
                break
            fused[key] = fused.get(key, 0.0) + rrf_score(rank, weight)
    return fused
