"""`encore eval moods`: how well each reader (`retrieval.infer`) reads moods from text, beside the baselines.

1. MusicCaps: moods inferred from the dev captions, each built as a description-only track is at ingest, scored
   against the mood words of the musicians' own aspect lists (the label set `mood_labels.json`, fixed before
   tuning) on the report half of the clips; energy against the clips' tempo terms (AUC).
2. Encore's demo data, labels hidden from the readers: lyrics -> their `mood`, listeners' comments and the
   catalog's descriptions -> the track's `moods`, `energy` and `valence`.

`fit_packaged` refits the model on the tune half and rewrites `mood_model.npz` (`encore eval moods --fit`).
"""

from __future__ import annotations

import ast
import csv
import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from evals.results import Table
from retrieval.errors import EncoreError
from retrieval.infer import LexiconReader, MoodModel, PrototypeReader, Texts, packaged_model, texts_of
from retrieval.mood import vocabulary
from retrieval.mood_fit import f1, fit_model, probe_vector, tune_prototype
from retrieval.records import Track
from retrieval.settings import DEMO_DIR

CAPTIONS = Path("shared") / "datasets" / "musiccaps" / "musiccaps.dev.csv"


@dataclass(frozen=True)
class Labels:
    terms: dict[str, list[str]]
    min_report_clips: int
    energy_terms: dict[str, str]


@lru_cache(maxsize=1)
def labels() -> Labels:
    data = json.loads((Path(__file__).with_name("mood_labels.json")).read_text(encoding="utf-8"))
    return Labels(data["terms"], int(data["min_report_clips"]), data["energy_terms"])


def half_of(ytid: str) -> str:
    """The committed split: sha1 of the clip id, even -> tune, odd -> report."""
    return "tune" if int(hashlib.sha1(ytid.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "report"


def gold_moods(aspects: list[str]) -> set[str]:
    terms = labels().terms
    return {m for a in aspects for m in terms.get(a.strip().lower(), ())}


def tempo_of(aspects: list[str]) -> str | None:
    """'low' or 'high' when the aspect terms say the tempo is slow or fast (not both)."""
    said = {labels().energy_terms[a.strip().lower()] for a in aspects if a.strip().lower() in labels().energy_terms}
    return said.pop() if len(said) == 1 else None


@dataclass
class Sample:
    """Texts with hidden labels: gold moods as a 0/1 matrix over the vocabulary, energy/valence where known."""

    name: str
    texts: list[Texts]
    documents: list[str]
    gold: np.ndarray
    energy: np.ndarray | None = None  # truth (NaN where unknown)
    valence: np.ndarray | None = None
    tempo: list[str | None] = field(default_factory=list)
    vectors: np.ndarray | None = None

    @property
    def scored(self) -> np.ndarray:
        return self.gold.sum(1) > 0


def _sample(name: str, tracks: list[Track], gold: list[set[str]], **truth: Any) -> Sample:
    moods = vocabulary()
    matrix = np.array([[1.0 if m in g else 0.0 for m in moods] for g in gold]).reshape(len(gold), len(moods))
    return Sample(name, [texts_of(t) for t in tracks], [t.document() for t in tracks], matrix, **truth)


def musiccaps(path: Path) -> dict[str, Sample]:
    """The tune and report halves of the captions, each clip a description-only track ({"id", "description"})."""
    if not path.is_file():
        raise EncoreError(f"{path}: no such file (the MusicCaps dev CSV, with ytid, aspect_list and caption)")
    rows: dict[str, list[tuple[Track, list[str]]]] = {"tune": [], "report": []}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                aspects = [a for a in ast.literal_eval(row.get("aspect_list") or "[]") if isinstance(a, str)]
                track = Track.model_validate({"id": row["ytid"], "description": row["caption"]})
            except (ValueError, SyntaxError, KeyError):
                continue
            rows[half_of(track.id)].append((track, aspects))
    return {half: _sample(f"MusicCaps {half}", [t for t, _ in pairs], [gold_moods(a) for _, a in pairs],
                          tempo=[tempo_of(a) for _, a in pairs]) for half, pairs in rows.items()}


def demo_samples(demo: Path = DEMO_DIR) -> list[Sample]:
    """Lyrics -> their mood; comments and descriptions -> their track's moods, energy and valence. Each text is a
    track of its own with only that text (and its id), so no label can reach the readers."""
    catalog = {t["id"]: t for t in _jsonl(demo / "catalog.jsonl")}
    lyrics = list(_jsonl(demo / "lyrics.jsonl"))
    comments = [c for c in _jsonl(demo / "comments.jsonl") if c.get("track_id") in catalog]

    def truth(ids: list[str], part: str) -> np.ndarray:
        return np.array([float(catalog[i].get(part)) if catalog[i].get(part) is not None else np.nan for i in ids])

    ids = [c["track_id"] for c in comments]
    return [
        _sample("demo lyrics", [Track(id=x["id"], title=x["id"], lyrics=x["lyrics"]) for x in lyrics],
                [{x["mood"]} for x in lyrics]),
        _sample("demo comments", [Track(id=c["track_id"], title=c["track_id"], comments=[c["text"]])
                                  for c in comments], [set(catalog[i]["moods"]) for i in ids],
                energy=truth(ids, "energy"), valence=truth(ids, "valence")),
        _sample("demo descriptions", [Track(id=i, description=t["description"]) for i, t in catalog.items()],
                [set(t["moods"]) for t in catalog.values()], energy=truth(list(catalog), "energy"),
                valence=truth(list(catalog), "valence")),
    ]


def _jsonl(path: Path):
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def embed(samples: list[Sample], embedder: Any) -> None:
    """Each text's vector exactly as ingest computes it: the embedding of its track's document."""
    for sample in samples:
        if sample.vectors is None:
            sample.vectors = embedder.encode(sample.documents)


# --- scoring ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Score:
    method: str
    items: int
    macro_f1: float | None = None
    micro_f1: float | None = None
    p_at_3: float | None = None
    hit_at_3: float | None = None
    energy: float | None = None  # Pearson r with the truth (AUC for MusicCaps tempo)
    valence: float | None = None


@dataclass
class MoodReport:
    musiccaps: list[Score]
    demo: dict[str, list[Score]]
    notes: list[str]
    scored_moods: list[str]

    def ratio(self) -> float:
        best = max(s.macro_f1 or 0.0 for s in self.musiccaps if s.method != "classifier")
        chosen = next(s.macro_f1 or 0.0 for s in self.musiccaps if s.method == "classifier")
        return chosen / best if best else float("inf")


def _predicted(readings, moods: tuple[str, ...]) -> np.ndarray:
    return np.array([[1.0 if m in r.moods else 0.0 for m in moods] for r in readings]).reshape(len(readings),
                                                                                              len(moods))


def _top3(scores: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    """(precision@3, hit@3): gold moods among the three best-ranked (a reader that ranks fewer leaves blanks)."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :3]
    hits = np.take_along_axis(gold, order, 1) * np.isfinite(np.take_along_axis(scores, order, 1))
    return float(hits.sum(1).mean() / 3), float((hits.sum(1) > 0).mean())


def _pearson(guess: list[float | None], truth: np.ndarray | None) -> float | None:
    if truth is None:
        return None
    known = ~np.isnan(truth)
    x = np.array([0.5 if g is None else g for g in guess])[known]  # no guess counts as the middle
    if known.sum() < 3 or x.std() == 0:
        return 0.0 if known.sum() >= 3 else None
    return float(np.corrcoef(x, truth[known])[0, 1])


def _auc(guess: list[float | None], tempo: list[str | None]) -> float | None:
    low = [0.5 if g is None else g for g, t in zip(guess, tempo, strict=True) if t == "low"]
    high = [0.5 if g is None else g for g, t in zip(guess, tempo, strict=True) if t == "high"]
    if not low or not high:
        return None
    pairs = [(h > lo) + 0.5 * (h == lo) for h in high for lo in low]
    return float(np.mean(pairs))


def score(reader: Any, sample: Sample, mood_columns: list[int] | None = None) -> Score:
    """One reader on one sample: moods over the items with a gold mood, energy/valence where truth exists."""
    moods = vocabulary()
    readings = reader.read(sample.texts, sample.vectors)
    ranked = reader.scores(sample.texts, sample.vectors)
    rows = np.where(sample.scored)[0]
    gold = sample.gold[rows]
    predicted = _predicted([readings[i] for i in rows], moods)
    p3, hit3 = _top3(ranked[rows], gold)
    columns = mood_columns if mood_columns is not None else list(range(len(moods)))
    macro = float(np.mean([f1(predicted[:, j], gold[:, j]) for j in columns]))
    energies = [r.energy for r in readings]
    energy = _auc(energies, sample.tempo) if sample.tempo else _pearson(energies, sample.energy)
    valence = _pearson([r.valence for r in readings], sample.valence)
    return Score(reader.name, len(rows), macro, f1(predicted, gold), p3, hit3, energy, valence)


def readers(embedder: Any, model: MoodModel | None = None) -> list[Any]:
    model = model or packaged_model()
    return [LexiconReader(), PrototypeReader.build(embedder, *model.prototype), model]


def evaluate(embedder: Any, captions: Path, model: MoodModel | None = None, demo: Path = DEMO_DIR) -> MoodReport:
    halves = musiccaps(captions)
    report = halves["report"]
    samples = [report, *demo_samples(demo)]
    embed(samples, embedder)
    counts = report.gold[report.scored].sum(0)
    minimum = labels().min_report_clips
    columns = [j for j, n in enumerate(counts) if n >= minimum]
    moods = vocabulary()
    left_out = [f"{moods[j]} ({int(counts[j])})" for j in range(len(moods)) if counts[j] < minimum]
    methods = readers(embedder, model)
    notes = [f"MusicCaps report half: {int(report.scored.sum())} of {len(report.texts)} clips have a mood among "
             f"their aspect terms and are scored (the other {int((~report.scored).sum())} are left out); "
             f"macro-F1 over the {len(columns)} moods with at least {minimum} gold clips there; left out: "
             f"{', '.join(left_out) or 'none'}.",
             "P@3 = gold moods among a reader's three best-ranked / 3 (the lexicon ranks only the moods it finds); "
             "energy on MusicCaps = AUC of the inferred energy between clips tagged fast and slow tempo, over all "
             f"{len(report.texts)} report clips; no estimate counts as 0.5.",
             f"The classifier ({model.version if model else packaged_model().version}) was fitted on the "
             f"{len(halves['tune'].texts)} tune-half captions only; the demo texts are not MusicCaps and were "
             "never seen by any reader. Demo: hit@3 = a gold mood among the three best-ranked; F1 = micro-F1 of "
             "the moods asserted; energy/valence = Pearson r with the catalog's values (hidden)."]
    return MoodReport([score(m, report, columns) for m in methods],
                      {s.name: [score(m, s) for m in methods] for s in samples[1:]}, notes,
                      [moods[j] for j in columns])


def fit_packaged(embedder: Any, captions: Path, out: Path | None = None) -> MoodModel:
    """Refit on the tune half and write the model (default: the packaged mood_model.npz)."""
    tune = musiccaps(captions)["tune"]
    embed([tune], embedder)
    counts = tune.gold[tune.scored].sum(0)
    columns = [j for j, n in enumerate(counts) if n >= labels().min_report_clips]
    prototype = PrototypeReader.build(embedder, 0.0, 3)
    threshold, k = tune_prototype(prototype.scores(tune.texts, tune.vectors)[tune.scored], tune.gold[tune.scored],
                                  columns)
    about = (f"Fitted by `encore eval moods --fit` on the {len(tune.texts)} tune-half MusicCaps captions "
             f"({int(tune.scored.sum())} with a gold mood), embedder {'/'.join(Path(str(embedder.name)).parts[-2:])}.")
    model, _ = fit_model(tune.texts, tune.vectors, tune.gold, tune.scored, list(vocabulary()),
                         probe_vector(embedder), (threshold, k), labels().min_report_clips, about)
    target = out or Path(str(resources.files("retrieval").joinpath("mood_model.npz")))
    model.save(target)
    packaged_model.cache_clear()
    return MoodModel.load(target)


# --- output ----------------------------------------------------------------------------------------------------

def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def tables(report: MoodReport) -> tuple[list[Table], list[str]]:
    """The MusicCaps report half beside the baselines, then Encore's demo texts (labels hidden from the readers);
    and the figures printed beside them."""
    captions = Table(["reader", "clips", "macro-F1", "micro-F1", "P@3", "energy AUC (slow vs fast tempo clips)"],
                     [[f"{s.method} ({_label(s.method)})", str(s.items), _cell(s.macro_f1), _cell(s.micro_f1),
                       _cell(s.p_at_3), _cell(s.energy)] for s in report.musiccaps])
    demo = Table(["texts", "reader", "items", "hit@3", "F1", "energy r", "valence r"],
                 [[name, s.method, str(s.items), _cell(s.hit_at_3), _cell(s.micro_f1), _cell(s.energy),
                   _cell(s.valence)] for name, scores in report.demo.items() for s in scores], "llrrrrr")
    return [captions, demo], [f"classifier macro-F1 / best baseline = {report.ratio():.2f}x (bar: 1.20x)",
                              *report.notes]


def _label(method: str) -> str:
    return {"lexicon": "baseline", "prototype": "baseline", "classifier": "chosen"}.get(method, method)


def plot(report: MoodReport, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    methods = [s.method for s in report.musiccaps]
    x = np.arange(len(methods))
    left.bar(x - 0.2, [s.macro_f1 for s in report.musiccaps], 0.4, label="macro-F1")
    left.bar(x + 0.2, [s.p_at_3 for s in report.musiccaps], 0.4, label="P@3")
    best = max(s.macro_f1 or 0.0 for s in report.musiccaps if s.method != "classifier")
    left.axhline(1.2 * best, color="grey", lw=0.8, ls=":", label="1.2x the better baseline's macro-F1")
    left.set_xticks(x, methods)
    left.set_title("MusicCaps captions, report half")
    left.legend(fontsize=8)
    names = list(report.demo)
    for i, method in enumerate(methods):
        right.bar(np.arange(len(names)) + (i - 1) * 0.27, [report.demo[n][i].hit_at_3 for n in names], 0.27,
                  label=method)
    right.set_xticks(np.arange(len(names)), [n.removeprefix("demo ") for n in names])
    right.set_title("Encore demo texts: hit@3")
    right.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def default_captions() -> Path | None:
    """The shared MusicCaps dev CSV beside this checkout or the working folder, when it is there."""
    for root in (Path(__file__).resolve().parents[2], Path.cwd().parent, Path.cwd()):
        if (root / CAPTIONS).is_file():
            return root / CAPTIONS
    return None
