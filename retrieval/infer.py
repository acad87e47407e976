"""Emotion mining: moods, energy and valence read from a track's own text (its description, lyrics and listeners'
comments) when its source gave none, each mood with a confidence and the words the reading rests on.

Three readers, one interface (`scores` ranks all moods, `read` says what a text reads as):
- `LexiconReader`: Encore's mood lexicon over the words (a baseline);
- `PrototypeReader`: cosine of the text's embedding to an embedding of each mood's description (a baseline);
- `MoodModel`, the one ingest uses, chosen by measurement (`encore eval moods`): a logistic classifier per mood
  over the track document's embedding (the one ingest computes anyway), the lexicon's moods and the text's
  words, fitted on the tune half of the MusicCaps captions with per-mood thresholds. Its weights are packaged
  (`mood_model.npz`) and rebuilt by `encore eval moods --fit` (see `retrieval.mood_fit`).

`infer_tracks(tracks, vectors)` fills a track's `inferred_*` fields and never touches the given ones.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .lexicon import load
from .mood import Mood, mood_levels, phrase_moods, read_mood, vocabulary
from .records import Track
from .text import phrase_key, words

Texts = dict[str, str]  # a track's texts by field: description, lyrics, comments
FIELDS = ("description", "lyrics", "comments")  # also the order that breaks ties between sources
EMBEDDING_SCALE = 4.0  # unit vectors against 0/1 word features: scaled so neither drowns the other
TEXT_WEIGHT = 1.0  # explicit energy words ("slow", "upbeat") count as much as one certain mood
EVIDENCE_WEIGHT = 0.75  # a word is evidence for a mood when it adds at least this much to the mood's log-odds
MAX_MOODS = 4
MAX_EVIDENCE = 5
LEXICON_CONFIDENCE = 0.5  # the lexicon says a word matched, not how sure that is
REVISION = 2  # of the reading code below; part of the model's version, so a change re-reads stored tracks

# What the prototype baseline compares a text with: a plain phrase per mood
MOOD_DESCRIPTIONS: dict[str, str] = load("mood")["prototypes"]


@dataclass(frozen=True)
class Reading:
    """What one track's text reads as."""

    moods: dict[str, float]  # mood -> confidence 0..1, best first; only moods the reader would assert
    energy: float | None = None
    valence: float | None = None
    confidence: float | None = None  # of energy and valence
    evidence: tuple[str, ...] = ()  # words of the text, as they appear in it
    source: str | None = None  # the field that says the most


def texts_of(track: Track) -> Texts:
    texts = {"description": track.description, "lyrics": track.lyrics, "comments": " ".join(track.comments)}
    return {name: text for name, text in texts.items() if text}


def needs_inference(track: Track) -> bool:
    """A track lacking moods, energy or valence that has some text of its own to read them from."""
    return bool((not track.moods or track.energy is None or track.valence is None) and texts_of(track))


def joined(texts: Texts) -> str:
    return " \n".join(texts[f] for f in FIELDS if f in texts)


@lru_cache(maxsize=4096)
def mood_of(text: str) -> Mood:
    """read_mood, remembered: features, evidence and levels all read the same texts."""
    return read_mood(text)


def word_features(text: str) -> set[str]:
    """The words and word pairs of a text, as the classifier sees them."""
    tokens = words(text)
    return set(tokens) | {f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)}


def levels(weights: dict[str, float], mood: Mood) -> tuple[float | None, float | None, float | None]:
    """(energy, valence, confidence): the typical levels of the weighted moods, with the text's own energy and
    valence words (`mood`, from read_mood) counted as one certain mood. None where nothing says."""
    table = mood_levels()
    out: list[float | None] = []
    mass_seen = 0.0
    for part, asked in ((0, mood.energy_target), (1, mood.valence_target)):
        pairs = [(w, table[m][part]) for m, w in weights.items() if w > 0 and table.get(m, (None, None))[part]
                 is not None]
        if asked is not None:
            pairs.append((TEXT_WEIGHT, asked))
        mass = sum(w for w, _ in pairs)
        out.append(round(sum(w * v for w, v in pairs) / mass, 3) if mass > 0 else None)
        mass_seen = max(mass_seen, mass)
    confidence = round(mass_seen / (mass_seen + 1.0), 3) if mass_seen > 0 else None
    return out[0], out[1], confidence


def _evidence(texts: Texts, moods: list[str], weighted: dict[str, dict[str, float]]) -> tuple[tuple[str, ...],
                                                                                              str | None]:
    """The lexicon phrases and strong words behind `moods`, in each field's own words, and the field that holds
    the most of them. `weighted`: word -> mood -> weight, for the classifier's words (empty for baselines)."""
    found: dict[str, list[str]] = {}
    for field in FIELDS:
        text = texts.get(field)
        if not text:
            continue
        terms: list[str] = []
        key = phrase_key(text)
        for phrase in mood_of(text).phrases:
            if set(phrase_moods(phrase)) & set(moods):
                shown = phrase if phrase.casefold() in text.casefold() else phrase_key(phrase)
                if shown and (shown in key or shown.casefold() in text.casefold()):
                    terms.append(shown)
        strong = sorted(((max(weighted[w].get(m, 0.0) for m in moods), w) for w in set(words(text))
                         if w in weighted and w.isalpha() and len(w) > 2), reverse=True)
        terms += [w for weight, w in strong if weight >= EVIDENCE_WEIGHT]
        found[field] = list(dict.fromkeys(terms))
    if not found:
        return (), None
    source = max(found, key=lambda f: (len(found[f]), -FIELDS.index(f)))
    if not found[source]:  # nothing in the words: the reading came from the text's meaning as a whole
        source = next(f for f in FIELDS if f in found)
    evidence = list(dict.fromkeys(t for f in [source, *found] for t in found[f]))
    return tuple(evidence[:MAX_EVIDENCE]), source


class LexiconReader:
    """The mood lexicon over the text: the moods its phrases name, in the order they appear."""

    name = "lexicon"
    version = "lexicon-1"

    def scores(self, texts: list[Texts], vectors: np.ndarray | None = None) -> np.ndarray:
        moods = vocabulary()
        out = np.full((len(texts), len(moods)), -np.inf)
        for i, t in enumerate(texts):
            for rank, mood in enumerate(mood_of(joined(t)).moods):
                out[i, moods.index(mood)] = 1.0 - rank / 100
        return out

    def read(self, texts: list[Texts], vectors: np.ndarray | None = None) -> list[Reading]:
        readings = []
        for t in texts:
            mood = mood_of(joined(t))
            chosen = list(mood.moods)
            evidence, source = _evidence(t, chosen, {})
            energy, valence, confidence = levels(dict.fromkeys(chosen, 1.0), mood)
            readings.append(Reading(dict.fromkeys(chosen, LEXICON_CONFIDENCE), energy, valence, confidence,
                                    evidence, source))
        return readings


class PrototypeReader:
    """Cosine of the text's embedding to each mood description's: the `k` closest moods above `threshold`."""

    name = "prototype"

    def __init__(self, prototypes: np.ndarray, threshold: float, k: int):
        self.prototypes, self.threshold, self.k = prototypes, threshold, k
        self.version = f"prototype-{threshold:.2f}-{k}"

    @classmethod
    def build(cls, embedder: Any, threshold: float, k: int) -> PrototypeReader:
        return cls(embedder.encode([MOOD_DESCRIPTIONS[m] for m in vocabulary()]), threshold, k)

    def scores(self, texts: list[Texts], vectors: np.ndarray) -> np.ndarray:
        return np.asarray(vectors, dtype=np.float32) @ self.prototypes.T

    def read(self, texts: list[Texts], vectors: np.ndarray) -> list[Reading]:
        moods = vocabulary()
        readings = []
        for t, row in zip(texts, self.scores(texts, vectors), strict=True):
            best = [j for j in np.argsort(-row)[:self.k] if row[j] >= self.threshold]
            chosen = {moods[j]: round(float(np.clip(row[j], 0, 1)), 3) for j in best}
            evidence, source = _evidence(t, list(chosen), {})
            energy, valence, confidence = levels(chosen, mood_of(joined(t)))
            readings.append(Reading(chosen, energy, valence, confidence, evidence, source or next(iter(t), None)))
        return readings


class MoodModel:
    """The fitted classifier: features = [embedding x EMBEDDING_SCALE, lexicon moods (0/1), words (0/1)].

    Confidence is the classifier's probability rescaled so that the mood's tuned threshold reads 0.5 (MusicCaps
    musicians name some moods of a clip, not all, so raw probabilities understate). Moods the tune half had
    too few examples of to learn (`learned` false) are read by the lexicon alone, at LEXICON_CONFIDENCE, from
    the phrases that stand first for them ("heartbroken", not "morning" for hopeful)."""

    name = "classifier"

    def __init__(self, weights: np.ndarray, bias: np.ndarray, thresholds: np.ndarray, learned: np.ndarray,
                 moods: list[str], words: list[str], probe: np.ndarray, prototype: tuple[float, int],
                 about: str = ""):
        if list(moods) != list(vocabulary()):
            raise ValueError("the mood model was fitted for another mood vocabulary; refit it")
        self.weights, self.bias, self.thresholds, self.learned = weights, bias, thresholds, learned.astype(bool)
        self.moods, self.words, self.probe = list(moods), list(words), probe
        self.prototype, self.about = prototype, about
        self.dimension = weights.shape[0] - len(moods) - len(words)
        self.column = {w: i for i, w in enumerate(self.words)}
        self.version = "mood-model-" + hashlib.sha1(weights.tobytes() + thresholds.tobytes() + self.learned.tobytes()
                                                    + bytes([REVISION])).hexdigest()[:10]
        word_rows = weights[self.dimension + len(moods):]
        self.word_weights = {w: {m: float(word_rows[i, j]) for j, m in enumerate(moods) if word_rows[i, j] > 0}
                             for i, w in enumerate(self.words)}

    @classmethod
    def load(cls, path: Path | None = None) -> MoodModel:
        source = Path(path) if path else resources.files("retrieval").joinpath("mood_model.npz")
        with source.open("rb") as handle, np.load(handle, allow_pickle=False) as data:
            return cls(data["weights"], data["bias"], data["thresholds"], data["learned"],
                       [str(m) for m in data["moods"]],
                       [str(w) for w in data["words"]], data["probe"],
                       (float(data["prototype"][0]), int(data["prototype"][1])), str(data["about"]))

    def save(self, path: Path) -> None:
        np.savez_compressed(path, weights=self.weights.astype(np.float32), bias=self.bias.astype(np.float32),
                            thresholds=self.thresholds.astype(np.float32), learned=self.learned,
                            moods=np.array(self.moods),
                            words=np.array(self.words), probe=self.probe.astype(np.float32),
                            prototype=np.array(self.prototype, dtype=np.float64), about=np.array(self.about))

    def fits(self, embedder: Any) -> bool:
        """Whether `embedder` is the one the model was fitted on (same vector for a fixed probe sentence)."""
        if getattr(embedder, "dimension", None) != self.dimension:
            return False
        return float(embedder.encode([PROBE])[0] @ self.probe) > 0.99

    def features(self, texts: list[Texts], vectors: np.ndarray) -> np.ndarray:
        return features(texts, vectors, self.column)

    def probabilities(self, texts: list[Texts], vectors: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.features(texts, vectors) @ self.weights + self.bias)))

    def confidences(self, texts: list[Texts], vectors: np.ndarray) -> np.ndarray:
        x = self.features(texts, vectors)
        p = 1.0 / (1.0 + np.exp(-(x @ self.weights + self.bias)))
        t = self.thresholds
        out = np.where(p < t, 0.5 * p / t, 0.5 + 0.5 * (p - t) / (1.0 - t))
        out[:, ~self.learned] = _leading_moods(texts)[:, ~self.learned] * LEXICON_CONFIDENCE
        return out

    def scores(self, texts: list[Texts], vectors: np.ndarray) -> np.ndarray:
        return self.confidences(texts, vectors)

    def read(self, texts: list[Texts], vectors: np.ndarray) -> list[Reading]:
        readings = []
        for t, row in zip(texts, self.confidences(texts, vectors), strict=True):
            order = [j for j in np.argsort(-row) if row[j] >= 0.5][:MAX_MOODS]
            chosen = {self.moods[j]: round(float(row[j]), 3) for j in order}
            evidence, source = _evidence(t, list(chosen), self.word_weights) if chosen else ((), None)
            energy, valence, confidence = levels(dict(zip(self.moods, map(float, row), strict=True)),
                                                 mood_of(joined(t)))
            readings.append(Reading(chosen, energy, valence, confidence, evidence, source or next(iter(t), None)))
        return readings


PROBE = "a calm piano piece for a rainy evening"


def features(texts: list[Texts], vectors: np.ndarray, column: dict[str, int]) -> np.ndarray:
    moods = vocabulary()
    vectors = np.asarray(vectors, dtype=np.float32)
    out = np.zeros((len(texts), vectors.shape[1] + len(moods) + len(column)), dtype=np.float32)
    out[:, :vectors.shape[1]] = vectors * EMBEDDING_SCALE
    start = vectors.shape[1] + len(moods)
    for i, t in enumerate(texts):
        text = joined(t)
        for mood in mood_of(text).moods:
            out[i, vectors.shape[1] + moods.index(mood)] = 1.0
        for word in word_features(text):
            if word in column:
                out[i, start + column[word]] = 1.0
    return out


def _leading_moods(texts: list[Texts]) -> np.ndarray:
    """0/1 per mood: a lexicon phrase of the text stands first for it."""
    moods = vocabulary()
    out = np.zeros((len(texts), len(moods)), dtype=np.float32)
    for i, t in enumerate(texts):
        for phrase in mood_of(joined(t)).phrases:
            leading = phrase_moods(phrase)[:1]
            if leading:
                out[i, moods.index(leading[0])] = 1.0
    return out


@lru_cache(maxsize=1)
def packaged_model() -> MoodModel:
    return MoodModel.load()


def reader_for(embedder: Any) -> MoodModel | LexiconReader:
    """The packaged model when it was fitted on this embedder; the lexicon otherwise (another embedder's
    vectors mean nothing to it)."""
    model = packaged_model()
    return model if model.fits(embedder) else LexiconReader()


def infer_tracks(tracks: list[Track], vectors: np.ndarray, reader: MoodModel | LexiconReader) -> list[Track]:
    """`tracks` with what their own text reads as, where their source gave no moods, energy or valence. Given
    labels always win: an inferred value only fills a field the source left empty, and is kept apart from it."""
    todo = [i for i, t in enumerate(tracks) if needs_inference(t)]
    if not todo:
        return tracks
    readings = reader.read([texts_of(tracks[i]) for i in todo], np.asarray(vectors)[todo])
    out = list(tracks)
    for i, reading in zip(todo, readings, strict=True):
        out[i] = inferred(tracks[i], reading, reader.version)
    return out


def inferred(track: Track, reading: Reading, version: str) -> Track:
    energy, valence, confidence = reading.energy, reading.valence, reading.confidence
    if track.moods:  # the given moods say more than a reading of the text
        energy, valence, confidence = levels(dict.fromkeys(track.moods, 1.0), mood_of(joined(texts_of(track))))
    moods = {} if track.moods else reading.moods
    return track.model_copy(update={
        "inferred_moods": moods,
        "inferred_energy": energy if track.energy is None else None,
        "inferred_valence": valence if track.valence is None else None,
        "inferred_confidence": confidence if (track.energy is None and energy is not None) or (
            track.valence is None and valence is not None) else None,
        "mood_evidence": list(reading.evidence) if moods else [],
        "mood_source": reading.source if moods else None,
        "mood_model": version})
