"""`encore eval`: quality evaluations.

    encore ingest ../shared/datasets/cpcd/tracks.jsonl --format cpcd --collection cpcd
    encore eval cpcd --dialogs ../shared/datasets/cpcd/dialogs.dev.jsonl --collection cpcd --out preds.jsonl
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import settings_of


def cpcd(
    ctx: typer.Context,
    dialogs: Annotated[Path, typer.Option(help="CPCD dialogs JSONL (turns, tracks, goal_playlist).")],
    out: Annotated[Path, typer.Option(help="Where to write the predictions (one JSON line per dialog turn).")],
    collection: Annotated[str, typer.Option("--collection", "-c", help="The collection holding CPCD's tracks.")]
    = "cpcd",
    tracks: Annotated[Path | None, typer.Option(help="CPCD tracks.jsonl for cluster ids; default: beside the "
                                                     "dialogs file when there.")] = None,
    baselines: Annotated[bool, typer.Option(help="Also score BM25 and dense baselines in the same run.")] = True,
) -> None:
    """Rank the catalog turn by turn from each dialog's user text and earlier feedback; print Hit@10/100, MRR@10."""
    from agent.cpcd import load_clusters, load_dialogs, run
    from retrieval import Catalog

    loaded = load_dialogs(dialogs)
    clusters = load_clusters(tracks or dialogs.with_name("tracks.jsonl"))
    metrics = run(Catalog(collection, settings=settings_of(ctx)), loaded, out, clusters, baselines)
    turns = sum(len(d.turns) for d in loaded)
    typer.echo(f"wrote {turns} predictions for {len(loaded)} dialogs to {out}")
    if not metrics:
        typer.echo("no goal playlists in these dialogs: predictions only, no metrics")
        return
    typer.echo("\n| system | Hit@10 | Hit@100 | MRR@10 |\n|---|---:|---:|---:|")
    for name, m in metrics.items():
        typer.echo(f"| {name} | {m['hit@10']:.4f} | {m['hit@100']:.4f} | {m['mrr@10']:.4f} |")
    best = max(m["hit@10"] for name, m in metrics.items() if name != "encore") if len(metrics) > 1 else None
    if best:
        typer.echo(f"\nEncore Hit@10 / best baseline Hit@10 = {metrics['encore']['hit@10'] / best:.2f}x "
                   f"({metrics['encore'].get('dialogs', 0)} dialogs with a goal playlist)")
