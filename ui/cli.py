"""The `encore` command line. Every command has --help; user mistakes end as one line on stderr and exit 1.

The commands live by subject (`find`: setup, ingest, recommend; `engine`: models, serve; `talk`: chat, playlist,
review; `tune`: finetune; `evaluate`: eval) and are registered here, the one place that knows them all; none of
them imports this module. The settings are read once, by the callback below, and handed to every command.

    encore setup
    encore ingest ../shared/datasets/freemusicc --format freemusicc --collection fm
    encore recommend "calm ambient music for studying" --collection fm --k 10 --json
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

from retrieval.settings import apply_process_defaults

apply_process_defaults()  # before any Hugging Face library is imported

import typer  # noqa: E402

from retrieval import EncoreError  # noqa: E402
from retrieval.settings import Settings  # noqa: E402

from . import engine, evaluate, find, listen, talk, tune  # noqa: E402
from .common import settings_of  # noqa: E402

app = typer.Typer(help="Encore: conversational music recommendations from a real catalog.",
                  no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False,
                  add_completion=False)
models_app = typer.Typer(help="Language models: pull the default or any Hugging Face model.", no_args_is_help=True,
                         rich_markup_mode=None)
eval_app = typer.Typer(help="Quality evaluations on real data.", no_args_is_help=True, rich_markup_mode=None)
history_app = typer.Typer(help="Listening history: import exports into a local profile.", no_args_is_help=True,
                          rich_markup_mode=None)
profile_app = typer.Typer(help="Listening profiles: show or forget one.", no_args_is_help=True,
                          rich_markup_mode=None)


@app.callback()
def _read_settings(ctx: typer.Context) -> None:
    ctx.obj = Settings.load()


def config(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """Print the effective settings (environment, $ENCORE_HOME/config.toml, defaults), secrets masked."""
    settings = settings_of(ctx)
    shown = settings.shown()
    if as_json:
        typer.echo(json.dumps(shown, ensure_ascii=False))
        return
    source = settings.config_path if settings.config_path.is_file() else "none"
    typer.echo(f"# config file: {source}")
    width = max(len(name) for name in shown)
    for name, value in shown.items():
        typer.echo(f"{name:<{width}}  {value}")


for command in (find.setup, find.ingest, find.recommend, talk.chat, talk.playlist, talk.review, tune.finetune,
                engine.serve, config):
    app.command()(command)
app.command("ui")(talk.web)
models_app.command("pull")(engine.models_pull)
eval_app.command("cpcd")(evaluate.cpcd)
eval_app.command("moods")(evaluate.moods)
eval_app.command("taste")(evaluate.taste)
eval_app.command("text")(evaluate.text)
history_app.command("import")(listen.history_import)
profile_app.command("show")(listen.profile_show)
profile_app.command("forget")(listen.profile_forget)
app.add_typer(models_app, name="models")
app.add_typer(history_app, name="history")
app.add_typer(profile_app, name="profile")
app.add_typer(eval_app, name="eval")


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
