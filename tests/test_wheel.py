"""The wheel: built from this checkout, installed into a fresh venv, and run from elsewhere with `python -I`, so
nothing can come from the checkout (the demo data, the prompts and the lexicon must be package data)."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration
TORCH = "torch==2.13.0"  # the CPU build on this disk; a bare requirement would pull a CUDA build


def _run(args: list, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kwargs)
    assert done.returncode == 0, f"{args[:4]} exited {done.returncode}: {done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", root / "dist", ROOT], 300)
    wheel = next((root / "dist").glob("encore-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for data in ("retrieval/demo/catalog.jsonl", "retrieval/demo/comments.jsonl", "retrieval/demo/lyrics.jsonl",
                 "retrieval/lexicon/mood.json", "retrieval/lexicon/request.json", "retrieval/mood_model.npz",
                 "agent/prompts/tools_system.txt", "retrieval/lexicon/unsafe.json", "retrieval/lexicon/common.json"):
        assert data in names, f"{data} is not in the wheel"
    assert not [n for n in names if n.startswith(("evals/", "tests/", "bench/"))]  # harnesses stay in the checkout
    venv = root / "venv"
    _run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", venv], 120)
    python = venv / "bin" / "python"
    _run([python, "-m", "pip", "install", "--quiet", TORCH], 480)
    _run([python, "-m", "pip", "install", "--quiet", wheel], 480)
    return venv


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENCORE_", "PYTHON", "VIRTUAL_ENV"))}
    return {**env, "ENCORE_HOME": str(home)}


def test_the_installed_wheel_sets_up_and_recommends_from_anywhere(installed, tmp_path):
    python = installed / "bin" / "python"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = _clean_env(tmp_path / "home")
    where = _run([python, "-I", "-c", "import agent, retrieval, ui; print(agent.__file__)"], 60, cwd=elsewhere,
                 env=env).stdout.strip()
    assert Path(where).resolve().is_relative_to(installed.resolve()), where
    encore = [python, "-I", "-m", "ui.cli"]
    helped = _run([*encore, "--help"], 60, cwd=elsewhere, env=env).stdout
    assert all(word in helped for word in ("setup", "recommend", "chat", "serve", "config"))
    assert "recommend" in _run([installed / "bin" / "encore", "--help"], 60, cwd=elsewhere, env=env).stdout
    setup = _run([*encore, "setup", "--no-model"], 300, cwd=elsewhere, env=env).stdout
    assert "447 added" in setup
    picks = json.loads(_run([*encore, "recommend", "rainy evening, something calm", "--k", "5", "--json"], 120,
                            cwd=elsewhere, env=env).stdout)
    assert len(picks["tracks"]) == 5 and all(t["id"] and t["why"] for t in picks["tracks"])
    shown = json.loads(_run([*encore, "config", "--json"], 60, cwd=elsewhere, env=env).stdout)
    assert Path(shown["demo_catalog"]).resolve().is_relative_to(installed.resolve())
    plays = tmp_path / "plays.csv"
    plays.write_text("artist,title\nMiles Davis,So What\n", encoding="utf-8")
    imported = _run([*encore, "history", "import", plays, "--user", "ana"], 120, cwd=elsewhere, env=env).stdout
    assert "1 matched" in imported  # agent.listening, a sub-package, is in the wheel too
    told = subprocess.run([*encore, "eval", "moods"], cwd=elsewhere, env=env, capture_output=True, text=True,
                          timeout=60)
    assert told.returncode == 1 and "source checkout" in told.stderr and "Traceback" not in told.stderr
