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
def setup(collection: CollectionOpt = DEFAULT_COLLECTION) -> None:
    """Ingest the bundled demo catalog (idempotent: a second run changes nothing)."""
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
) -> None:
    """Recommend tracks from the catalog, each with a one-sentence reason taken from its facts."""
    if (text is None) == (queries is None):
        fail("give either a request TEXT or --queries FILE")
    filters = Filters(tuple(g.casefold() for g in genre or ()), year_from, year_to, energy_min, energy_max,
                      frozenset(exclude_id or ()), frozenset(a.casefold() for a in exclude_artist or ()))
    catalog = Catalog(collection)
    if catalog.count() == 0:
        fail(f"collection '{collection}' is empty; run `encore setup` or `encore ingest`")

    def run(request: str) -> list[Hit]:
        return catalog.search(request, k=k, filters=filters, max_per_artist=max_per_artist or None)

    if queries is not None:
        if not queries.is_file():
            fail(f"{queries}: no such file")
        for line in queries.read_text(encoding="utf-8", errors="replace").splitlines():
            request = line.strip()
            result: dict = {"query": request, "tracks": []}
            if request:
                result["tracks"] = [hit.to_dict() for hit in run(request)]
            else:
                result["error"] = "empty request"
            typer.echo(json.dumps(result, ensure_ascii=False))
        return
    if not text.strip():
        fail("the request is empty; say what you would like to hear")
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
