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
                                               "train that track's review points.",
                                          show_default="the bundled demo catalog")] = DEMO_DIR / "catalog.jsonl",
    merge: Annotated[bool, typer.Option(help="Also save a merged model (base + adapter) under OUT/merged.")] = False,
    sample: Annotated[int, typer.Option(help="Served points of the catalog's training-split tracks to sample the "
                                             "base model on; its samples that the claim checker keeps become "
                                             "training pairs (about 1 s a sample on a 2-core CPU; 0: none).")] = 0,
    samples_per_point: Annotated[int, typer.Option(help="Samples drawn per point with --sample.")] = 2,
) -> None:
    """Fine-tune a LoRA adapter on lyrics and listener comments; re-running the same command resumes it."""
    from agent.models import ModelError
    from agent.serve import VLLM_RANKS, resolve_model
    from finetune.corpus import build, write
    from finetune.train import TrainConfig, train

    if rank not in VLLM_RANKS:
        fail(f"--rank {rank}: vLLM serves LoRA ranks {', '.join(map(str, VLLM_RANKS))}")
    if sample < 0 or samples_per_point < 1:
        fail(f"--sample {sample} --samples-per-point {samples_per_point}: give 0 or more points and 1 or more "
             "samples a point")
    try:
        local = base is None or Path(base).expanduser().exists()
        base_model = str(resolve_model(base, settings_of(ctx))) if local else base
    except ModelError as error:
        fail(str(error))
    more = (_sampler(base_model, out / "sampled.jsonl", sample, samples_per_point, settings_of(ctx).temperature)
            if sample else None)
    corpus = build(lyrics or [], comments or [], catalog, more)
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


def _sampler(base: str, cache: Path, limit: int, per_point: int, temperature: float):
    """`build`'s `more`: the base model's kept samples for `limit` points of the catalog's training split."""

    def more(pairs, tracks):
        from finetune.sampled import hf_generator, print_progress, sample_pairs, training_points
        from finetune.train import load_base

        comments: dict[str, list[str]] = {}
        for pair in pairs:
            if pair.task == "friend" and pair.track_id:
                comments.setdefault(pair.track_id, []).append(pair.answer)
        points = training_points(tracks, comments, limit)
        if not points:
            return []
        model, tokenizer = load_base(base)
        examples, tally = sample_pairs(hf_generator(model, tokenizer, temperature), points, cache, per_point,
                                       progress=print_progress)
        kinds = ", ".join(f"{k} {v['kept']}/{v['samples']}" for k, v in sorted(tally["by_kind"].items()))
        typer.echo(f"sampled: {tally['kept']} of {tally['samples']} samples kept for {tally['points']} points "
                   f"({kinds})", err=True)
        return examples

    return more
