"""`encore serve` builds the right vLLM command line (fast checks; the real server is in test_vllm.py)."""

import json

import pytest

from agent.models import ModelError
from agent.serve import ServeConfig, adapter_rank, command
from retrieval.settings import Settings


def _adapter(tmp_path, rank):
    folder = tmp_path / f"r{rank}"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"r": rank}))
    return folder


def test_lora_rank_rounds_up_to_one_vllm_accepts(tmp_path):
    assert adapter_rank(_adapter(tmp_path, 4)) == 8
    assert adapter_rank(_adapter(tmp_path, 16)) == 16
    assert adapter_rank(_adapter(tmp_path, 40)) == 64
    with pytest.raises(ModelError, match="above what vLLM serves"):
        adapter_rank(_adapter(tmp_path, 1024))
    with pytest.raises(ModelError, match="not a LoRA adapter"):
        adapter_rank(tmp_path)


def test_cpu_command_has_the_memory_flags_and_the_lora_module(tmp_path):
    model = tmp_path / "SmolLM2-135M-Instruct"
    adapter = _adapter(tmp_path, 8)
    args, env = command(ServeConfig(model, adapter, port=9000), "/venv/bin/python", True, Settings.load())
    assert args[:3] == ["/venv/bin/python", "-m", "vllm.entrypoints.openai.api_server"]
    line = " ".join(args)
    assert f"--lora-modules encore={adapter}" in line and "--enable-lora" in line and "--max-lora-rank 8" in line
    assert "--gpu-memory-utilization 0.5" in line and "--port 9000" in line
    assert env["VLLM_CPU_KVCACHE_SPACE"] == "1"


def test_gpu_command_passes_parallelism_through(tmp_path):
    config = ServeConfig(tmp_path / "m", tensor_parallel_size=8, pipeline_parallel_size=2,
                         distributed_executor_backend="ray")
    args, _ = command(config, "python", False, Settings.load())
    line = " ".join(args)
    assert "--tensor-parallel-size 8" in line and "--pipeline-parallel-size 2" in line
    assert "--distributed-executor-backend ray" in line
    assert "--enable-lora" not in line and "--gpu-memory-utilization" not in line


def test_a_merged_adapter_is_served_as_encore_alone(tmp_path):
    """On a CPU the adapter goes merged into the weights: vLLM gets that folder as the model, named `encore`, and
    no LoRA flags (the base model is not offered under its own name, since these weights are not it)."""
    from dataclasses import replace

    adapter = _adapter(tmp_path, 16)
    config = replace(ServeConfig(tmp_path / "SmolLM2-135M-Instruct", adapter), model=tmp_path / "merged", merged=True)
    line = " ".join(command(config, "python", True, Settings.load())[0])
    assert f"--model {tmp_path / 'merged'}" in line and "--served-model-name encore " in line
    assert "--enable-lora" not in line and "--lora-modules" not in line
