"""LoRA fine-tuning with peft and transformers' `Trainer`: loss on the answer tokens only, gradient accumulation,
checkpoints that resume after a kill, a progress bar, the loss logged to CSV and plotted. CPU by default; on a GPU
bf16 and gradient checkpointing. Several GPUs: `accelerate launch -m finetune ...` (see the README).

    from finetune.corpus import build
    from finetune.train import TrainConfig, train
    corpus = build(lyrics=[Path("data/demo/lyrics.jsonl")], comments=[Path("data/demo/comments.jsonl")])
    train(corpus, TrainConfig(base="~/.encore/models/SmolLM2-135M-Instruct", out=Path("adapter")))
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from .corpus import Corpus, Example
from .errors import TrainError

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass
class TrainConfig:
    base: str
    out: Path
    max_steps: int = -1  # -1: run `epochs` over the training split
    epochs: float = 1.0
    learning_rate: float = 3e-4
    rank: int = 16  # within the ranks vLLM serves (8, 16, 32, 64, ...)
    alpha: int = 32
    dropout: float = 0.05
    batch_size: int = 4
    grad_accum: int = 4
    max_len: int = 256
    save_steps: int = 25
    validation_limit: int = 100  # validation examples used for perplexity (a fixed, deterministic subset)
    caption_limit: int = 200  # held-out MusicCaps pairs used for the caption perplexity (the first ones)
    seed: int = 0
    merge: bool = False
    targets: list[str] = field(default_factory=lambda: list(TARGETS))


def encode(tokenizer: Any, example: Example, max_len: int) -> dict[str, list[int]] | None:
    """Chat-template the pair's messages (the agent's [system, user] when it has a system prompt) and the answer;
    labels are -100 on the prompt, so only the answer is learned."""
    messages = example.messages()
    prompt = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=True,
                                           return_dict=True)["input_ids"]
    full = tokenizer.apply_chat_template([*messages, {"role": "assistant", "content": example.answer}],
                                         tokenize=True, return_dict=True)["input_ids"]
    if full[:len(prompt)] != prompt or len(prompt) >= max_len - 8:
        return None
    full = full[:max_len]
    labels = [-100] * len(prompt) + full[len(prompt):]
    return {"input_ids": full, "labels": labels}


def encoded(tokenizer: Any, examples: list[Example], max_len: int) -> list[dict[str, list[int]]]:
    return [row for row in (encode(tokenizer, e, max_len) for e in examples) if row]


class Collator:
    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, rows: list[dict[str, list[int]]]) -> dict[str, Any]:
        import torch

        width = max(len(r["input_ids"]) for r in rows)
        ids = [r["input_ids"] + [self.pad_id] * (width - len(r["input_ids"])) for r in rows]
        labels = [r["labels"] + [-100] * (width - len(r["labels"])) for r in rows]
        mask = [[1] * len(r["input_ids"]) + [0] * (width - len(r["input_ids"])) for r in rows]
        return {"input_ids": torch.tensor(ids), "labels": torch.tensor(labels), "attention_mask": torch.tensor(mask)}


def validation_set(corpus: Corpus) -> list[Example]:
    """The validation pairs in the order the general perplexity takes them: the other sources first, so that
    `validation_limit` does not fill up with held-out captions (they have their own perplexity)."""
    return ([e for e in corpus.validation if e.source != "captions"]
            + [e for e in corpus.validation if e.source == "captions"])


def perplexity(model: Any, tokenizer: Any, rows: list[dict[str, list[int]]], batch: int = 8) -> float:
    """exp(mean negative log-likelihood of the answer tokens)."""
    import torch

    collate = Collator(tokenizer.pad_token_id)
    rows = sorted(rows, key=lambda r: len(r["input_ids"]))  # batches of similar length: little padding to compute
    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(rows), batch):
            data = {k: v.to(model.device) for k, v in collate(rows[start:start + batch]).items()}
            logits = model(input_ids=data["input_ids"], attention_mask=data["attention_mask"]).logits[:, :-1]
            labels = data["labels"][:, 1:]
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)).float(),
                                                     labels.reshape(-1), ignore_index=-100, reduction="sum")
            total += float(loss)
            count += int((labels != -100).sum())
    return math.exp(total / max(count, 1))


def load_base(base: str) -> tuple[Any, Any]:
    """The base model (bf16 on a GPU, fp32 on the CPU) and its tokenizer, with a pad token."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cuda = torch.cuda.is_available()
    try:
        tokenizer = AutoTokenizer.from_pretrained(base)
        model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.bfloat16 if cuda else torch.float32)
    except (OSError, ValueError) as error:
        raise TrainError(f"cannot load the base model {base}: {error}") from error
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return (model.to("cuda") if cuda else model), tokenizer


def train(corpus: Corpus, config: TrainConfig) -> dict[str, Any]:
    """Train (or resume) a LoRA adapter on `corpus` into `config.out`; returns the manifest."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import Trainer, TrainingArguments

    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    cuda = torch.cuda.is_available()
    model, tokenizer = load_base(config.base)
    train_rows = encoded(tokenizer, corpus.train, config.max_len)
    valid_rows = encoded(tokenizer, validation_set(corpus)[:config.validation_limit], config.max_len)
    if not train_rows or not valid_rows:
        raise TrainError("the corpus needs examples in both the train and validation splits")
    caption_rows = encoded(tokenizer, corpus.heldout_captions[:config.caption_limit], config.max_len)
    base_ppl = _cached(out / "metrics_base.json", lambda: perplexity(model, tokenizer, valid_rows))
    base_captions = _cached(out / "metrics_base_captions.json",
                            lambda: perplexity(model, tokenizer, caption_rows) if caption_rows else None)
    samples_before = _cached(out / "samples_base.json", lambda: samples(model, tokenizer, corpus))
    model = get_peft_model(model, LoraConfig(r=config.rank, lora_alpha=config.alpha, lora_dropout=config.dropout,
                                             target_modules=config.targets, task_type="CAUSAL_LM"))
    if cuda:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    args = TrainingArguments(**_supported(TrainingArguments, dict(
        output_dir=str(out / "checkpoints"), per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum, learning_rate=config.learning_rate,
        num_train_epochs=config.epochs, max_steps=config.max_steps, lr_scheduler_type="cosine", warmup_steps=5,
        logging_steps=1, save_steps=config.save_steps, save_total_limit=2, report_to=[], seed=config.seed,
        bf16=cuda, use_cpu=not cuda, dataloader_num_workers=0, remove_unused_columns=False,
        gradient_checkpointing=cuda, disable_tqdm=False,
        # batches of similar length: less padding to compute (the option's name changed across versions)
        train_sampling_strategy="group_by_length", group_by_length=True)))
    trainer = Trainer(model=model, args=args, train_dataset=train_rows, data_collator=Collator(tokenizer.pad_token_id),
                      callbacks=[LossLog(out / "loss.csv")])
    resume = latest_checkpoint(out / "checkpoints")
    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    seconds = time.perf_counter() - start
    if not trainer.is_world_process_zero():  # under `accelerate launch`, one process evaluates and exports
        return {}
    done = trainer.state.global_step - (int(resume.name.split("-")[-1]) if resume else 0)
    tokens = done * config.batch_size * config.grad_accum * _mean_len(train_rows)
    adapter_ppl = perplexity(model, tokenizer, valid_rows)
    adapter_captions = perplexity(model, tokenizer, caption_rows) if caption_rows else None
    samples_after = samples(model, tokenizer, corpus)
    model.save_pretrained(str(out))  # adapter_config.json + adapter_model.safetensors: what vLLM loads
    _check_export(out)
    manifest = {"base_model": str(config.base), "data": corpus.stats, "steps": trainer.state.global_step,
                "resumed_from": resume.name if resume else None, "config": _plain(asdict(config)),
                "metrics": {"perplexity_base": round(base_ppl, 3), "perplexity_adapter": round(adapter_ppl, 3),
                            "perplexity_drop": round(1 - adapter_ppl / base_ppl, 4),
                            **_caption_metrics(base_captions, adapter_captions, len(caption_rows)),
                            "train_loss": round(float(result.training_loss), 4),
                            "train_seconds_this_run": round(seconds, 1),
                            "train_tokens_per_second": round(tokens / seconds, 1) if done else None,
                            "device": torch.cuda.get_device_name() if cuda else "cpu",
                            "peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda
                            else None}}
    if config.merge:
        merged = model.merge_and_unload()
        merged.save_pretrained(str(out / "merged"))
        tokenizer.save_pretrained(str(out / "merged"))
        manifest["merged"] = "merged"
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    from .report import write_report

    write_report(out, manifest, samples_before, samples_after)
    return manifest


class LossLog(TrainerCallback):
    """Appends (step, loss, learning rate) to a CSV as training logs them; a resumed run keeps appending."""

    def __init__(self, path: Path):
        self.path = path

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or "loss" not in logs:
            return
        new = not self.path.exists()
        with self.path.open("a", newline="") as handle:
            writer = csv.writer(handle)
            if new:
                writer.writerow(["step", "loss", "learning_rate", "epoch"])
            writer.writerow([state.global_step, logs["loss"], logs.get("learning_rate", ""),
                             round(state.epoch or 0, 4)])


def latest_checkpoint(folder: Path) -> Path | None:
    """The newest complete checkpoint; one cut short by a kill (no trainer_state.json) is removed."""
    if not folder.is_dir():
        return None
    found = sorted(folder.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]), reverse=True)
    for checkpoint in found:
        if (checkpoint / "trainer_state.json").is_file() and any(checkpoint.glob("adapter_model.*")):
            return checkpoint
        shutil.rmtree(checkpoint, ignore_errors=True)
    return None


SAMPLE_TASKS = ("sound", "described", "feeling", "verdict", "lyrics", "friend")


def samples(model: Any, tokenizer: Any, corpus: Corpus, max_new_tokens: int = 80) -> list[dict[str, str]]:
    """Greedy answers (with the repetition penalty the in-process engine uses) to fixed prompts: the first
    validation example of each task, sent as the agent sends it, for the report. A served point gets the
    agent's budget (one sentence, `plans.MAX_TOKENS`)."""
    import torch

    from retrieval.plans import MAX_TOKENS

    out = []
    for task in SAMPLE_TASKS:
        example = next((e for e in corpus.validation if e.task == task), None)
        if example is None:
            continue
        ids = tokenizer.apply_chat_template(example.messages(), add_generation_prompt=True, return_tensors="pt",
                                            return_dict=True)
        ids = {k: v.to(model.device) for k, v in ids.items()}
        with torch.no_grad():
            generated = model.generate(**ids, max_new_tokens=MAX_TOKENS if example.system else max_new_tokens,
                                       do_sample=False, repetition_penalty=1.15, pad_token_id=tokenizer.pad_token_id)
        text = tokenizer.decode(generated[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
        out.append({"task": task, "prompt": example.prompt, "answer": text.strip()})
    return out


def _caption_metrics(base: float | None, adapter: float | None, pairs: int) -> dict[str, Any]:
    """Perplexity on the held-out MusicCaps clips' pairs (None when the corpus has none)."""
    if base is None or adapter is None:
        return {"perplexity_captions_base": None, "perplexity_captions_adapter": None,
                "perplexity_captions_drop": None, "perplexity_captions_pairs": 0}
    return {"perplexity_captions_base": round(base, 3), "perplexity_captions_adapter": round(adapter, 3),
            "perplexity_captions_drop": round(1 - adapter / base, 4), "perplexity_captions_pairs": pairs}


def _cached(path: Path, compute):
    """Values computed before training are kept, so a resumed run does not measure the base model again."""
    if path.is_file():
        return json.loads(path.read_text())["value"]
    value = compute()
    path.write_text(json.dumps({"value": value}))
    return value


def _mean_len(rows: list[dict[str, list[int]]]) -> float:
    return sum(len(r["input_ids"]) for r in rows) / len(rows)


def _check_export(out: Path) -> None:
    config = json.loads((out / "adapter_config.json").read_text())
    if config.get("modules_to_save"):
        raise TrainError("the adapter saved extra modules; vLLM serves only LoRA weights")
    if not (out / "adapter_model.safetensors").is_file():
        raise TrainError("the adapter was not saved as safetensors")


def _supported(cls: type, options: dict[str, Any]) -> dict[str, Any]:
    """The options this transformers version takes (several were renamed between 4.x and 5.x)."""
    import inspect

    names = inspect.signature(cls.__init__).parameters
    if "activation_checkpointing" in names and "gradient_checkpointing" in options:
        options = {**options, "activation_checkpointing": options["gradient_checkpointing"]}
        options.pop("gradient_checkpointing")
    kept = {k: v for k, v in options.items() if k in names}
    if "train_sampling_strategy" in kept:
        kept.pop("group_by_length", None)
    return kept


def _plain(data: dict) -> dict:
    return {k: str(v) if isinstance(v, Path) else v for k, v in data.items()}
