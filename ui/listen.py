"""`encore history import`, `encore profile show|forget`, and the `--user` option that personalises `recommend`,
`chat` and `playlist` by a listening profile.

    encore history import listens.zip --user ana              # ListenBrainz, Last.fm, Spotify or a plain CSV
    encore profile show ana --json
    encore chat --user ana                                    # "something like what I usually play"
    encore profile forget ana                                 # the profile and every imported play are deleted
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from retrieval import Catalog

from .common import CollectionOpt, fail, open_catalog, settings_of

UserOpt = Annotated[str | None, typer.Option("--user", "-u", show_default=False, envvar="ENCORE_USER",
                                             help="Personalise by this listener's profile (`encore history "
                                                  "import`); it only reorders, never overrides what you ask.")]
FORMAT_HELP = "auto, listenbrainz, lastfm, spotify or csv (artist,title[,played_at][,rating][,skipped])."


def listener(ctx: typer.Context, user: str | None, catalog: Catalog):
    """The `ranking.Prior` of `--user`, or None without one; a clear error when there is no such profile."""
    if user is None:
        return None
    from agent.listening import Listener, Profiles

    profiles = Profiles(settings_of(ctx))
    if not profiles.exists(user):
        fail(f"no listening profile {user!r}; import one with: encore history import FILE --user {user}")
    return Listener(profiles.profile(user, catalog))


def history_import(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Export files or the zip archives the services hand out.")],
    user: Annotated[str, typer.Option("--user", "-u", help="Whose history this is (a profile name).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)] = "auto",
    collection: CollectionOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not list bad rows, only count them.")] = False,
) -> None:
    """Import listening history into a local profile (nothing leaves this machine). Re-importing the same or an
    overlapping export adds nothing twice; a corrupt JSON file stores nothing; bad CSV/JSONL rows are skipped."""
    from agent.listening import Profiles

    catalog = open_catalog(ctx, collection)
    started = time.perf_counter()
    report = Profiles(settings_of(ctx)).import_files(user, paths, catalog, fmt)
    seconds = time.perf_counter() - started
    if not quiet:
        for bad in report.bad:
            typer.echo(f"skipped {bad}", err=True)
    typer.echo(f"read {report.read} plays from {len(report.formats)} file(s) "
               f"({', '.join(sorted(set(report.formats.values())))}) in {seconds:.1f} s; {report.added} new, "
               f"{report.read - report.added} already imported; {report.matched} matched tracks in "
               f"'{catalog.name}', {report.unmatched} unmatched; {len(report.bad)} bad rows"
               + (f"; {report.skipped_non_music} podcast/audiobook plays left out" if report.skipped_non_music
                  else ""))
    if report.top_unmatched:
        typer.echo("most played artists not in the catalog: "
                   + ", ".join(f"{name} ({count})" for name, count in report.top_unmatched))
    typer.echo(f"profile '{report.user}' holds {report.total} plays")
    if report.read == 0:
        fail("no plays were found in those files")


def profile_show(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The profile name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
    collection: CollectionOpt = None,
) -> None:
    """What a listening profile says: top artists, genres, eras, moods, energy and the separate tastes in it."""
    from agent.listening.profile import Profiles, describe

    profiles = Profiles(settings_of(ctx))
    if not profiles.exists(user):
        fail(f"no listening profile {user!r}")
    profile = profiles.profile(user, open_catalog(ctx, collection))
    typer.echo(json.dumps(profile.to_dict(), ensure_ascii=False) if as_json else describe(profile))


def profile_forget(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The profile name.")],
) -> None:
    """Delete a listening profile and every play imported into it."""
    from agent.listening import Profiles

    if not Profiles(settings_of(ctx)).forget(user):
        fail(f"no listening profile {user!r}")
    typer.echo("forgotten: the profile and all its plays are deleted")
