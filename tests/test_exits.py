"""Every command a newcomer runs first exits 0, every time: the README's quick start and `make demo`'s steps, each
run 20 times in fresh processes over the demo catalog with the real in-process SmolLM2.

`encore playlist` once aborted at exit in about half its runs ("terminate called without an active exception",
exit 134): a generation thread was still inside torch as the interpreter finalized. A crash at exit is a matter of
timing, so one clean run proves nothing; twenty of each make a one-in-ten abort all but certain to show.

Two processes run at a time, each with one OpenMP thread: on two cores that is twice the runs of one process with
two threads in the same time (two two-thread processes at once run four times slower). The long-running commands
(`encore ui`, `encore serve`) and `encore finetune` have their own stop tests; ingesting all of freemusi.cc is left
out for its minutes per run (`encore ingest` runs here on a small file).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

RUNS = 20
DEMO_CHAT = "90s hip-hop for a road trip\nonly before 1995\n\U0001F44E 1\nwhy #2?\n"  # make demo's conversation


def commands(home: Path) -> dict[str, tuple[list[str], str | None]]:
    """name -> (arguments, standard input)"""
    queries = home / "requests.txt"
    queries.write_text("something mellow for a rainy evening\nupbeat songs for a run, no rap\n", encoding="utf-8")
    plays = home / "plays.csv"
    plays.write_text("artist,title\nMiles Davis,So What\nNick Drake,Pink Moon\nMiles Davis,Blue in Green\n",
                     encoding="utf-8")
    tracks = home / "few.jsonl"
    tracks.write_text('{"id": "exit-1", "title": "Exit Song", "artist": "Test Band", "genre": "rock"}\n',
                      encoding="utf-8")
    return {
        "setup": (["setup"], None),
        "config": (["config"], None),
        "recommend": (["recommend", "rainy evening, something calm and a little sad", "--k", "5"], None),
        "recommend-chinese": (["recommend", "我今天很伤感", "--k", "5"], None),
        "recommend-json": (["recommend", "calm ambient music for studying", "--json", "--k", "10"], None),
        "recommend-queries": (["recommend", "--queries", str(queries), "--k", "10"], None),
        "ingest": (["ingest", str(tracks), "--collection", "extra"], None),
        "history-import": (["history", "import", str(plays), "--user", "ana"], None),
        "profile-show": (["profile", "show", "ana"], None),
        "chat": (["chat"], DEMO_CHAT),
        "playlist": (["playlist", "late-night coding, no vocals", "--n", "8", "--json"], None),
        "review": (["review", "miles-davis--so-what", "--json"], None),
    }


def run_one(encore: str, env: dict, name: str, todo: dict) -> tuple[str, int, str]:
    args, stdin = todo[name]
    done = subprocess.run([encore, *args], env=env, input=stdin, capture_output=True, text=True, timeout=600)
    return name, done.returncode, done.stderr[-600:]


def test_every_first_command_exits_cleanly_every_time(tmp_path, smollm2):
    home = tmp_path / "home"
    home.mkdir()
    (home / "models").symlink_to(smollm2.parent)  # the pulled model, so `encore setup` finds it already there
    encore = str(Path(sys.executable).with_name("encore"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENCORE_", "OMP_"))}
    env.update(ENCORE_HOME=str(home), OMP_NUM_THREADS="1")
    first = subprocess.run([encore, "setup"], env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    todo = commands(home)
    # `profile show ana` reads the profile `history import` writes: import once first, so that the two running side
    # by side in the first round cannot see a profile not yet written (that run still counts among the twenty)
    results = [run_one(encore, env, "history-import", todo)]
    runs = [name for n in range(RUNS) for name in todo if not (n == 0 and name == "history-import")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results += pool.map(lambda name: run_one(encore, env, name, todo), runs)
    failed = [(name, code, err) for name, code, err in results if code != 0]
    counts = Counter(name for name, _, _ in results)
    assert set(counts.values()) == {RUNS} and set(counts) == set(todo)
    assert not failed, f"{len(failed)} of {len(results)} runs failed; first: {failed[0]}"
