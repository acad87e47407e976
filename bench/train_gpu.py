"""GPU training throughput for a 1B-class Llama (random weights: throughput does not depend on them), through
Encore's own fine-tuning path (`finetune.train`: peft LoRA, Trainer, bf16, gradient checkpointing).

    python bench/train_gpu.py --tokenizer PATH --out OUT       # on a machine with a CUDA GPU

Baseline in the same run: SmolLM2-135M's shape (also random) through the same code on the same GPU. Prints a
table with tokens/s and peak GPU memory and writes OUT/train_gpu.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.settings import DEMO_DIR  # noqa: E402

SHAPES = {  # hidden, layers, heads, kv heads, intermediate
    "Llama 1B shape (Llama-3.2-1B body)": (2048, 16, 32, 8, 8192),
    "SmolLM2-135M shape": (576, 30, 9, 3, 1536),
}


def random_model(shape: tuple[int, ...], tokenizer: Path, folder: Path) -> tuple[Path, int]:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    hidden, layers, heads, kv, inter = shape
    tok = AutoTokenizer.from_pretrained(str(tokenizer))
    config = LlamaConfig(vocab_size=len(tok), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                         num_key_value_heads=kv, intermediate_size=inter, max_position_embeddings=2048,
                         tie_word_embeddings=True, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = LlamaForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(str(folder))
    tok.save_pretrained(str(folder))
    params = sum(p.numel() for p in model.parameters())
    del model
    torch.cuda.empty_cache()
    return folder, params


def main() -> None:
    import torch

    from finetune.corpus import build
    from finetune.train import TrainConfig, train

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokenizer", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--accum", type=int, default=2)
    parser.add_argument("--max-len", type=int, default=512)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("bench: no CUDA GPU here")
    demo = DEMO_DIR
    corpus = build([demo / "lyrics.jsonl"], [demo / "comments.jsonl"], demo / "catalog.jsonl")
    rows = []
    for label, shape in SHAPES.items():
        folder = Path("/tmp") / label.split()[0].lower()
        shutil.rmtree(folder, ignore_errors=True)
        model_path, params = random_model(shape, args.tokenizer, folder)
        torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        manifest = train(corpus, TrainConfig(base=str(model_path), out=args.out / folder.name, max_steps=args.steps,
                                             batch_size=args.batch, grad_accum=args.accum, max_len=args.max_len,
                                             save_steps=10_000, validation_limit=32, epochs=100))
        m = manifest["metrics"]
        rows.append({"model": label, "parameters": params, "steps": manifest["steps"],
                     "tokens_per_s": m["train_tokens_per_second"], "peak_gib": m["peak_gpu_memory_gib"],
                     "device": m["device"], "wall_s": round(time.perf_counter() - start, 1)})
        print(json.dumps(rows[-1]), flush=True)
    print(f"\nLoRA r=16 on q/k/v/o/gate/up/down, bf16, gradient checkpointing; batch {args.batch} x accumulation "
          f"{args.accum}, max {args.max_len} tokens; {args.steps} optimizer steps\n")
    print("| model | parameters | training tokens/s | peak GPU memory GiB | GPU |\n|---|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r['model']} | {r['parameters'] / 1e9:.2f} B | {r['tokens_per_s']} | {r['peak_gib']} | "
              f"{r['device']} |")
    (args.out / "train_gpu.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
