"""`encore finetune`: build the corpus and train a LoRA adapter that `encore serve --adapter` and
`ENCORE_ADAPTER` load.

    encore finetune --lyrics data/demo/lyrics.jsonl --comments data/demo/comments.jsonl --out adapters/demo
    encore finetune --lyrics ../shared/datasets/lyrics --comments ../shared/datasets/musiccaps --out adapters/x
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from retrieval.settings import DEMO_DIR

from .common import fail, settings_of


def finetune(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="Adapter folder (also holds checkpoints, loss.csv, report.md).")],
    lyrics: Annotated[list[Path] | None, typer.Option(help="Lyrics: JSONL/TXT files or folders (repeatable).")] = None,
    comments: Annotated[list[Path] | None, typer.Option(help="Comments, reviews or captions: CSV/JSONL files or "
                                                              "folders (repeatable).")] = None,
    base: Annotated[str | None, typer.Option(help="Base model folder or hub id; default the pulled SmolLM2.")] = None,
    max_steps: Annotated[int, typer.Option(help="Optimizer steps; -1 = run --epochs. The default fits ~30 minutes "
                                                 "of a 2-core CPU.")] = 24,
    epochs: Annotated[float, typer.Option(help="Passes over the training split when --max-steps is -1.")] = 1.0,
    learning_rate: Annotated[float, typer.Option(help="Peak learning rate (cosine schedule).")] = 1e-3,
    rank: Annotated[int, typer.Option(help="LoRA rank (vLLM serves 8, 16, 32, 64, ...).")] = 16,
    batch_size: Annotated[int, typer.Option(help="Examples per forward pass.")] = 4,
    grad_accum: Annotated[int, typer.Option(help="Forward passes per optimizer step.")] = 2,
    max_len: Annotated[int, typer.Option(help="Longest example in tokens (longer ones are cut).")] = 256,
    save_steps: Annotated[int, typer.Option(help="Checkpoint every N steps (a killed run resumes there).")] = 10,
    catalog: Annotated[Path, typer.Option(help="Catalog JSONL that comments join by track_id: their sentences "
                                               "train that track's review points.")] = DEMO_DIR / "catalog.jsonl",
    merge: Annotated[bool, typer.Option(help="Also save a merged model (base + adapter) under OUT/merged.")] = False,
) -> None:
    """Fine-tune a LoRA adapter on lyrics and listener comments; re-running the same command resumes it."""
    from agent.models import ModelError
    from agent.serve import VLLM_RANKS, resolve_model
    from finetune.corpus import build, write
    from finetune.train import TrainConfig, train

    if rank not in VLLM_RANKS:
        fail(f"--rank {rank}: vLLM serves LoRA ranks {', '.join(map(str, VLLM_RANKS))}")
    try:
        local = base is None or Path(base).expanduser().exists()
        base_model = str(resolve_model(base, settings_of(ctx))) if local else base
    except ModelError as error:
        fail(str(error))
    corpus = build(lyrics or [], comments or [], catalog)
    write(corpus, out / "corpus")
    stats = corpus.stats
    typer.echo(f"corpus: {stats['examples']} examples ({stats['train']} train, {stats['validation']} validation), "
               f"{stats['duplicates_removed']} duplicates and {stats['near_duplicates_removed']} near duplicates "
               f"removed, {stats['skipped']} rows skipped" + (f" (see {out / 'corpus' / 'skipped.txt'})"
                                                               if stats["skipped"] else ""), err=True)
    config = TrainConfig(base=base_model, out=out, max_steps=max_steps, epochs=epochs, learning_rate=learning_rate,
                         rank=rank, alpha=2 * rank, batch_size=batch_size, grad_accum=grad_accum, max_len=max_len,
                         save_steps=save_steps, merge=merge)
    manifest = train(corpus, config)
    m = manifest["metrics"]
    typer.echo(json.dumps({"adapter": str(out), "steps": manifest["steps"], **m}))
    captions = (f"; held-out captions {m['perplexity_captions_base']:.2f} -> {m['perplexity_captions_adapter']:.2f} "
                f"({-100 * m['perplexity_captions_drop']:+.1f}%)" if m.get("perplexity_captions_base") else "")
    typer.echo(f"validation perplexity {m['perplexity_base']:.2f} -> {m['perplexity_adapter']:.2f} "
               f"({-100 * m['perplexity_drop']:+.1f}%){captions}; report: {out / 'report.md'}", err=True)
