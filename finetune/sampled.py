"""Sampled pairs: the base model's own sentences for the served points, kept only where the agent would keep them.

People wrote sentences for a few of the points a review is made of (MusicCaps captions for the sound, the demo
comments and reviews for the rest), and none for most: an introduction that names the track and its artist, the
pace, the length, the neighbours, a playlist's arc and blend. For those the base model is asked the very prompts the
agent sends (`retrieval.plans`), for tracks of the catalog's training split only, a few samples each; a sample
becomes a training pair only if it is a whole sentence (`ended_sentences`) that the claim checker passes, that
claims something and that does what its point asks (`finetune.pairs.kept`). This is rejection-sampling
fine-tuning (STaR, Zelikman et al. 2022; RFT, Yuan et al. 2023): the adapter learns to write, first time, what the
base model writes only sometimes. Tracks of the validation split are never sampled, so `encore eval text` reviews
tracks whose points the adapter never saw.

Sampling is resumable: every sample is appended to a JSONL file as it is made, and a re-run takes up where the
last one stopped; samples are judged when the pairs are built, so a fix to the checker applies to old samples too.

    points = training_points(load_catalog(DEMO_DIR / "catalog.jsonl"), comments_by_track, limit=600)
    model, tokenizer = load_base(model_path)  # finetune.train
    pairs, tally = sample_pairs(hf_generator(model, tokenizer, 0.7), points, out / "sampled.jsonl", per_point=2)
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from itertools import zip_longest
from pathlib import Path

from retrieval.plans import MAX_TOKENS, Point, ended_sentences, playlist_plan, review_plan, title_line, title_point
from retrieval.records import Track

from .pairs import Example, kept, served
from .text import language, split_of

PLAYLIST_SIZE = 8
# what a playlist may be for, in our own words (the real requests are kept for `encore eval text`): a title point
# is asked with none and with two of these
USES = ("a late night drive", "studying", "a rainy afternoon", "cooking dinner", "the gym", "a long run",
        "a lazy sunday", "a house party", "winding down", "a road trip", "morning coffee", "reading",
        "a dinner party", "focus", "a summer barbecue", "falling asleep", "cleaning the house", "a slow dance",
        "the commute", "a breakup", "a wedding", "getting ready to go out", "a walk in the park", "working late")
RELATED = 3


def _rank(*parts: str) -> str:
    return hashlib.sha1("\x00".join(parts).encode()).hexdigest()


def training_points(tracks: dict[str, Track], comments: dict[str, list[str]] | None = None,
                    limit: int = 600) -> list[Point]:
    """Up to `limit` served points of training-split tracks: every point of each track's review plan (its own
    comments as listener points, the three nearest same-genre tracks as its neighbours), and the arc and blend of
    same-genre playlists; dealt kind by kind, so a small limit still covers every kind."""
    comments = comments or {}
    train = sorted((t for t in tracks.values() if split_of(t.id) == "train"), key=lambda t: _rank(t.id))
    by_genre: dict[str, list[Track]] = defaultdict(list)
    for track in train:
        by_genre[(track.genre or "").casefold()].append(track)
    by_kind: dict[str, list[Point]] = defaultdict(list)
    for track in train:
        peers = sorted((t for t in by_genre[(track.genre or "").casefold()] if t.id != track.id),
                       key=lambda t: _rank(track.id, t.id))[:RELATED]
        for point in review_plan(track, comments.get(track.id, []), peers):
            by_kind[point.kind].append(point)
    for _, group in sorted(by_genre.items()):
        for start in range(0, len(group) - PLAYLIST_SIZE + 1, PLAYLIST_SIZE):
            chunk = group[start:start + PLAYLIST_SIZE]
            uses = sorted(USES, key=lambda u: _rank(chunk[0].id, u))[:2]
            for point in [*playlist_plan("", chunk), *(title_point(u, chunk) for u in ("", *uses))]:
                by_kind[point.kind].append(point)
    dealt = [p for row in zip_longest(*(by_kind[k] for k in sorted(by_kind))) for p in row if p is not None]
    return dealt[:limit]


def point_key(point: Point) -> str:
    return _rank(point.kind, point.track_id or "", point.user())


Generate = Callable[[list[list[dict[str, str]]], int], list[list[str]]]


def sample_pairs(generate: Generate, points: list[Point], cache: Path, per_point: int = 2, batch: int = 16,
                 progress: Callable[[int, int], None] | None = None) -> tuple[list[Example], dict]:
    """The kept samples of `points` as training pairs, and the tally (points, samples, kept, by kind).
    `generate(messages_list, n)`: n raw completions for each prompt. Samples already in `cache` are not redrawn."""
    done = _read_cache(cache)
    todo = [p for p in points if point_key(p) not in done]
    cache.parent.mkdir(parents=True, exist_ok=True)
    with cache.open("a", encoding="utf-8") as handle:
        for start in range(0, len(todo), batch):
            chunk = todo[start:start + batch]
            for point, texts in zip(chunk, generate([p.messages() for p in chunk], per_point), strict=True):
                rows = [{"sentence": title_line(text) if point.kind == "title" else
                         next(iter(ended_sentences(text)), ""), "raw": text} for text in texts]
                done[point_key(point)] = rows
                handle.write(json.dumps({"key": point_key(point), "kind": point.kind, "samples": rows}) + "\n")
            handle.flush()
            if progress:
                progress(min(start + batch, len(todo)), len(todo))
    examples, seen = [], set()
    tally = {"points": len(points), "samples": 0, "kept": 0, "by_kind": {}}
    for point in points:
        rows = done.get(point_key(point), [])
        kind = tally["by_kind"].setdefault(point.kind, {"samples": 0, "kept": 0})
        tally["samples"] += len(rows)
        kind["samples"] += len(rows)
        for row in rows:  # judged now, by the checker as it is now (the cache may be older than a fix to it)
            if fluent(row["sentence"], point) and kept(row["sentence"], point) \
                    and row["sentence"].casefold() not in seen:  # two equal samples teach it once
                seen.add(row["sentence"].casefold())
                examples.append(served(point, row["sentence"], "sampled", language(row["sentence"]),
                                       point.track_id or "", "train"))
                tally["kept"] += 1
                kind["kept"] += 1
    return examples, tally


def fluent(sentence: str, point: Point) -> bool:
    """Worth learning beyond being true: not a word stuttered ("indie indie indie"), no content word three times,
    and not the task's own wording echoed back ("moves from its first track to its last")."""
    if not sentence:
        return False
    words = re.findall(r"[a-z']+", sentence.casefold())
    if any(a == b for a, b in zip(words, words[1:], strict=False)):
        return False
    counts = Counter(w for w in words if len(w) > 3)
    if counts and max(counts.values()) >= 3:
        return False
    task = re.findall(r"[a-z']+", point.task.casefold())
    echoes = {tuple(task[i:i + 5]) for i in range(len(task) - 4)}
    return not any(tuple(words[i:i + 5]) in echoes for i in range(len(words) - 4))


def _read_cache(cache: Path) -> dict[str, list[dict]]:
    """The judged samples so far; a line cut short by a kill is dropped (that point is sampled again)."""
    done: dict[str, list[dict]] = {}
    if cache.is_file():
        for line in cache.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
                done[row["key"]] = list(row["samples"])
            except (ValueError, KeyError, TypeError):
                continue
    return done


def hf_generator(model: object, tokenizer: object, temperature: float, top_p: float = 0.9) -> Generate:
    """Batched sampling with transformers at the agent's temperature (the `temperature` setting; top-p as the
    in-process engine's) and token limit, left padded."""
    import torch

    def generate(messages: list[list[dict[str, str]]], n: int) -> list[list[str]]:
        tokenizer.padding_side = "left"
        prompts = [tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True) for m in messages]
        inputs = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        with torch.no_grad():
            output = model.generate(**inputs, max_new_tokens=MAX_TOKENS, do_sample=True, temperature=temperature,
                                    top_p=top_p, num_return_sequences=n, pad_token_id=tokenizer.pad_token_id)
        texts = tokenizer.batch_decode(output[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
        return [texts[i * n:(i + 1) * n] for i in range(len(messages))]

    return generate


def print_progress(done: int, total: int) -> None:
    print(f"\rsampling the base model: {done}/{total} points", end="" if done < total else "\n", file=sys.stderr,
          flush=True)
