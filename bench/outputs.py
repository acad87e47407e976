"""The JSON outputs of a fixed set of commands, recorded before a refactor and compared after it.

    python bench/outputs.py record OUT.json [--cpcd] [--home DIR] [--encore CMD]  # setup, then every command
    python bench/outputs.py compare OLD.json NEW.json   # one line per command that differs, and where

Greedy decoding (`ENCORE_TEMPERATURE=0`) makes the model's text repeatable on one machine. `--cpcd` also ingests
CPCD's tracks and runs `encore eval cpcd` on its first five dialogs (a few minutes more). Each record works on a
copy of a home set up once: a fresh one, or the one `--home` names (set up on its first use). Two versions
recorded from the same `--home` share one ingest, so what differs is their code, not an index built anew.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CPCD = ROOT.parent / "shared" / "datasets" / "cpcd"
ENCORE = [str(Path(sys.executable).with_name("encore"))]  # --encore names another (an older checkout's)
DONE = "outputs.base"  # marks a home that setup (and the CPCD ingest) finished

REQUESTS = ["rainy evening, something calm and a little sad", "我今天很伤感", "upbeat pop but no Taylor Swift",
            "instrumental jazz from the 50s", "something like Bon Iver but less sleepy", "angry music for the gym",
            "no rap, no metal, just chill electronic", "80s synth pop, nothing too slow"]
CONVERSATIONS = [
    ["90s hip-hop for a road trip", "only before 1995", "\U0001F44E 1", "why #2?"],
    ["sad songs after a breakup", "more upbeat", "no country please", "more like #2"],
    ["romantic dinner jazz", "without vocals", "only from the 60s", "\U0001F44D 1", "something similar"],
]
PLAYLISTS = [("late-night coding, no vocals", 8), ("a summer barbecue, nothing sad", 10),
             ("road trip, no country", 12)]
REVIEWS = ["miles-davis--so-what", "nick-drake--pink-moon"]


def commands(work: Path) -> dict[str, tuple[list[str], str | None]]:
    out: dict[str, tuple[list[str], str | None]] = {}
    for i, text in enumerate(REQUESTS):
        out[f"recommend-{i}"] = (["recommend", text, "--k", "8", "--json"], None)
    queries = work / "queries.txt"
    queries.write_text("\n".join(REQUESTS) + "\n", encoding="utf-8")
    out["recommend-queries"] = (["recommend", "--queries", str(queries), "--k", "5"], None)
    out["recommend-explain"] = (["recommend", REQUESTS[0], "--k", "3", "--explain", "--json"], None)
    for i, turns in enumerate(CONVERSATIONS):
        out[f"chat-{i}"] = (["chat", "--json", "--session", f"golden-{i}"], "".join(t + "\n" for t in turns))
    for i, (text, n) in enumerate(PLAYLISTS):
        out[f"playlist-{i}"] = (["playlist", text, "--n", str(n), "--json"], None)
    for track in REVIEWS:
        out[f"review-{track}"] = (["review", track, "--json"], None)
    return out


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    done = subprocess.run([*ENCORE, *args], env=env, input=stdin, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"encore {' '.join(args)} exited {done.returncode}: {done.stderr[-1000:]}")
    return done.stdout


def record(out: Path, cpcd: bool, base: Path | None = None) -> None:
    work = Path(tempfile.mkdtemp(prefix="encore-outputs-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENCORE_")}
    env["ENCORE_TEMPERATURE"] = "0"
    base = base or work / "base"
    if not (base / DONE).exists():  # set up (and ingest CPCD) once; every record then works on a copy
        env["ENCORE_HOME"] = str(base)
        run(["setup"], env)
        if cpcd:
            run(["ingest", str(CPCD / "tracks.jsonl"), "--format", "cpcd", "--collection", "cpcd", "--quiet"], env)
        (base / DONE).write_text("setup done\n", encoding="utf-8")
    shutil.copytree(base, work / "home")  # sessions, likes and profiles written below never reach the base
    env["ENCORE_HOME"] = str(work / "home")
    results: dict[str, str] = {}
    for name, (args, stdin) in commands(work).items():
        print(name, file=sys.stderr, flush=True)
        results[name] = run(args, env, stdin)
    if cpcd:
        dialogs = work / "dialogs.jsonl"
        lines = (CPCD / "dialogs.dev.jsonl").read_text(encoding="utf-8").splitlines()[:5]
        dialogs.write_text("\n".join(lines) + "\n", encoding="utf-8")
        preds = work / "preds.jsonl"
        run(["eval", "cpcd", "--dialogs", str(dialogs), "--collection", "cpcd", "--out", str(preds)], env)
        results["eval-cpcd"] = preds.read_text(encoding="utf-8")
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{len(results)} outputs -> {out}", file=sys.stderr)


def compare(old: Path, new: Path) -> int:
    a, b = json.loads(old.read_text(encoding="utf-8")), json.loads(new.read_text(encoding="utf-8"))
    differ = 0
    for name in sorted(set(a) | set(b)):
        if a.get(name) == b.get(name):
            continue
        differ += 1
        x, y = (a.get(name) or "").splitlines(), (b.get(name) or "").splitlines()
        line = next((i for i, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), min(len(x), len(y)))
        print(f"{name}: differs from line {line + 1}")
    print(f"{len(set(a) | set(b)) - differ} same, {differ} different")
    return 1 if differ else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("out", type=Path)
    rec.add_argument("--cpcd", action="store_true")
    rec.add_argument("--encore", help="the command to record instead of this venv's encore")
    rec.add_argument("--home", type=Path, help="a set-up home to copy for each record (set up on its first use)")
    cmp_ = sub.add_parser("compare")
    cmp_.add_argument("old", type=Path)
    cmp_.add_argument("new", type=Path)
    args = parser.parse_args()
    if args.verb == "record":
        if args.encore:
            ENCORE[:] = [args.encore]
        record(args.out, args.cpcd, args.home)
    else:
        raise SystemExit(compare(args.old, args.new))


if __name__ == "__main__":
    main()
