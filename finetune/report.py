"""The fine-tuning report: perplexity before/after, the loss curve (PNG) and sample generations, in markdown."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any


def plot_loss(out: Path) -> Path | None:
    path = out / "loss.csv"
    if not path.is_file():
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(csv.DictReader(path.open()))
    steps = [int(r["step"]) for r in rows]
    losses = [float(r["loss"]) for r in rows]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(steps, losses, linewidth=1)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("training loss (answer tokens)")
    ax.set_title("Encore LoRA fine-tuning")
    fig.tight_layout()
    png = out / "loss.png"
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return png


def write_report(out: Path, manifest: dict[str, Any], before: list[dict], after: list[dict]) -> Path:
    m = manifest["metrics"]
    data = manifest["data"]
    lines = ["# Fine-tuning report", "",
             f"Base model: `{manifest['base_model']}`; steps: {manifest['steps']}; device: {m['device']}.", "",
             "| | validation perplexity (answer tokens) |", "|---|---:|",
             f"| base model | {m['perplexity_base']:.2f} |", f"| with the adapter | {m['perplexity_adapter']:.2f} |",
             f"| change | {-100 * m['perplexity_drop']:+.1f}% |", ""]
    if m.get("perplexity_captions_base") is not None:
        lines += [f"Held-out MusicCaps clips ({m['perplexity_captions_pairs']} caption pairs, never trained on): "
                  f"perplexity {m['perplexity_captions_base']:.2f} -> {m['perplexity_captions_adapter']:.2f} "
                  f"({-100 * m['perplexity_captions_drop']:+.1f}%).", ""]
    lines += [f"Training loss {m['train_loss']}; {m['train_seconds_this_run']} s in the last run"
              + (f", {m['train_tokens_per_second']} tokens/s" if m.get("train_tokens_per_second") else "") + ".", "",
              "## Corpus", "",
              f"{data['examples']} examples ({data['train']} train, {data['validation']} validation); "
              f"by task {data['by_task']}; by language {data['by_language']}; "
              f"{data['duplicates_removed']} exact and {data['near_duplicates_removed']} near duplicates removed; "
              f"{data['skipped']} rows skipped" + (" (see corpus/skipped.txt)." if data["skipped"] else "."), ""]
    png = plot_loss(out)
    if png:
        lines += ["## Loss", "", f"![training loss]({png.name})", ""]
    lines += ["## Samples (greedy, the same prompts before and after)", ""]
    for b in before:
        a = next((x for x in after if x["task"] == b["task"]), None)
        lines += [f"### {b['task']}", "", "**Prompt:** " + b["prompt"].replace("\n", " / "), "",
                  "**Base:** " + b["answer"].replace("\n", " / "), "",
                  "**Adapter:** " + (a["answer"].replace("\n", " / ") if a else "-"), ""]
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
