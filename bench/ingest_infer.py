"""Ingest benchmark for mood inference: the 4,000 MusicCaps dev captions as a description-only catalog
({"id", "description"} JSONL, so every track needs inference), ingested with inference and with `--no-infer`
into fresh collections of one temporary ENCORE_HOME, in the same run. Rounds alternate the order (ABBA) so a
machine that slows down or speeds up over the run does not favour either side. Target: ratio <= 1.20.

    .venv/bin/python bench/ingest_infer.py                  # 2 rounds (4 ingests of 4,000 tracks, ~5 minutes)
    .venv/bin/python bench/ingest_infer.py --rounds 1 --limit 1000

Prints a table, writes bench/out/ingest_infer.png and bench/out/ingest_infer.json; `--record` keeps the table in
bench/results for the docs.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CAPTIONS = ROOT.parent / "shared" / "datasets" / "musiccaps" / "musiccaps.dev.csv"
OUT = ROOT / "bench" / "out"
from evals.results import Table, record  # noqa: E402
from retrieval.settings import apply_process_defaults  # noqa: E402

apply_process_defaults()

from retrieval import Catalog  # noqa: E402
from retrieval.embed import get_embedder  # noqa: E402
from retrieval.infer import packaged_model, texts_of  # noqa: E402
from retrieval.store import Store  # noqa: E402


def write_catalog(path: Path, limit: int) -> int:
    with CAPTIONS.open(encoding="utf-8", newline="") as handle:
        rows = [{"id": r["ytid"], "description": r["caption"]}
                for r in itertools.islice(csv.DictReader(handle), limit)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return len(rows)


def ingest(source: Path, name: str, embedder, infer: bool) -> tuple[float, Catalog]:
    catalog = Catalog(name, embedder=embedder, store=Store(embedder, url=""))
    start = time.perf_counter()
    report = catalog.ingest([source], progress=False, infer=infer)
    seconds = time.perf_counter() - start
    assert not report.bad and report.added == report.total, (report.bad[:3], report.added, report.total)
    return seconds, catalog


def inference_alone(catalog: Catalog) -> tuple[float, int]:
    """The reading itself on the stored vectors (what inference adds, without Chroma or the embedder)."""
    tracks = catalog.tracks()
    vectors = catalog.vectors([t.id for t in tracks])
    texts = [texts_of(t) for t in tracks]
    matrix = [vectors[t.id] for t in tracks]
    model = packaged_model()
    start = time.perf_counter()
    readings = model.read(texts, matrix)
    return time.perf_counter() - start, sum(1 for r in readings if r.moods)


def plot(result: dict) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    labels = ["--no-infer", "with inference"]
    ax.bar(labels, [result["no_infer_s"], result["infer_s"]], color=["#999999", "#3b7dd8"])
    ax.axhline(result["no_infer_s"] * 1.2, color="grey", lw=0.8, ls=":", label="+20% budget")
    ax.set(ylabel="seconds (median of the rounds)", title=f"Ingest {result['tracks']:,} description-only tracks: "
                                             f"{result['ratio']:.3f}x")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = OUT / "ingest_infer.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="pairs of ingests, ABBA order")
    parser.add_argument("--limit", type=int, default=4000, help="captions to ingest")
    parser.add_argument("--record", action="store_true", help="keep the table in bench/results for the docs")
    args = parser.parse_args()
    if not CAPTIONS.is_file():
        sys.exit(f"bench: the MusicCaps captions are missing ({CAPTIONS})")
    OUT.mkdir(parents=True, exist_ok=True)
    times: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as home:
        os.environ["ENCORE_HOME"] = home
        source = Path(home) / "captions.jsonl"
        count = write_catalog(source, args.limit)
        embedder = get_embedder()
        embedder.encode(["warm up the embedder", "and its ONNX export"])
        catalog = None
        for round_ in range(args.rounds):
            order = (False, True) if round_ % 2 == 0 else (True, False)
            for infer in order:
                seconds, ingested = ingest(source, f"bench-{'infer' if infer else 'plain'}-{round_}", embedder, infer)
                times[infer].append(seconds)
                catalog = ingested if infer else catalog
                print(f"round {round_ + 1}: {'with inference' if infer else '--no-infer':15} {seconds:7.1f} s",
                      flush=True)
        alone, with_moods = inference_alone(catalog)
    plain, inferred = statistics.median(times[False]), statistics.median(times[True])
    result = {"tracks": count, "rounds": args.rounds, "no_infer_s": round(plain, 1), "infer_s": round(inferred, 1),
              "ratio": round(inferred / plain, 3), "inference_alone_s": round(alone, 2),
              "inference_alone_share": round(alone / min(times[False]), 4),
              "tracks_with_inferred_moods": with_moods, "all_no_infer_s": [round(t, 1) for t in times[False]],
              "all_infer_s": [round(t, 1) for t in times[True]]}
    table = Table(["tracks", "--no-infer s", "with inference s", "ratio (budget 1.20)",
                   "inference alone s (share of the fastest plain ingest)", "tracks given inferred moods"],
                  [[f"{count:,}", str(result["no_infer_s"]), str(result["infer_s"]), f"{result['ratio']:.3f}",
                    f"{result['inference_alone_s']} ({100 * result['inference_alone_share']:.1f}%)",
                    f"{with_moods:,}"]],
                  "rrrrrr")
    print("\n" + table.markdown())
    (OUT / "ingest_infer.json").write_text(json.dumps(result, indent=2))
    print(f"\nplot: {plot(result)}")
    if args.record:
        print(f"recorded: {record('ingest_infer', [table], [f'medians of {args.rounds} rounds in ABBA order'])}")


if __name__ == "__main__":
    main()
