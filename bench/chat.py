"""Chat turn latency: time to the first streamed text and to the whole turn, with the in-process SmolLM2 on the
demo catalog, over a 20-turn scripted conversation (requests, refinements, feedback, explanations).

    .venv/bin/python bench/chat.py [--record]      # needs `encore setup` (model + demo catalog)

Baseline in the same run: the same turns with retrieval only (the grounded reply, no model), so the table shows
what the model adds. Prints a markdown table, writes bench/out/chat.png and chat.json; `--record` keeps the table
in bench/results/chat.json for docs/benchmarks.md.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
from evals.results import Table, record  # noqa: E402
from retrieval.settings import apply_process_defaults  # noqa: E402

apply_process_defaults()

TURNS = [
    "rough day, need something to calm down", "faster", "only before 2000", "\U0001F44E 1", "more like #2",
    "90s hip-hop for a road trip", "no more ballads", "why #1?", "something like Bon Iver but less sleepy",
    "\U0001F44D 3", "upbeat funk to dance to", "calmer", "我今天很伤感", "late-night coding, no vocals", "more",
    "songs for a sunny morning", "only after 2010", "heartbroken and lonely", "jazz for a dinner party", "faster",
]


def run(agent, label: str) -> list[dict]:
    rows = []
    session = f"bench-{label}-{time.time_ns()}"
    for text in TURNS:
        start = time.perf_counter()
        pieces: list[float] = []

        def on_text(piece: str, pieces=pieces, start=start) -> None:
            if piece.strip():
                pieces.append(time.perf_counter() - start)

        result = agent.say(text, session, on_text=on_text)
        total = time.perf_counter() - start
        # the picks stream first (grounded, no model); for a recommendation the model's remark follows them
        model = pieces[1] if len(pieces) > 1 and result.intent in ("recommend", "refine", "feedback") else None
        rows.append({"turn": text, "first_s": pieces[0] if pieces else total, "model_first_s": model,
                     "total_s": total, "intent": result.intent, "tracks": len(result.tracks)})
        print(json.dumps({"engine": label, **rows[-1]}, ensure_ascii=False), flush=True)
    return rows


def main() -> None:
    from agent.engines import NoModel, get_chat_model
    from agent.graph import Agent
    from retrieval import Catalog

    catalog = Catalog("demo")
    if catalog.count() == 0:
        sys.exit("bench: the demo collection is empty; run `encore setup`")
    OUT.mkdir(parents=True, exist_ok=True)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        silent = NoModel()  # says nothing: the reply is the grounded one
        for label, chat in (("retrieval only (no model)", silent), ("in-process SmolLM2", get_chat_model())):
            agent = Agent(catalog, chat=chat, checkpoint=Path(tmp) / f"{len(results)}.sqlite")
            agent.say("warm up", "warm")  # load the model, the index and the embedder outside the timings
            results[label] = run(agent, label)
            agent.close()
    summary, rows = {}, []
    for label, turns in results.items():
        first = [r["first_s"] for r in turns]
        total = [r["total_s"] for r in turns]
        summary[label] = {"first_p50": statistics.median(first), "total_p50": statistics.median(total),
                          "model_first_p50": statistics.median(m) if (m := [r["model_first_s"] for r in turns
                                                                              if r["model_first_s"]]) else None,
                          "first_p95": sorted(first)[int(0.95 * (len(first) - 1))],
                          "total_p95": sorted(total)[int(0.95 * (len(total) - 1))]}
        s = summary[label]
        model = f"{s['model_first_p50']:.2f} s" if s["model_first_p50"] else "-"
        rows.append([label, f"{s['first_p50']:.2f} s", model, f"{s['total_p50']:.2f} s", f"{s['first_p95']:.2f} s",
                     f"{s['total_p95']:.2f} s"])
    table = Table(["engine", "first text p50", "first model sentence p50", "whole turn p50", "first text p95",
                   "whole turn p95"], rows)
    print("\n" + table.markdown())
    print(f"\n{len(TURNS)} turns each; targets with the in-process model: first text < 2 s, whole turn < 8 s (p50)")
    (OUT / "chat.json").write_text(json.dumps({"summary": summary, "turns": results}, indent=2, ensure_ascii=False))
    print(f"plot: {plot(results)}")
    if "--record" in sys.argv[1:]:
        print(f"recorded: {record('chat', [table], [f'{len(TURNS)} turns for each engine'])}")


def plot(results: dict[str, list[dict]]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    for label, rows in results.items():
        ax.plot(range(1, len(rows) + 1), [r["total_s"] for r in rows], marker="o", label=f"{label}: whole turn")
        ax.plot(range(1, len(rows) + 1), [r["first_s"] for r in rows], marker=".", linestyle="--",
                label=f"{label}: first text")
    ax.axhline(2, color="grey", linewidth=0.5)
    ax.axhline(8, color="grey", linewidth=0.5)
    ax.set_xlabel("turn")
    ax.set_ylabel("seconds")
    ax.set_title("Encore chat turn latency (2-core CPU)")
    ax.legend(fontsize=8)
    path = OUT / "chat.png"
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


if __name__ == "__main__":
    main()
