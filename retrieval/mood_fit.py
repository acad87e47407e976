"""Fitting the mood model (numpy only): one logistic regression per mood on `infer.features`, per-mood thresholds
chosen on out-of-fold predictions, and the prototype baseline's threshold, all from the tune half alone.

The packaged `mood_model.npz` is rebuilt from the MusicCaps captions with

    encore eval moods --fit --captions ../shared/datasets/musiccaps/musiccaps.dev.csv
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from .infer import PROBE, MoodModel, Texts, features, word_features

MIN_WORD_CLIPS = 10  # a word or word pair becomes a feature when at least this many tune texts have it
L2 = 1e-3
STEPS = 400
LEARNING_RATE = 0.05
FOLDS = 5
THRESHOLDS = np.round(np.arange(0.05, 0.95, 0.025), 3)


def logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, steps: int = STEPS) -> tuple[np.ndarray, np.ndarray]:
    """Weights and biases of independent logistic regressions (one per column of `y`), by full-batch Adam on the
    mean log-loss plus an L2 penalty. Deterministic: no sampling anywhere."""
    n, d = x.shape
    prior = np.clip(y.mean(0), 1e-3, 1 - 1e-3)
    weights, bias = np.zeros((d, y.shape[1]), dtype=np.float64), np.log(prior / (1 - prior))
    moments = [np.zeros_like(weights), np.zeros_like(weights), np.zeros_like(bias), np.zeros_like(bias)]
    for step in range(1, steps + 1):
        error = (1 / (1 + np.exp(-(x @ weights + bias))) - y) / n
        for param, grad, m, v in ((weights, x.T @ error + l2 * weights, moments[0], moments[1]),
                                  (bias, error.sum(0), moments[2], moments[3])):
            m *= 0.9
            m += 0.1 * grad
            v *= 0.999
            v += 0.001 * grad * grad
            param -= LEARNING_RATE * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
    return weights, bias


def f1(predicted: np.ndarray, gold: np.ndarray) -> float:
    tp = float((predicted * gold).sum())
    wrong = float((predicted * (1 - gold)).sum() + ((1 - predicted) * gold).sum())
    return 2 * tp / (2 * tp + wrong) if tp else 0.0


def best_thresholds(probabilities: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Per mood, the probability cut with the best F1 (ties: the lower cut)."""
    return np.array([max(THRESHOLDS, key=lambda t, j=j: (f1((probabilities[:, j] >= t) * 1.0, gold[:, j]), -t))
                     for j in range(gold.shape[1])])


def vocabulary_of(texts: list[Texts]) -> list[str]:
    counts = Counter(w for t in texts for w in word_features(" \n".join(t.values())))
    return sorted(w for w, n in counts.items() if n >= MIN_WORD_CLIPS)


def fit_model(texts: list[Texts], vectors: np.ndarray, gold: np.ndarray, scored: np.ndarray, moods: list[str],
              probe: np.ndarray, prototype: tuple[float, int], min_clips: int,
              about: str = "") -> tuple[MoodModel, np.ndarray]:
    """The model fitted on all of `texts` (the tune half), its thresholds from `FOLDS`-fold out-of-fold
    probabilities over the rows in `scored` (those with a gold mood); moods with fewer than `min_clips` gold
    rows are not learned (the lexicon reads them). Returns the model and the out-of-fold probabilities."""
    words = vocabulary_of(texts)
    x = features(texts, vectors, {w: i for i, w in enumerate(words)}).astype(np.float64)
    fold = np.random.default_rng(0).integers(0, FOLDS, len(texts))
    held_out = np.zeros(gold.shape)
    for k in range(FOLDS):
        weights, bias = logistic(x[fold != k], gold[fold != k])
        held_out[fold == k] = 1 / (1 + np.exp(-(x[fold == k] @ weights + bias)))
    thresholds = best_thresholds(held_out[scored], gold[scored])
    weights, bias = logistic(x, gold)
    learned = gold[scored].sum(0) >= min_clips
    model = MoodModel(weights.astype(np.float32), bias.astype(np.float32), thresholds.astype(np.float32), learned,
                      moods, words, probe.astype(np.float32), prototype, about)
    return model, held_out


def tune_prototype(similarities: np.ndarray, gold: np.ndarray, moods_scored: list[int]) -> tuple[float, int]:
    """The prototype baseline's global similarity threshold and top-k with the best macro-F1 on the tune half."""
    best = (-1.0, 0.0, 1)
    order = np.argsort(-similarities, axis=1)
    for k in (1, 2, 3):
        top = np.zeros_like(similarities)
        np.put_along_axis(top, order[:, :k], 1.0, axis=1)
        for threshold in np.round(np.arange(0.0, 0.6, 0.02), 2):
            predicted = top * (similarities >= threshold)
            score = float(np.mean([f1(predicted[:, j], gold[:, j]) for j in moods_scored]))
            if score > best[0] + 1e-9:
                best = (score, float(threshold), k)
    return best[1], best[2]


def probe_vector(embedder) -> np.ndarray:
    return embedder.encode([PROBE])[0]
