"""`encore chat`, `encore playlist` and `encore review`: the conversational agent on the command line.

    echo "rainy evening jazz" | encore chat --json
    encore chat --session 3f2a9c                  # resume a session after a restart
    encore playlist "late-night coding, no vocals" --n 12 --json
    encore review miles-davis--so-what --json
    encore review --ids ids.txt > reviews.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from retrieval import CatalogError

from .common import CollectionOpt, fail, open_catalog, settings_of
from .listen import UserOpt, listener


def _agent(ctx: typer.Context, collection: str | None):
    from agent import Agent

    return Agent(open_catalog(ctx, collection))


def chat(
    ctx: typer.Context,
    session: Annotated[str | None, typer.Option(help="Resume this session (its id is printed at the start).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per turn: {reply, tracks, session}; "
                                                         "after a list also suggestions (next steps) and sentences "
                                                         "(each with who wrote it: model or facts).")]
    = False,
    collection: CollectionOpt = None,
    mode: Annotated[str, typer.Option(help="'graph' (any model) or 'tools' (a tool-calling model behind "
                                           "ENCORE_LLM_URL drives Encore's tools).")] = "graph",
    user: UserOpt = None,
) -> None:
    """Talk about your mood and what you want to hear; reads one turn per line from stdin."""
    from agent.graph import new_session_id

    if mode not in ("graph", "tools"):
        fail(f"--mode {mode!r}: choose graph or tools")
    agent = _agent(ctx, collection)
    prior = listener(ctx, user, agent.catalog)
    if mode == "tools":
        if prior is not None:
            fail("--user works with --mode graph: a listening profile is never sent to a served model")
        return _tools_chat(agent, as_json)
    if session is not None and not session.strip():
        fail("--session is empty")
    resumed = session is not None and agent.exists(session)
    session = session or new_session_id()
    interactive = sys.stdin.isatty() and not as_json
    if not as_json:
        typer.echo(f"encore: session {session} ({'resumed' if resumed else 'new'}); "
                   f"resume later with --session {session}", err=True)
    try:
        while True:
            if interactive:
                typer.echo("you> ", nl=False)
            line = sys.stdin.readline()
            if not line:
                break
            if as_json:
                result = agent.say(line.rstrip("\n"), session, prior=prior)
                typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
                continue
            typer.echo("encore> ", nl=False)
            result = agent.say(line.rstrip("\n"), session,
                               on_text=lambda text: (sys.stdout.write(text), sys.stdout.flush()), prior=prior)
            offers = result.extra.get("suggestions")
            typer.echo("\n" + ("\nnext: " + " \u00b7 ".join(f"\u201c{o}\u201d" for o in offers) + "\n"
                               if offers else ""))
    finally:
        agent.close()


def _tools_chat(agent, as_json: bool) -> None:
    from agent.tools import run_tools

    try:
        for line in sys.stdin:
            result = run_tools(agent, agent.chat(), line.rstrip("\n"))
            typer.echo(json.dumps({**result, "session": None}, ensure_ascii=False) if as_json else result["reply"])
    finally:
        agent.close()


def playlist(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="What the playlist is for, in your own words.")],
    n: Annotated[int, typer.Option("--n", "-n", min=3, max=50, help="How many tracks.")] = 12,
    as_json: Annotated[bool, typer.Option("--json", help="Print {title, description, tracks}.")] = False,
    collection: CollectionOpt = None,
    user: UserOpt = None,
) -> None:
    """A playlist from the catalog with a title and a two-to-four-sentence description of only its tracks."""
    if not text.strip():
        fail("the request is empty; say what the playlist is for")
    agent = _agent(ctx, collection)
    try:
        result = agent.playlist(text, n, prior=listener(ctx, user, agent.catalog))
    finally:
        agent.close()
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    typer.echo(f"{result['title']}\n{result['description']}\n")
    for i, track in enumerate(result["tracks"], 1):
        typer.echo(f"{i:2}. {track['title']} \u2014 {track.get('artist') or 'unknown artist'}")


def review(
    ctx: typer.Context,
    track_id: Annotated[str | None, typer.Argument(help="The catalog id of the track to review.")] = None,
    ids: Annotated[Path | None, typer.Option(help="A file with one track id a line; prints JSON lines.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print {track, review}.")] = False,
    collection: CollectionOpt = None,
) -> None:
    """A 120-250-word review written from the track's facts (in the adapter's style when one is loaded)."""
    if (track_id is None) == (ids is None):
        fail("give either a TRACK_ID or --ids FILE")
    if ids is not None and not ids.is_file():
        fail(f"{ids}: no such file")
    agent = _agent(ctx, collection)
    try:
        if ids is None:
            result = agent.review(track_id.strip())
            typer.echo(json.dumps(result, ensure_ascii=False) if as_json else result["review"])
            return
        for line in ids.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                result = agent.review(line.strip())
            except CatalogError as error:
                result = {"track": {"id": line.strip()}, "error": str(error)}
                typer.echo(f"encore: skipped {line.strip()!r}: {error}", err=True)
            typer.echo(json.dumps(result, ensure_ascii=False))
    finally:
        agent.close()


def web(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="The port to listen on.", min=1, max=65535)] = 7860,
    host: Annotated[str, typer.Option(help="The address to bind (loopback unless you say otherwise; 0.0.0.0 "
                                           "serves the network).")] = "127.0.0.1",
    collection: CollectionOpt = None,
) -> None:
    """The web app: streaming chat with track cards, a playlist studio and a review studio (Ctrl-C stops it)."""
    from ui.web import serve

    open_catalog(ctx, collection)  # one clear line now if the catalog is missing or empty
    settings = settings_of(ctx)
    typer.echo(f"Encore is at http://{host}:{port}/ (Ctrl-C stops it)", err=True)
    serve(settings, host=host, port=port, collection=collection)
