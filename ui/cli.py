"""The `encore` command line. Every command has --help; user mistakes end as one line on stderr and exit 1.

    encore setup
    encore ingest ../shared/datasets/freemusicc --format freemusicc --collection fm
    encore recommend "calm ambient music for studying" --collection fm --k 10 --json
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

for _name, _value in (("HF_HUB_OFFLINE", "1"), ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
                      ("TRANSFORMERS_VERBOSITY", "error"), ("TOKENIZERS_PARALLELISM", "false"),
                      ("ANONYMIZED_TELEMETRY", "False")):
    os.environ.setdefault(_name, _value)

import typer  # noqa: E402

from retrieval import FORMATS, Catalog, EncoreError, Filters, Hit  # noqa: E402
from retrieval.config import DEFAULT_COLLECTION  # noqa: E402

app = typer.Typer(help="Encore: conversational music recommendations from a real catalog.",
                  no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False,
                  add_completion=False)

DEMO_CATALOG = Path(__file__).resolve().parent.parent / "data" / "demo" / "catalog.jsonl"
CollectionOpt = Annotated[str, typer.Option("--collection", "-c", envvar="ENCORE_COLLECTION",
                                            help="Catalog collection to use.")]


def fail(message: str) -> None:
    typer.echo(f"encore: error: {message}", err=True)
    raise typer.Exit(1)


@app.command()
def setup(
    collection: CollectionOpt = DEFAULT_COLLECTION,
    model: Annotated[bool, typer.Option(help="Also pull the default language model (SmolLM2).")] = True,
) -> None:
    """Pull the default model and ingest the bundled demo catalog (idempotent: a second run changes nothing)."""
    if model:
        from agent.models import pull

        pulled = pull()
        typer.echo(f"model {pulled.name}: {'pulled' if pulled.fresh else 'already pulled'} -> {pulled.path}")
    demo = Path(os.environ.get("ENCORE_DEMO_CATALOG", DEMO_CATALOG))
    catalog = Catalog(collection)
    report = catalog.ingest([demo])
    typer.echo(f"demo catalog: {report.added} added, {report.updated} updated, {report.unchanged} unchanged; "
               f"collection '{collection}' holds {report.total} tracks in {catalog.store.where}")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files (JSONL/CSV) or a freemusi.cc folder.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"One of: {', '.join(FORMATS)}.")] = "auto",
    collection: CollectionOpt = DEFAULT_COLLECTION,
    reset: Annotated[bool, typer.Option(help="Drop the collection first and rebuild it.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not list bad rows, only count them.")] = False,
) -> None:
    """Import tracks into a collection (upsert by id). Bad rows are named as FILE:LINE: reason and skipped."""
    if fmt not in FORMATS:
        fail(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    catalog = Catalog(collection)
    report = catalog.ingest(paths, fmt, reset=reset,
                            on_bad=None if quiet else lambda bad: typer.echo(f"skipped {bad}", err=True))
    typer.echo(f"ingested {report.ingested} tracks ({report.added} added, {report.updated} updated, "
               f"{report.unchanged} unchanged); skipped {len(report.bad)} bad rows; "
               f"collection '{collection}' holds {report.total} tracks")
    if report.ingested == 0:
        fail("nothing was ingested")


@app.command()
def recommend(
    text: Annotated[str | None, typer.Argument(help="What you want to hear, in your own words.")] = None,
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=100, help="How many tracks.")] = 10,
    collection: CollectionOpt = DEFAULT_COLLECTION,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: {query, tracks}.")] = False,
    queries: Annotated[Path | None, typer.Option(help="A file with one request a line; prints JSON lines.")] = None,
    genre: Annotated[list[str] | None, typer.Option(help="Only these genres or style tags (repeatable).")] = None,
    year_from: Annotated[int | None, typer.Option(help="Only tracks from this year on.")] = None,
    year_to: Annotated[int | None, typer.Option(help="Only tracks up to this year.")] = None,
    energy_min: Annotated[float | None, typer.Option(min=0, max=1, help="Lowest energy, 0..1.")] = None,
    energy_max: Annotated[float | None, typer.Option(min=0, max=1, help="Highest energy, 0..1.")] = None,
    exclude_artist: Annotated[list[str] | None, typer.Option(help="Never these artists (repeatable).")] = None,
    exclude_id: Annotated[list[str] | None, typer.Option(help="Never these track ids (repeatable).")] = None,
    max_per_artist: Annotated[int, typer.Option(min=0, help="Cap per artist; 0 = no cap.")] = 2,
    explain: Annotated[bool, typer.Option(help="Have the language model write each `why` from the track's facts "
                                                 "(ENCORE_LLM_URL server, else the in-process model).")] = False,
) -> None:
    """Recommend tracks from the catalog, each with a one-sentence reason taken from its facts."""
    if (text is None) == (queries is None):
        fail("give either a request TEXT or --queries FILE")
    if text is not None and not text.strip():
        fail("the request is empty; say what you would like to hear")
    if queries is not None and not queries.is_file():
        fail(f"{queries}: no such file")
    if year_from and year_to and year_from > year_to:
        fail(f"--year-from {year_from} is after --year-to {year_to}")
    if energy_min is not None and energy_max is not None and energy_min > energy_max:
        fail(f"--energy-min {energy_min} is above --energy-max {energy_max}")
    filters = Filters(tuple(g.casefold() for g in genre or ()), year_from, year_to, energy_min, energy_max,
                      frozenset(exclude_id or ()), frozenset(a.casefold() for a in exclude_artist or ()))
    chat = None
    if explain:
        from agent.engines import get_chat_model

        chat = get_chat_model()

    catalog = Catalog(collection)
    if catalog.count() == 0:
        fail(f"collection '{collection}' is empty; run `encore setup` or `encore ingest`")

    def run(request: str) -> list[Hit]:
        hits = catalog.search(request, k=k, filters=filters, max_per_artist=max_per_artist or None)
        if chat is not None:
            from agent.explain import explained

            hits = explained(chat, request, hits)
        return hits

    if queries is not None:
        for line in queries.read_text(encoding="utf-8", errors="replace").splitlines():
            request = line.strip()
            result: dict = {"query": request, "tracks": []}
            if request:
                result["tracks"] = [hit.to_dict() for hit in run(request)]
            else:
                result["error"] = "empty request"
            typer.echo(json.dumps(result, ensure_ascii=False))
        return
    hits = run(text)
    if as_json:
        typer.echo(json.dumps({"query": text, "tracks": [hit.to_dict() for hit in hits]}, ensure_ascii=False))
        return
    if not hits:
        typer.echo("No tracks match those filters.")
    for rank, hit in enumerate(hits, 1):
        year = f" ({hit.track.year})" if hit.track.year else ""
        typer.echo(f"{rank:2}. {hit.track.title} \u2014 {hit.track.artist or 'unknown artist'}{year}")
        typer.echo(f"    {hit.why}")


models_app = typer.Typer(help="Language models: pull the default or any Hugging Face model.", no_args_is_help=True,
                         rich_markup_mode=None)
app.add_typer(models_app, name="models")


@models_app.command("pull")
def models_pull(
    source: Annotated[str | None, typer.Argument(help="Hub id, HF folder or .gguf file; default SmolLM2.")] = None,
    force: Annotated[bool, typer.Option(help="Pull again even if it is already there.")] = False,
) -> None:
    """Put a model under $ENCORE_HOME/models as a normal Hugging Face folder, and check that it generates."""
    from agent.models import pull

    pulled = pull(source, force=force)
    state = "pulled" if pulled.fresh else "already pulled"
    typer.echo(f"{pulled.name}: {state} ({pulled.source}) -> {pulled.path}")


@app.command()
def serve(
    adapter: Annotated[Path | None, typer.Option(help="LoRA adapter folder, served as model 'encore'.")] = None,
    model: Annotated[str | None, typer.Option(help="Model folder; default the pulled SmolLM2.")] = None,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    tensor_parallel_size: Annotated[int, typer.Option(help="GPUs per model replica (vLLM).")] = 1,
    pipeline_parallel_size: Annotated[int, typer.Option(help="Pipeline stages, e.g. one per node (vLLM).")] = 1,
    distributed_executor_backend: Annotated[str | None, typer.Option(help="'ray' for multi-node, or 'mp'.")] = None,
    max_model_len: Annotated[int, typer.Option(help="Longest prompt + answer in tokens.")] = 2048,
) -> None:
    """Run a vLLM OpenAI-compatible server in the foreground, passing its log through."""
    import subprocess

    from agent.serve import ServeConfig, command, resolve_model, vllm_python, wait_healthy

    config = ServeConfig(resolve_model(model), adapter.resolve() if adapter else None, host, port,
                         tensor_parallel_size, pipeline_parallel_size, distributed_executor_backend, max_model_len)
    python, cpu = vllm_python()
    args, env = command(config, python, cpu)
    typer.echo(f"encore: starting vLLM ({'CPU' if cpu else 'GPU'}): {' '.join(args[1:])}", err=True)
    process = subprocess.Popen(args, env=env)
    url = f"http://{host}:{port}"
    try:
        wait_healthy(url, process)
        typer.echo(f"encore: ready. export ENCORE_LLM_URL={url}/v1", err=True)
        raise typer.Exit(process.wait())
    except KeyboardInterrupt:
        process.terminate()
        raise typer.Exit(process.wait(timeout=30)) from None
    finally:
        if process.poll() is None:
            process.terminate()


from . import evaluate, talk, tune  # noqa: E402,F401  (they add their commands to `app`)


def main() -> None:
    try:
        app()
    except EncoreError as error:
        typer.echo(f"encore: error: {error}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("encore: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
