"""Near-duplicate detection for the fine-tuning corpus: MinHash signatures over word 3-grams, banded (LSH) to find
candidate pairs, the exact Jaccard similarity of their shingles to decide.

    from finetune.dedup import near_duplicates
    near_duplicates(["a slow warm ballad ...", "a slow warm ballad ..."])  # {1}
"""

from __future__ import annotations

import re
import zlib

import numpy as np


def normal(text: str) -> str:
    """Lower-case words only: what two texts are compared on."""
    return " ".join(re.findall(r"\w+", text.casefold()))


class MinHash:
    """MinHash signatures with the universal hashes h(x) = (a*x + b) mod p, p = 2^31 - 1 (Broder 1997).

    Shingles are reduced below p and a, b drawn below p, so a*x + b < 2^62 never wraps in uint64: each row is
    the hash it claims to be, and the share of equal rows in two signatures estimates their Jaccard similarity.
    """

    PRIME = (1 << 31) - 1

    def __init__(self, permutations: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.a = rng.integers(1, self.PRIME, permutations, dtype=np.uint64)
        self.b = rng.integers(0, self.PRIME, permutations, dtype=np.uint64)

    def signature(self, shingles: set[int]) -> np.ndarray:
        values = np.fromiter((v % self.PRIME for v in shingles), dtype=np.uint64, count=len(shingles))
        if not len(values):
            values = np.zeros(1, dtype=np.uint64)
        return ((self.a[:, None] * values[None, :] + self.b[:, None]) % self.PRIME).min(axis=1)


def shingles(text: str) -> set[int]:
    """Word 3-grams of the normalised text, as 32-bit hashes."""
    words = normal(text).split()
    return {zlib.crc32(" ".join(words[j:j + 3]).encode()) for j in range(max(1, len(words) - 2))}


def jaccard(a: set[int], b: set[int]) -> float:
    return len(a & b) / max(1, len(a | b))


def near_duplicates(texts: list[str], threshold: float = 0.8, bands: int = 16, rows: int = 4) -> set[int]:
    """Indexes of texts that are near-copies of an earlier one: MinHash LSH over word 3-grams finds candidates
    (a pair at Jaccard 0.8 shares a band with probability 1 - (1 - 0.8^4)^16 > 0.999), and the exact Jaccard of
    their shingles decides."""
    hasher = MinHash(bands * rows)
    seen: list[set[int]] = []
    buckets: dict[tuple, list[int]] = {}
    dropped: set[int] = set()
    for i, text in enumerate(texts):
        grams = shingles(text)
        seen.append(grams)
        signature = hasher.signature(grams)
        candidates = set()
        for band in range(bands):
            key = (band, *signature[band * rows:(band + 1) * rows].tolist())
            candidates.update(buckets.get(key, []))
            buckets.setdefault(key, []).append(i)
        if any(j not in dropped and jaccard(grams, seen[j]) >= threshold for j in sorted(candidates)):
            dropped.add(i)
    return dropped
