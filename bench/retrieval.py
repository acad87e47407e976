"""Retrieval benchmark: ingest throughput and recommend latency at 1k, 21.4k (all of freemusi.cc) and 200k
tracks, beside a brute-force numpy cosine baseline measured in the same run on the same vectors and queries.

    .venv/bin/python bench/retrieval.py                 # all sizes (about 15 minutes on 2 cores)
    .venv/bin/python bench/retrieval.py --sizes 1000 all --queries 200

Catalogs: the first N freemusi.cc tracks (real data from ../shared), and for 200k a synthetic catalog made by
re-mixing the real tracks' fields. Embedding 200k documents would take ~40 minutes on this CPU, so at that size
the synthetic vectors are the real tracks' vectors plus noise, served to the real ingest path by a stand-in
embedder; the table says so, and the embedding rate measured at the smaller sizes gives the full cost.
Queries are real requests people typed (../shared/datasets/queries). Prints a markdown table, writes
bench/out/retrieval.png and bench/out/retrieval.json; `--record` keeps the table in bench/results for the docs.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "datasets"
OUT = ROOT / "bench" / "out"
from evals.results import Table, record  # noqa: E402
from retrieval.settings import apply_process_defaults  # noqa: E402

apply_process_defaults()

from retrieval import Catalog, Track  # noqa: E402
from retrieval.embed import Embedder, get_embedder  # noqa: E402
from retrieval.importers import read_source  # noqa: E402
from retrieval.store import Store  # noqa: E402


class Precomputed(Embedder):
    """Serves known vectors for known documents; real encoding for anything else (the queries)."""

    def __init__(self, real: Embedder, vectors: dict[str, np.ndarray]):
        self.__dict__.update(real.__dict__)
        self.real, self.vectors = real, vectors

    def encode(self, texts, batch_size=64):
        if all(t in self.vectors for t in texts):
            return np.stack([self.vectors[t] for t in texts])
        return self.real.encode(texts, batch_size)


def real_tracks() -> list[Track]:
    return [row.track for row in read_source(SHARED / "freemusicc") if row.track]


def synthetic(tracks: list[Track], vectors: np.ndarray, n: int, seed: int = 7) -> tuple[list[Track], dict]:
    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    out, table = [], {}
    for i in range(n):
        j = rng.randrange(len(tracks))
        base, other = tracks[j], tracks[rng.randrange(len(tracks))]
        track = base.model_copy(update={
            "id": f"syn-{i}", "title": f"{base.title} {other.title.split()[0]}",
            "artist": f"{other.artist} {i % 997}" if other.artist else None,
            "year": rng.randint(1960, 2024), "energy": round(rng.random(), 2)})
        vec = vectors[j] + noise.normal(0, 0.05, vectors.shape[1]).astype(np.float32)
        table[track.document()] = vec / np.linalg.norm(vec)
        out.append(track)
    return out, table


def load_queries(limit: int) -> list[str]:
    with (SHARED / "queries" / "music_requests.csv").open(encoding="utf-8") as handle:
        rows = [r["original"].strip() for r in csv.DictReader(handle) if r["original"].strip()]
    random.Random(1).shuffle(rows)
    return rows[:limit]


def percentiles(samples: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples, 50)), float(np.percentile(samples, 95))


def measure(size: int, tracks: list[Track], embedder: Embedder, queries: list[str],
            note: str) -> tuple[dict, np.ndarray]:
    """Ingest `tracks` into a fresh home, then time Encore's search and the numpy baseline on the same queries;
    returns the figures and the stored vectors (in catalog order)."""
    with tempfile.TemporaryDirectory() as home:
        os.environ["ENCORE_HOME"] = home
        source = Path(home) / "catalog.jsonl"
        source.write_text("".join(t.model_dump_json(exclude_none=True) + "\n" for t in tracks), encoding="utf-8")
        catalog = Catalog("bench", embedder=embedder, store=Store(embedder, url=""))
        start = time.perf_counter()
        report = catalog.ingest([source], progress=True)
        ingest_s = time.perf_counter() - start
        assert report.total == len(tracks), (report.total, len(tracks))
        # time the catalog as an app opens it later: a fresh handle on the stored collection and index
        del catalog
        gc.collect()
        catalog = Catalog("bench", embedder=embedder, store=Store(embedder, url=""))
        catalog.index()
        # the baseline: every stored vector in one matrix, exact cosine by a matrix-vector product
        matrix = _all_vectors(catalog, [t.id for t in tracks])
        catalog.search(queries[0], k=10)  # warm caches
        encore_ms, base_ms = [], []
        for query in queries:
            embedder.encode_query.cache_clear()
            t0 = time.perf_counter()
            hits = catalog.search(query, k=10)
            encore_ms.append((time.perf_counter() - t0) * 1000)
            assert hits, f"no answer for {query!r}"
            embedder.encode_query.cache_clear()
            t0 = time.perf_counter()
            vector = embedder.encode_query(query)
            scores = matrix @ vector
            top = np.argpartition(-scores, 10)[:10]
            _ = top[np.argsort(-scores[top])]
            base_ms.append((time.perf_counter() - t0) * 1000)
    e50, e95 = percentiles(encore_ms)
    b50, b95 = percentiles(base_ms)
    return {"tracks": size, "ingest_s": round(ingest_s, 1), "ingest_tracks_per_s": round(size / ingest_s, 1),
            "encore_p50_ms": round(e50, 1), "encore_p95_ms": round(e95, 1),
            "baseline_p50_ms": round(b50, 1), "baseline_p95_ms": round(b95, 1), "note": note}, matrix


def _all_vectors(catalog: Catalog, ids: list[str]) -> np.ndarray:
    collection = catalog.store.collection(catalog.name)
    rows = {}
    for offset in range(0, len(ids), 5000):
        page = collection.get(include=["embeddings"], limit=5000, offset=offset)
        rows.update(zip(page["ids"], page["embeddings"], strict=True))
    return np.asarray([rows[i] for i in ids], dtype=np.float32)


def plot(results: list[dict]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["tracks"] for r in results]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for key, label, style in (("encore_p95_ms", "Encore hybrid p95", "o-"),
                              ("encore_p50_ms", "Encore hybrid p50", "o--"),
                              ("baseline_p95_ms", "numpy brute force p95", "s-"),
                              ("baseline_p50_ms", "numpy brute force p50", "s--")):
        left.plot(sizes, [r[key] for r in results], style, label=label)
    left.axhline(50, color="grey", lw=0.8, ls=":", label="50 ms target")
    left.set(xscale="log", xlabel="tracks in catalog", ylabel="recommend latency (ms)", title="Latency")
    left.legend(fontsize=8)
    right.bar([f"{s:,}" for s in sizes], [r["ingest_tracks_per_s"] for r in results])
    right.set(ylabel="tracks / s", title="Ingest throughput (200k: vectors precomputed)")
    fig.tight_layout()
    path = OUT / "retrieval.png"
    fig.savefig(path, dpi=120)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["1000", "all", "200000"],
                        help="catalog sizes; 'all' = every good freemusi.cc track (21,427)")
    parser.add_argument("--queries", type=int, default=200, help="real requests timed per size")
    parser.add_argument("--record", action="store_true", help="keep the table in bench/results for the docs")
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"bench: the shared datasets are missing ({SHARED})")
    OUT.mkdir(parents=True, exist_ok=True)
    embedder = get_embedder()
    tracks = real_tracks()
    queries = load_queries(args.queries)
    results = []
    vectors = None
    for size in sorted(len(tracks) if s == "all" else int(s) for s in args.sizes):
        if size <= len(tracks):
            result, matrix = measure(size, tracks[:size], embedder, queries, "freemusi.cc, embedded in the run")
            if size == len(tracks):
                vectors = matrix
        else:
            if vectors is None:
                vectors = embedder.encode([t.document() for t in tracks])
            fake, table = synthetic(tracks, vectors, size)
            result, _ = measure(size, fake, Precomputed(embedder, table), queries,
                                "synthetic, vectors precomputed (store + index only)")
        results.append(result)
        print(json.dumps(results[-1]), flush=True)
    table = Table(["tracks", "ingest tracks/s", "Encore p50 / p95 ms", "numpy brute force p50 / p95 ms", "catalog"],
                  [[f"{r['tracks']:,}", str(r["ingest_tracks_per_s"]), f"{r['encore_p50_ms']} / {r['encore_p95_ms']}",
                    f"{r['baseline_p50_ms']} / {r['baseline_p95_ms']}", r["note"]] for r in results], "rrrrl")
    print("\n" + table.markdown())
    (OUT / "retrieval.json").write_text(json.dumps(results, indent=2))
    print(f"\nplot: {plot(results)}")
    if args.record:
        print(f"recorded: {record('retrieval', [table], [f'{len(queries)} real requests timed per size'])}")


if __name__ == "__main__":
    main()
