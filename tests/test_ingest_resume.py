"""An ingest killed with SIGKILL half way, then run again, ends with every track exactly once."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_kill_9_then_rerun_gives_the_right_count(shared, tmp_path):
    from retrieval.importers import read_source

    tracks = [row.track for row in read_source(shared / "freemusicc") if row.track][:2000]
    source = tmp_path / "part.jsonl"
    source.write_text("".join(t.model_dump_json() + "\n" for t in tracks), encoding="utf-8")
    env = {**os.environ, "ENCORE_HOME": str(tmp_path / "home")}
    encore = [sys.executable, "-m", "ui.cli", "ingest", str(source), "--collection", "killed"]
    root = Path(__file__).resolve().parent.parent

    first = subprocess.Popen(encore, env=env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sqlite = tmp_path / "home" / "chroma" / "chroma.sqlite3"
    deadline = time.time() + 240
    while time.time() < deadline and first.poll() is None:
        if sqlite.exists() and sqlite.stat().st_size > 2_000_000:  # a few batches are stored
            break
        time.sleep(0.2)
    assert first.poll() is None, "the first ingest finished before it could be killed"
    os.kill(first.pid, signal.SIGKILL)
    first.wait()

    second = subprocess.run(encore, env=env, cwd=root, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    summary = second.stdout.strip().splitlines()[-1]
    assert "collection 'killed' holds 2000 tracks" in summary
    unchanged = int(summary.split(" unchanged")[0].rsplit(" ", 1)[1])
    assert unchanged > 0  # the rows stored before the kill were not embedded again

    check = subprocess.run([sys.executable, "-c", (
        "from retrieval import Catalog; c = Catalog('killed'); ids = [t.id for t in c.tracks()]; "
        "print(len(ids), len(set(ids)), len(c.index()))")], env=env, cwd=root, capture_output=True, text=True)
    assert check.stdout.split() == ["2000", "2000", "2000"], check.stderr
