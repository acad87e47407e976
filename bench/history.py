"""History import throughput: a 50,000-play listening history matched against all 21.5k freemusi.cc tracks, beside
the time it takes only to parse the same files (the baseline), in the same run.

The history is generated from the catalog the way real exports look: a Spotify extended streaming history (two
JSON files) and a ListenBrainz JSONL, about 6,000 distinct songs played with a long tail, titles decorated the
way services write them ("- Remastered 2011", "(Live)"), a share of artist names misspelt or in another case, a
tenth of plays of songs the catalog does not have, skips and short plays. Import = parse + store in the profile
(SQLite, keyed so a re-import adds nothing) + match every distinct (artist, title) to the catalog; the re-import
row shows the dedup path. Matching needs the catalog's records, not its vectors, so the collection is the lexical
index of the freemusi.cc import (no embedding: that is ingest's cost, measured by bench/retrieval.py).

    .venv/bin/python bench/history.py        # needs ../shared/datasets/freemusicc

Prints a table; writes bench/out/history.json and bench/out/history.png; `--record` (the one argument) keeps the
table in bench/results for the docs.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
SHARED = ROOT.parent / "shared" / "datasets" / "freemusicc"

PLAYS = 50_000
SONGS = 6_000
REPEATS = 3


class LexicalCatalog:
    """The part of `Catalog` an import uses (its name and lexical index), without a vector store."""

    def __init__(self, name: str, index):
        self.name = name
        self._index = index

    def index(self):
        return self._index


def history(tracks, folder: Path, seed: int = 7) -> list[Path]:
    rng = random.Random(seed)
    songs = rng.sample([t for t in tracks if t.artist], SONGS)
    unknown = [(f"Unknown Artist {i}", f"Lost Song {i}") for i in range(SONGS // 10)]
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(songs))]  # a long tail, as real listening has
    start = datetime(2023, 1, 1, tzinfo=UTC)
    spotify, listenbrainz = [], []
    for n in range(PLAYS):
        when = start + timedelta(seconds=n * 1200 + rng.randint(0, 600))
        if rng.random() < 0.1:
            artist, title = rng.choice(unknown)
        else:
            track = rng.choices(songs, weights)[0]
            artist, title = track.artist, track.title
            roll = rng.random()
            if roll < 0.05:
                title += " - Remastered 2011"
            elif roll < 0.08:
                title += " (Live)"
            elif roll < 0.12:
                artist = artist.upper()
            elif roll < 0.15 and len(artist) > 7:
                i = rng.randrange(1, len(artist) - 1)
                artist = artist[:i] + artist[i + 1:]  # a letter dropped
        if n % 2:
            ms = rng.choice([5_000, 12_000, 180_000, 240_000, 200_000])
            spotify.append({"ts": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "ms_played": ms,
                            "master_metadata_track_name": title, "master_metadata_album_artist_name": artist,
                            "master_metadata_album_album_name": None, "reason_end": "fwdbtn" if ms < 30_000
                            else "trackdone", "skipped": ms < 30_000})
        else:
            listenbrainz.append({"listened_at": int(when.timestamp()),
                                 "track_metadata": {"artist_name": artist, "track_name": title}})
    paths = []
    half = len(spotify) // 2
    for number, part in enumerate((spotify[:half], spotify[half:])):
        path = folder / f"Streaming_History_Audio_2023-2024_{number}.json"
        path.write_text(json.dumps(part), encoding="utf-8")
        paths.append(path)
    path = folder / "listens.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in listenbrainz) + "\n", encoding="utf-8")
    return [*paths, path]


def main() -> None:
    if not SHARED.is_dir():
        sys.exit(f"bench/history.py needs {SHARED}")
    from agent.listening import Profiles
    from agent.listening.history import read_history
    from evals.results import Table, record
    from retrieval.importers import read_source
    from retrieval.lexical import LexicalIndex
    from retrieval.settings import Settings

    started = time.perf_counter()
    tracks = [row.track for row in read_source(SHARED, "freemusicc") if row.track is not None]
    catalog = LexicalCatalog("freemusicc", LexicalIndex.build(tracks))
    print(f"catalog: {len(tracks)} freemusi.cc tracks indexed in {time.perf_counter() - started:.1f} s")
    rows = []
    with tempfile.TemporaryDirectory(prefix="encore-bench-history-") as folder:
        root = Path(folder)
        files = history(tracks, root)
        size = sum(p.stat().st_size for p in files) / 1e6
        profiles = Profiles(Settings.load(), folder=root / "profiles")
        parse_runs, import_runs = [], []
        for attempt in range(REPEATS):  # alternating, so both see the same machine; medians reported
            t0 = time.perf_counter()
            parsed = read_history(files)
            parse_runs.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            report = profiles.import_files(f"bench-{attempt}", files, catalog)
            import_runs.append(time.perf_counter() - t0)
        parse_s, import_s = statistics.median(parse_runs), statistics.median(import_runs)
        distinct = len({(p.artist.casefold(), p.title.casefold()) for p in parsed.plays})
        t0 = time.perf_counter()
        again = profiles.import_files("bench-0", files, catalog)
        reimport_s = time.perf_counter() - t0
        rows = [("parse only (baseline)", parse_s, len(parsed.plays), ""),
                ("import: parse + store + match", import_s, report.added,
                 f"{report.matched} matched, {report.unmatched} unmatched"),
                ("re-import (nothing new)", reimport_s, again.added, f"{again.total} plays stored")]
    print(f"\n{len(parsed.plays)} plays ({distinct} distinct written pairs, {size:.1f} MB in {len(files)} files)\n")
    print(f"median of {REPEATS} alternating runs each; a fresh profile every import\n")
    table = Table(["step", "seconds", "plays/s", "plays added", "notes"],
                  [[name, f"{seconds:.2f}", f"{PLAYS / seconds:,.0f}", f"{added:,}", note]
                   for name, seconds, added, note in rows], "lrrrl")
    lines = [f"import / parse = {import_s / parse_s:.2f}x (target <= 3x); import {import_s:.1f} s (target < 60 s)",
             f"{report.matched:,} of {report.read:,} plays match ({report.matched / max(1, report.read):.1%}), "
             f"from {distinct:,} distinct written (artist, title) pairs"]
    print(table.markdown() + "\n\n" + "\n".join(lines))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "history.json").write_text(json.dumps({"plays": PLAYS, "distinct": distinct, "parse_s": parse_s,
                                                  "import_s": import_s, "reimport_s": reimport_s,
                                                  "matched": report.matched, "unmatched": report.unmatched}))
    _plot(rows)
    if "--record" in sys.argv[1:]:
        print(f"recorded: {record('history', [table], lines)}")


def _plot(rows) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 2.6))
    ax.barh([r[0] for r in rows][::-1], [r[1] for r in rows][::-1], color=["#999", "#2a7", "#888"][::-1])
    ax.set_xlabel(f"seconds for {PLAYS:,} plays against 21.5k tracks")
    fig.tight_layout()
    fig.savefig(OUT / "history.png", dpi=120)


if __name__ == "__main__":
    main()
