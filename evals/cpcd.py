"""`encore eval cpcd`: turn-by-turn playlist ranking on Conversational Playlist Curation Dataset dialogs, scored with
the dataset's own protocol (Chaganty et al. 2023, github.com/google-research-datasets/cpcd, eval.py): per turn,
the first 3 liked tracks of each earlier turn are removed from predictions and goal, tracks are compared by
cluster, Hit@k and MRR@k are averaged per dialog and then over dialogs.

Each dialog is one `Agent` session: the product's own conversation path (understanding, taste, ranking) is fed
each turn's user text and the liked/disliked tracks of the turn before, never the wizard's searches or the goal
playlist. The only differences from `encore chat`: no model writes prose (`prose=False`), and tracks shown
earlier may come again (`repeats=True`), since each turn's ranking is 100 long and a listener sees its top ten.
Liked tracks never come again, as in chat: the listener has them already (the protocol would still count those
beyond a turn's first three as goals). Two baselines run in the same pass: BM25 and dense retrieval
(the same embedder), each with query = all user turns so far; the ablation ranks each turn again from the same
candidates with one signal (or the diversity rule) removed.
"""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agent.graph import Agent
from agent.ranking import SIGNALS, rank
from agent.state import candidates_of, plan_of
from retrieval import Catalog, CatalogError

K = 100
KS = (10, 100)
SEEDS_PER_TURN = 3  # the protocol's num_prev_tracks
BOOTSTRAP = 2000  # resamples of the dialogs for the 95% intervals


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


@dataclass
class Report:
    """Metrics per system (Encore first, then the baselines), the ablation (Encore with one part removed) and
    bootstrap 95% intervals of Hit@10 (and of Encore's ratio to the better baseline), resampling dialogs."""

    systems: dict[str, dict[str, float]]
    ablation: dict[str, dict[str, float]]
    intervals: dict[str, tuple[float, float]]


def run(catalog: Catalog, dialogs: list[Dialog], out: Path, clusters: dict[str, str], baselines: bool = True,
        ablation: bool = True, progress: Callable[[int], None] | None = None) -> Report | None:
    """Drive Encore's conversation path over every dialog, write its predictions to `out` (one line per dialog
    turn) and return the report; None when no dialog has a goal playlist."""
    if catalog.count() == 0:
        raise CatalogError(f"collection '{catalog.name}' is empty; ingest the CPCD tracks.jsonl into it first")
    predictions: dict[str, dict[str, list[list[str]]]] = defaultdict(dict)
    with tempfile.TemporaryDirectory(prefix="encore-cpcd-") as folder:
        agent = Agent(catalog, checkpoint=Path(folder) / "sessions.sqlite", prose=False, repeats=True)
        try:
            for number, dialog in enumerate(dialogs, 1):
                for name, ranked in _converse(agent, dialog, ablation).items():
                    predictions[name][dialog.id] = ranked
                if baselines:
                    predictions["bm25 (all user turns)"][dialog.id] = [
                        _bm25(catalog, _users(dialog, t)) for t in range(len(dialog.turns))]
                    predictions["dense (all user turns)"][dialog.id] = [
                        _dense(catalog, _users(dialog, t)) for t in range(len(dialog.turns))]
                if progress:
                    progress(number)
        finally:
            agent.close()
    for preds in predictions.values():  # a signal a dialog never used leaves its ranking as it was
        for dialog in dialogs:
            preds.setdefault(dialog.id, predictions["encore"][dialog.id])
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for dialog in dialogs:
            for t, ranked in enumerate(predictions["encore"][dialog.id]):
                handle.write(json.dumps({"docid": f"{dialog.id}:{t}", "neighbor": [{"docid": i} for i in ranked]})
                             + "\n")
    if not any(d.goal for d in dialogs):
        return None
    values = {name: per_dialog(dialogs, preds, clusters) for name, preds in predictions.items()}
    means = {name: _means(v) for name, v in values.items()}
    systems = {name: means[name] for name in predictions if not name.startswith("without")}
    order = [f"without {name}" for name in SIGNALS] + ["without the diversity rule"]
    removed = {name: means[name] for name in order if name in predictions}
    intervals = {name: bootstrap_interval(values[name]["hit@10"]) for name in systems}
    others = [name for name in systems if name != "encore"]
    if others:
        best = max(others, key=lambda name: means[name]["hit@10"])
        intervals["encore / " + best] = bootstrap_interval(values["encore"]["hit@10"], values[best]["hit@10"])
    return Report(systems, removed, intervals)


def _converse(agent: Agent, dialog: Dialog, ablation: bool) -> dict[str, list[list[str]]]:
    """One dialog as a session: each turn's user text, with the likes and dislikes of the turn before it. A
    turn that shows no list (a greeting, a question) leaves the last list standing."""
    snapshots: list[dict[str, list[str]]] = []
    session = f"cpcd-{dialog.id}"
    config = {"configurable": {"thread_id": session}}
    index = agent.catalog.index()
    last: dict[str, list[str]] = defaultdict(list)
    for t, turn in enumerate(dialog.turns):
        before = dialog.turns[t - 1] if t else {}
        liked = [i for i in before.get("liked_results") or [] if index.get(i) is not None]
        disliked = [i for i in before.get("disliked_results") or [] if index.get(i) is not None]
        result = agent.say(turn.get("user_query") or "", session, liked=liked, disliked=disliked, n=K)
        if result.tracks:
            last["encore"] = [track["id"] for track in result.tracks]
            if ablation:
                last.update(_ablations(agent, agent.graph.get_state(config).values))
        snapshots.append(dict(last))
    names = dict.fromkeys(["encore", *(name for snapshot in snapshots for name in snapshot)])
    return {name: [list(s.get(name, s.get("encore", []))) for s in snapshots] for name in names}


def _ablations(agent: Agent, state: dict[str, Any]) -> dict[str, list[str]]:
    """The same turn ranked again from the same candidates, with one signal or rule removed."""
    taste = state["taste"]
    found, named = candidates_of(state), plan_of(state).named
    used = dict.fromkeys(record.source for record in found)
    out = {f"without {name}": [h.track.id for h in rank(agent.catalog, taste, found, K, named, without={name})]
           for name in SIGNALS if name in used}
    out["without the diversity rule"] = [h.track.id for h in rank(agent.catalog, taste, found, K, named,
                                                                  max_per_artist=None)]
    return out


def _bm25(catalog: Catalog, text: str, k: int = K) -> list[str]:
    index = catalog.index()
    return [index.ids[row] for row, _ in index.search(text, k)]


def _dense(catalog: Catalog, text: str, k: int = K) -> list[str]:
    if not text.strip():
        return []
    return [t.id for t, _ in catalog.near(catalog.embedder.encode_query(text).tolist(), k)]


def _means(values: dict[str, list[float]]) -> dict[str, float]:
    return {name: round(float(np.mean(v)), 4) for name, v in values.items()} | {
        "dialogs": len(values.get("hit@10", []))}


def bootstrap_interval(values: list[float], against: list[float] | None = None) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of the mean (or of the ratio of means, paired by dialog)."""
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(data), size=(BOOTSTRAP, len(data)))
    stats = data[picks].mean(axis=1)
    if against is not None:
        stats = stats / np.maximum(np.asarray(against, dtype=float)[picks].mean(axis=1), 1e-9)
    low, high = np.percentile(stats, [2.5, 97.5])
    return round(float(low), 4), round(float(high), 4)


def score(dialogs: list[Dialog], predictions: dict[str, list[list[str]]], clusters: dict[str, str]) -> dict:
    """Hit@k and MRR@10 with the CPCD protocol; macro-averaged (per dialog, then over dialogs)."""
    return _means(per_dialog(dialogs, predictions, clusters))


def per_dialog(dialogs: list[Dialog], predictions: dict[str, list[list[str]]],
               clusters: dict[str, str]) -> dict[str, list[float]]:
    """Each metric's mean over the turns of each dialog that has a goal playlist (the protocol's macro step)."""
    out: dict[str, list[float]] = defaultdict(list)
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
            out[name].append(sum(vals) / len(vals))
    return dict(out)


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


def _users(dialog: Dialog, turn: int) -> str:
    return " ".join(t["user_query"] or "" for t in dialog.turns[:turn + 1])
