"""The corpus's near-duplicate finder: MinHash signatures that estimate Jaccard, and LSH that catches pairs at
0.8 but not at 0.5 (fast, no model)."""

import numpy as np

from finetune.corpus import MinHash, jaccard, near_duplicates, shingles

RNG = np.random.default_rng(7)
VOCAB = [f"w{i}" for i in range(50_000)]


def _pair(similarity: float) -> tuple[str, str]:
    """Two texts of 92 distinct words whose word 3-gram sets have exactly this Jaccard similarity: they share
    the first m words (m - 2 shared 3-grams of 90 each), then go their own ways."""
    shared = round(180 * similarity / (1 + similarity))  # x / (180 - x) = similarity
    words = list(RNG.choice(VOCAB, 92 + 92 - shared - 2, replace=False))
    first = words[:92]
    second = words[:shared + 2] + words[92:]
    return " ".join(first), " ".join(second)


def test_pairs_are_built_at_the_asked_similarity():
    for target in (0.5, 0.8):
        a, b = _pair(target)
        assert abs(jaccard(shingles(a), shingles(b)) - target) < 1e-9


def test_signatures_estimate_jaccard_without_overflow():
    hasher = MinHash(256, seed=1)
    assert (hasher.a < MinHash.PRIME).all() and (hasher.b < MinHash.PRIME).all()
    big = {2**32 - 1, 2**32 - 2, 123}
    expected = min(((int(a) * (v % MinHash.PRIME) + int(b)) % MinHash.PRIME) for v in big
                   for a, b in [(hasher.a[0], hasher.b[0])])
    assert int(hasher.signature(big)[0]) == expected  # the same as exact integer arithmetic
    for target in (0.5, 0.8):
        estimates = []
        for _ in range(40):
            a, b = _pair(target)
            estimates.append(float(np.mean(hasher.signature(shingles(a)) == hasher.signature(shingles(b)))))
        assert abs(np.mean(estimates) - target) < 0.03, (target, np.mean(estimates))


def _caught(similarity: float, pairs: int = 200) -> float:
    found = 0
    for _ in range(pairs):
        a, b = _pair(similarity)
        found += near_duplicates([a, b]) == {1}
    return found / pairs


def test_lsh_catches_pairs_at_0_8_and_leaves_pairs_at_0_5():
    assert _caught(0.8) >= 0.95
    assert _caught(0.5) <= 0.05
