"""The web app's overhead: time to the cards and to the first model sentence through `gradio_client` (the
streamed chat endpoint of a real `encore ui` app on loopback) beside a direct `Agent.say` in the same run, and
peak memory with 8 sessions chatting at once beside 1. In-process SmolLM2 over the demo catalog.

    .venv/bin/python bench/web.py            # needs `encore setup` (model + demo catalog)

Prints a markdown table; writes bench/out/web.json.
"""

from __future__ import annotations

import json
import resource
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
from retrieval.settings import apply_process_defaults  # noqa: E402

apply_process_defaults()

REQUESTS = ["rough day, need something to calm down", "90s hip-hop for a road trip", "upbeat funk to dance to",
            "late-night coding, no vocals", "songs for a sunny morning", "jazz for a dinner party",
            "heartbroken and lonely", "something like Bon Iver but less sleepy"]


def direct(agent, text: str) -> tuple[float, float | None]:
    start, marks = time.perf_counter(), []
    agent.say(text, f"direct-{time.time_ns()}", on_text=lambda _: marks.append(time.perf_counter() - start))
    return marks[0], (marks[1] if len(marks) > 1 else None)


def through_client(client, text: str) -> tuple[float, float | None]:
    """The cards come with the grounded list (one update of the UI); the first model sentence is the next text."""
    start = time.perf_counter()
    cards = sentence = None
    listing = 0
    for history, _message, _notice in client.submit(text, [], 6, api_name="/chat_stream"):
        now = time.perf_counter() - start
        last = history[-1] if history else {}
        if not isinstance(last, dict) or (last.get("metadata") or {}).get("title"):
            continue  # a step ("Working"), not the reply
        content = last.get("content")
        content = content if isinstance(content, str) else json.dumps(content)
        if cards is None and content.strip():
            cards, listing = now, len(content)
        elif cards is not None and sentence is None and len(content) > listing + 3:
            sentence = now
    return cards, sentence


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    from gradio_client import Client

    from agent import Agent
    from retrieval import Catalog
    from ui.web import WebApp

    catalog = Catalog("demo")
    if catalog.count() == 0:
        sys.exit("the demo catalog is empty: run `encore setup` first")
    folder = Path(tempfile.mkdtemp(prefix="encore-bench-web-"))
    agent = Agent(catalog=catalog, checkpoint=folder / "sessions.sqlite")
    app = WebApp(settings=catalog.settings, agent=agent)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    page, url = app.launch("127.0.0.1", port, block=False)
    client = Client(url, verbose=False)
    direct(agent, "warm-up")  # loads the model and the indexes once, outside the timings
    through_client(client, "warm-up")
    rows = {"direct Agent.say": [], "gradio_client (streamed endpoint)": []}
    for text in REQUESTS:  # interleaved, so drift on a shared machine hits both alike
        rows["direct Agent.say"].append(direct(agent, text))
        rows["gradio_client (streamed endpoint)"].append(through_client(client, text))
    one = peak_mb()
    threads = [threading.Thread(target=through_client, args=(Client(url, verbose=False), text)) for text in REQUESTS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    eight = peak_mb()
    page.close()
    app.close()

    def p50(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else float("nan")

    table = {name: {"cards_p50_s": p50([c for c, _ in r]), "first_sentence_p50_s": p50([s for _, s in r])}
             for name, r in rows.items()}
    base = table["direct Agent.say"]
    print("| path | cards p50 | first model sentence p50 |\n|---|---:|---:|")
    for name, m in table.items():
        print(f"| {name} | {m['cards_p50_s']:.2f} s ({m['cards_p50_s'] / base['cards_p50_s']:.2f}x) | "
              f"{m['first_sentence_p50_s']:.2f} s ({m['first_sentence_p50_s'] / base['first_sentence_p50_s']:.2f}x) |")
    print(f"\npeak memory: 1 session {one:.0f} MB, then 8 sessions at once {eight:.0f} MB ({eight / one:.2f}x)")
    print("\nper request (cards s, first sentence s): direct | gradio_client")
    for text, a, b in zip(REQUESTS, *rows.values(), strict=True):
        print(f"  {text[:40]:<40} {a[0]:.2f}, {a[1] or float('nan'):.2f} | {b[0]:.2f}, {b[1] or float('nan'):.2f}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "web.json").write_text(json.dumps({"latency": table, "peak_mb": {"1": one, "8": eight}}, indent=2))


if __name__ == "__main__":
    main()
