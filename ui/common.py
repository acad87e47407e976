"""What every `encore` command shares: the settings the entry point read, the collection option, `fail()`."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer

from retrieval import Catalog
from retrieval.settings import Settings

CollectionOpt = Annotated[str | None, typer.Option("--collection", "-c", show_default=False,
                                                   help="Catalog collection to use (default: the `collection` "
                                                        "setting, ENCORE_COLLECTION, else 'demo').")]


def fail(message: str) -> NoReturn:
    typer.echo(f"encore: error: {message}", err=True)
    raise typer.Exit(1)


def settings_of(ctx: typer.Context) -> Settings:
    """The settings `encore` read once at start (ui.cli's callback), or fresh ones when a command runs alone."""
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = Settings.load()
    return root.obj


def open_catalog(ctx: typer.Context, collection: str | None, must_have_tracks: bool = True) -> Catalog:
    settings = settings_of(ctx)
    name = collection or settings.collection
    catalog = Catalog(name, settings=settings)
    if must_have_tracks and catalog.count() == 0:
        fail(f"collection '{name}' is empty; run `encore setup` or `encore ingest`")
    return catalog
