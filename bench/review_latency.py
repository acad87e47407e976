"""Review latency with the in-process model: how soon a planned review shows its first model-written sentence,
beside the whole review, and beside the old way in the same run (one unplanned prompt "Write a review of X",
streamed to its first sentence).

    .venv/bin/python bench/review_latency.py                     # needs `encore setup` (model + demo catalog)
    .venv/bin/python bench/review_latency.py --adapter DIR --tracks 6

For each of a few demo tracks (sha1 order of the id, the same every run) it times, from the moment the review is
asked for: the first sentence shown of any source (the grounded one when the model's first fails the checker),
the first model-written sentence shown (`on_text` sees each sentence as it is finalised), and the whole review;
`Written.first_model_s` (counted from the start of the writing, after the related-track lookup) is kept too.
Then the baseline prompt on the same model. Medians against the aim of 2 s; writes bench/out/review_latency.json
and .png. The machine is shared and noisy: read the ratio to the baseline, not the seconds alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
from retrieval.settings import Settings, apply_process_defaults  # noqa: E402

apply_process_defaults()

from langchain_core.messages import HumanMessage  # noqa: E402

from agent.engines import LocalChatModel  # noqa: E402
from agent.graph import Agent  # noqa: E402
from agent.models import default_model_path  # noqa: E402
from retrieval import Catalog, Track  # noqa: E402
from retrieval.plans import SENTENCE_END  # noqa: E402

AIM_S = 2.0


def planned(agent: Agent, chat: LocalChatModel, track: Track) -> dict:
    """One planned review as the product writes it, with the time of every sentence it showed."""
    shown: list[tuple[float, str]] = []
    start = time.perf_counter()
    written = agent.intents.review_written(track, chat=chat,
                                           on_text=lambda text: shown.append((time.perf_counter() - start, text)))
    total = time.perf_counter() - start
    model = {x.text for x in written.lines if x.source == "model"} | {s for _, s, v in written.judged if v.ok}
    first_model = next((t for t, text in shown if text in model), None)
    return {"id": track.id, "first_any_s": round(shown[0][0], 3) if shown else None,
            "first_model_shown_s": None if first_model is None else round(first_model, 3),
            "first_model_s": None if written.first_model_s is None else round(written.first_model_s, 3),
            "review_s": round(total, 3), "sentences": len(written.lines),
            "model_sentences": sum(x.source == "model" for x in written.lines), "words": len(written.text.split()),
            "first": shown[0][1] if shown else ""}


def baseline(chat: LocalChatModel, track: Track) -> dict:
    """The old way: one unplanned prompt, streamed until its first sentence has ended (the next has begun)."""
    prompt = f"Write a review of \u201c{track.title}\u201d by {track.artist or 'an unknown artist'}."
    start, text, first = time.perf_counter(), "", None
    for chunk in chat.stream([HumanMessage(prompt)], max_tokens=96):
        text += str(chunk.content)
        if (first := ended(text)) is not None:
            break
    return {"id": track.id, "first_any_s": round(time.perf_counter() - start, 3), "first": first or text.strip()}


def ended(text: str) -> str | None:
    """The first sentence of four words or more once it has ended, as the planned writer counts one."""
    for match in SENTENCE_END.finditer(text):
        candidate = text[:match.end()].strip()
        if text[match.end():match.end() + 1].isspace() and len(candidate.split()) >= 4:
            return candidate
    return None


def median(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return round(statistics.median(values), 3) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="HF model folder (default: the pulled SmolLM2)")
    parser.add_argument("--adapter", type=Path, default=None, help="a LoRA adapter folder to load on the model")
    parser.add_argument("--tracks", type=int, default=6, help="demo tracks to review")
    parser.add_argument("--collection", default="demo")
    args = parser.parse_args()
    settings = Settings.load()
    model = args.model or default_model_path(settings)
    if not (model / "config.json").is_file():
        sys.exit(f"bench: no model at {model}; run `encore models pull`")
    if args.adapter and not (args.adapter / "adapter_config.json").is_file():
        sys.exit(f"bench: {args.adapter}: not a LoRA adapter folder (no adapter_config.json)")
    catalog = Catalog(args.collection, settings=settings)
    tracks = sorted(catalog.tracks(), key=lambda t: hashlib.sha1(t.id.encode()).hexdigest())[:args.tracks]
    chat = LocalChatModel(model_path=str(model), adapter=str(args.adapter) if args.adapter else None,
                          temperature=settings.temperature)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        agent = Agent(catalog, checkpoint=Path(folder) / "sessions.sqlite", prose=False)
        list(chat.stream([HumanMessage("Say hello.")], max_tokens=4))  # load the model, warm up
        agent.intents.review_written(tracks[-1], chat=None)  # and the neighbours, the comments, the checker
        rows, base = [], []
        try:
            for track in tracks:  # interleaved, so both see the same load on the machine
                rows.append(planned(agent, chat, track))
                base.append(baseline(chat, track))
                print(json.dumps({"planned": rows[-1], "baseline": base[-1]}, ensure_ascii=False), flush=True)
        except KeyboardInterrupt:  # a slow machine: report what was measured
            print(f"interrupted after {len(base)} tracks", file=sys.stderr)
            rows = rows[:len(base)]
        agent.close()
    if not rows:
        sys.exit("bench: nothing measured")
    summary = summarise(rows, base)
    print(table(summary, len(rows), model.name + (f" + {args.adapter.name}" if args.adapter else "")))
    (OUT / "review_latency.json").write_text(json.dumps({"model": str(model), "adapter": str(args.adapter or ""),
                                                         "aim_s": AIM_S, "summary": summary, "planned": rows,
                                                         "baseline": base}, indent=2, ensure_ascii=False))
    print(f"\nwrote {OUT / 'review_latency.json'}, {plot(rows, base)}")


def summarise(rows: list[dict], base: list[dict]) -> dict:
    return {
        "planned": {k: median(rows, k) for k in ("first_any_s", "first_model_shown_s", "first_model_s", "review_s")},
        "baseline": {"first_any_s": median(base, "first_any_s")},
        "reviews_with_model_sentence": sum(r["first_model_shown_s"] is not None for r in rows),
    }


def table(summary: dict, n: int, name: str) -> str:
    p, b, m = summary["planned"], summary["baseline"], summary["reviews_with_model_sentence"]

    def cell(x: float | None) -> str:
        return "\u2014" if x is None else f"{x:.2f}"

    lines = [f"\n{n} demo tracks, in-process {name}, medians in seconds (aim: first model sentence <= {AIM_S:g} s)\n",
             "| variant | first sentence shown (any source) | first model sentence shown | first model sentence "
             "(Written.first_model_s) | whole review |", "|---|---:|---:|---:|---:|",
             f"| planned review | {cell(p['first_any_s'])} | {cell(p['first_model_shown_s'])} (n={m} of {n}) | "
             f"{cell(p['first_model_s'])} | {cell(p['review_s'])} |",
             f"| baseline: one prompt \u201cWrite a review of X\u201d | {cell(b['first_any_s'])} | "
             f"{cell(b['first_any_s'])} | \u2014 | \u2014 |\n"]
    if p["first_model_shown_s"] is not None and b["first_any_s"]:
        verdict = "meets" if p["first_model_shown_s"] <= AIM_S else "misses"
        lines.append(f"first model sentence shown: {p['first_model_shown_s']:.2f} s, {verdict} the {AIM_S:g} s aim; "
                     f"{p['first_model_shown_s'] / b['first_any_s']:.2f}x the baseline's first sentence")
    if b["first_any_s"]:
        lines.append(f"first sentence of any source: {p['first_any_s'] / b['first_any_s']:.2f}x the baseline's")
    lines.append(f"reviews with a model-written sentence at all: {m}/{n}")
    return "\n".join(lines)


def plot(rows: list[dict], base: list[dict]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    series = [("first shown (any)", [r["first_any_s"] for r in rows]),
              ("first model shown", [r["first_model_shown_s"] for r in rows if r["first_model_shown_s"] is not None]),
              ("whole review", [r["review_s"] for r in rows]), ("baseline first", [r["first_any_s"] for r in base])]
    ax.boxplot([v or [0] for _, v in series], tick_labels=[n for n, _ in series])
    ax.axhline(AIM_S, color="grey", ls=":", label=f"aim {AIM_S:g} s")
    ax.set(ylabel="seconds", title="Planned review latency, in-process model")
    ax.legend()
    fig.tight_layout()
    path = OUT / "review_latency.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


if __name__ == "__main__":
    main()
