"""`encore eval taste`: does a listening profile help? CPCD's dialogs stand in for real listeners.

For every (dialog, cutoff) pair the liked tracks of the dialog's first `cutoff` turns are the listener's history
and the rest of its goal playlist is what they want next. Three systems answer the same vague request ("more
music like what I play", and other wordings of it, one per pair in turn) through the chat path (`Agent.say`):
- **profile**: the history written as a plain `artist,title,played_at` CSV, imported with the same code as
  `encore history import` into a scratch profile store, and plugged in as the ranking's prior;
- **request alone**: no profile, no likes;
- **likes in session**: the same tracks given as thumbs-up on the turn, as a listener in the web app would.
Hit@10 and nDCG@10 compare by CPCD cluster; the history itself is removed from predictions and targets; means
are over pairs with bootstrap 95% intervals (2,000 resamples, ratios paired by pair).
"""

from __future__ import annotations

import csv
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from agent.graph import Agent
from agent.listening import Listener, Profiles
from retrieval import Catalog, CatalogError

from .cpcd import Dialog, bootstrap_interval

K = 10
WORDINGS = ("more music like what I play", "something like what I usually listen to",
            "recommend songs based on my listening history", "play me my usual kind of music")
SYSTEMS = ("profile", "request alone", "likes in session")


@dataclass
class TasteReport:
    pairs: int
    means: dict[str, dict[str, float]]  # system -> hit@10, ndcg@10
    intervals: dict[str, tuple[float, float]]  # system or "profile / X" -> Hit@10 interval


def pairs(dialogs: list[Dialog], catalog: Catalog) -> list[tuple[Dialog, int, list[str]]]:
    """(dialog, cutoff, history) for every cutoff whose history has a catalog track and whose goal has more."""
    index = catalog.index()
    out = []
    for dialog in dialogs:
        history: list[str] = []
        for cutoff, turn in enumerate(dialog.turns[:-1], 1):
            history += [i for i in turn.get("liked_results") or [] if index.get(i) is not None and i not in history]
            if history and any(g not in history for g in dialog.goal):
                out.append((dialog, cutoff, list(history)))
    return out


def run(catalog: Catalog, dialogs: list[Dialog], clusters: dict[str, str],
        progress: Callable[[int], None] | None = None,
        found: list[tuple[Dialog, int, list[str]]] | None = None) -> TasteReport:
    """`found`: the (dialog, cutoff, history) pairs, when the caller has them already (`pairs()`)."""
    found = pairs(dialogs, catalog) if found is None else found
    if not found:
        raise CatalogError("no (dialog, cutoff) pair has a liked track in the catalog and a goal left to find")
    values: dict[str, dict[str, list[float]]] = {s: {"hit@10": [], "ndcg@10": []} for s in SYSTEMS}
    with tempfile.TemporaryDirectory(prefix="encore-taste-") as folder:
        root = Path(folder)
        profiles = Profiles(catalog.settings, folder=root / "profiles")
        agent = Agent(catalog, checkpoint=root / "sessions.sqlite", prose=False, repeats=True)
        try:
            for number, (dialog, _cutoff, history) in enumerate(found):
                request = WORDINGS[number % len(WORDINGS)]
                user = f"listener-{number}"
                history_file = root / f"{user}.csv"
                write_history(catalog, history, history_file)
                profiles.import_files(user, [history_file], catalog, "csv")
                listener = Listener(profiles.profile(user, catalog))
                ranked = {
                    "profile": agent.say(request, f"p{number}", n=100, prior=listener).tracks,
                    "request alone": agent.say(request, f"r{number}", n=100).tracks,
                    "likes in session": agent.say(request, f"l{number}", liked=history, n=100).tracks,
                }
                cluster = {**clusters, **dialog.clusters}.get
                seen = {cluster(i) or i for i in history}
                gold = {cluster(g) or g for g in dialog.goal} - seen
                for system, tracks in ranked.items():
                    preds = _dedup([cluster(t["id"]) or t["id"] for t in tracks], seen)[:K]
                    values[system]["hit@10"].append(float(bool(set(preds) & gold)))
                    values[system]["ndcg@10"].append(_ndcg(preds, gold))
                if progress:
                    progress(number + 1)
        finally:
            agent.close()
    means = {s: {m: round(float(np.mean(v)), 4) for m, v in values[s].items()} for s in SYSTEMS}
    intervals = {s: bootstrap_interval(values[s]["hit@10"]) for s in SYSTEMS}
    for other in SYSTEMS[1:]:
        intervals[f"profile / {other}"] = bootstrap_interval(values["profile"]["hit@10"], values[other]["hit@10"])
    return TasteReport(len(found), means, intervals)


def write_history(catalog: Catalog, track_ids: list[str], path: Path) -> None:
    """The history as a listener's plain CSV export: one play a track, a day apart, the latest last."""
    index = catalog.index()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["artist", "title", "played_at"])
        for day, track_id in enumerate(track_ids):
            track = index.get(track_id)
            writer.writerow([track.artist or "", track.title, (start + timedelta(days=day)).isoformat()])


def _dedup(items: list[str], seen: set[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item not in seen and item not in out:
            out.append(item)
    return out


def _ndcg(preds: list[str], gold: set[str]) -> float:
    gain = sum(1 / math.log2(i + 2) for i, p in enumerate(preds) if p in gold)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(gold), K)))
    return gain / ideal if ideal else 0.0

