"""`encore setup`, `encore ingest` and `encore recommend`: the catalog on the command line.

    encore setup
    encore ingest ../shared/datasets/freemusicc --format freemusicc --collection fm
    encore recommend "calm ambient music for studying" --collection fm --k 10 --json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from retrieval import FORMATS, Catalog, Filters, Hit

from .common import CollectionOpt, fail, open_catalog, settings_of
from .listen import UserOpt, listener


def setup(
    ctx: typer.Context,
    collection: CollectionOpt = None,
    model: Annotated[bool, typer.Option(help="Also pull the default language model (SmolLM2).")] = True,
) -> None:
    """Pull the default model and ingest the bundled demo catalog (idempotent: a second run changes nothing)."""
    settings = settings_of(ctx)
    if model:
        from agent.models import pull

        pulled = pull(settings=settings)
        typer.echo(f"model {pulled.name}: {'pulled' if pulled.fresh else 'already pulled'} -> {pulled.path}")
    name = collection or settings.collection
    catalog = Catalog(name, settings=settings)
    report = catalog.ingest([settings.demo_catalog])
    typer.echo(f"demo catalog: {report.added} added, {report.updated} updated, {report.unchanged} unchanged; "
               f"collection '{name}' holds {report.total} tracks in {catalog.store.where}")


def ingest(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files (JSONL/CSV) or a freemusi.cc folder.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"One of: {', '.join(FORMATS)}.")] = "auto",
    collection: CollectionOpt = None,
    reset: Annotated[bool, typer.Option(help="Drop the collection first and rebuild it.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not list bad rows, only count them.")] = False,
    infer: Annotated[bool, typer.Option("--infer/--no-infer", help="Read moods, energy and valence from the text "
                                        "(description, lyrics, comments) of tracks whose source gives none; "
                                        "stored as inferred, apart from given labels.")] = True,
) -> None:
    """Import tracks into a collection (upsert by id). Bad rows are named as FILE:LINE: reason and skipped."""
    if fmt not in FORMATS:
        fail(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    catalog = open_catalog(ctx, collection, must_have_tracks=False)
    report = catalog.ingest(paths, fmt, reset=reset, infer=infer,
                            on_bad=None if quiet else lambda bad: typer.echo(f"skipped {bad}", err=True))
    typer.echo(f"ingested {report.ingested} tracks ({report.added} added, {report.updated} updated, "
               f"{report.unchanged} unchanged); skipped {len(report.bad)} bad rows; "
               f"collection '{catalog.name}' holds {report.total} tracks")
    if report.ingested == 0:
        fail("nothing was ingested")


def recommend(
    ctx: typer.Context,
    text: Annotated[str | None, typer.Argument(help="What you want to hear, in your own words.")] = None,
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=100, help="How many tracks.")] = 10,
    collection: CollectionOpt = None,
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
    user: UserOpt = None,
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

        chat = get_chat_model(settings_of(ctx))
    catalog = open_catalog(ctx, collection)
    prior = listener(ctx, user, catalog)
    personal = None
    if prior is not None:  # the conversation's ranking, with the profile as its prior
        from agent.graph import Agent

        personal = Agent(catalog, prose=False)

    def run(request: str) -> list[Hit]:
        if personal is not None:
            _, found, private = personal.picks(request, 3 * k if filters != Filters() else k, prior,
                                               max_per_artist=max_per_artist or None)
            hits = [h for h in found if filters.admits(h.track)][:k]
        else:
            hits, private = catalog.search(request, k=k, filters=filters, max_per_artist=max_per_artist or None), ()
        if chat is not None:
            from agent.explain import explained

            shared = [h for h in hits if h.track.id not in private]  # a served model never sees what history brought
            checked = explained(chat, request, shared, catalog.artist_matcher()) if shared else []
            written = {h.track.id: h for h in checked}
            hits = [written.get(h.track.id, h) for h in hits]
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
