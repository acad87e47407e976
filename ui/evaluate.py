"""`encore eval`: quality evaluations. The harnesses are the `evals` package of a source checkout (not in the
wheel); from an installed wheel these commands say so in one line.

    encore ingest ../shared/datasets/cpcd/tracks.jsonl --format cpcd --collection cpcd
    encore eval cpcd --dialogs ../shared/datasets/cpcd/dialogs.dev.jsonl --collection cpcd --out preds.jsonl
    encore eval moods --captions ../shared/datasets/musiccaps/musiccaps.dev.csv [--fit]
    encore eval text --reviews 200 --playlists 100 [--adapter DIR] [-c demo -c fm]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import fail, settings_of


def _harnesses() -> None:
    """`evals` sits beside `ui` in a source checkout (an editable install maps only the product packages, so its
    folder is put on the path here); an installed wheel has none: say so instead of a traceback."""
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "evals" / "__init__.py").is_file() and str(checkout) not in sys.path:
        sys.path.append(str(checkout))
    try:
        import evals  # noqa: F401
    except ImportError:
        fail("encore eval needs a source checkout of Encore (the evaluation harnesses, evals/, are not in the "
             "wheel): run it from the repository, e.g. `.venv/bin/encore eval ...` after `make demo`")


def cpcd(
    ctx: typer.Context,
    dialogs: Annotated[Path, typer.Option(help="CPCD dialogs JSONL (turns, tracks, goal_playlist).")],
    out: Annotated[Path, typer.Option(help="Where to write the predictions (one JSON line per dialog turn).")],
    collection: Annotated[str, typer.Option("--collection", "-c", help="The collection holding CPCD's tracks.")]
    = "cpcd",
    tracks: Annotated[Path | None, typer.Option(help="CPCD tracks.jsonl for cluster ids; default: beside the "
                                                     "dialogs file when there.")] = None,
    baselines: Annotated[bool, typer.Option(help="Also score BM25 and dense baselines in the same run.")] = True,
    ablation: Annotated[bool, typer.Option(help="Also rank each turn with one signal removed in turn.")] = True,
    record_: Annotated[bool, typer.Option("--record", help="Keep the tables in the checkout's bench/results, for "
                                                           "docs/benchmarks.md.")] = False,
) -> None:
    """Run each dialog through Encore's conversation path turn by turn (user text, earlier likes and dislikes);
    print Hit@10/100 and MRR@10 with bootstrap 95% intervals, the baselines and the ablation."""
    from tqdm import tqdm

    _harnesses()
    from evals.cpcd import load_clusters, load_dialogs, run
    from evals.results import Table, record
    from retrieval import Catalog

    loaded = load_dialogs(dialogs)
    clusters = load_clusters(tracks or dialogs.with_name("tracks.jsonl"))
    catalog = Catalog(collection, settings=settings_of(ctx))
    with tqdm(total=len(loaded), desc="dialogs", unit="dialog", leave=False) as bar:
        report = run(catalog, loaded, out, clusters, baselines, ablation,
                     progress=lambda done: bar.update(done - bar.n))
    turns = sum(len(d.turns) for d in loaded)
    typer.echo(f"wrote {turns} predictions for {len(loaded)} dialogs to {out}")
    if report is None:
        typer.echo("no goal playlists in these dialogs: predictions only, no metrics")
        return
    tables = [Table(["system", "Hit@10", "95% interval", "Hit@100", "MRR@10"],
                    [[name, f"{m['hit@10']:.4f}", "{:.3f}\u2013{:.3f}".format(*report.intervals[name]),
                      f"{m['hit@100']:.4f}", f"{m['mrr@10']:.4f}"] for name, m in report.systems.items()])]
    typer.echo("\n" + tables[0].markdown())
    lines = []
    encore = report.systems["encore"]
    others = {name: m for name, m in report.systems.items() if name != "encore"}
    if others:
        best_name = max(others, key=lambda name: others[name]["hit@10"])
        best = others[best_name]["hit@10"]
        low, high = report.intervals[f"encore / {best_name}"]
        ratio = encore["hit@10"] / best if best else float("inf")
        lines.append(f"Encore Hit@10 / best baseline ({best_name}) = {ratio:.2f}x (95% interval {low:.2f}\u2013"
                     f"{high:.2f}x; {encore.get('dialogs', 0)} dialogs with a goal playlist)")
        typer.echo("\n" + lines[-1])
    if report.ablation:
        tables.append(Table(["Encore without", "Hit@10", "change", "MRR@10"],
                            [[name.removeprefix("without "), f"{m['hit@10']:.4f}",
                              f"{m['hit@10'] - encore['hit@10']:+.4f}", f"{m['mrr@10']:.4f}"]
                             for name, m in report.ablation.items()]))
        typer.echo("\n" + tables[-1].markdown())
    if record_:
        typer.echo(f"recorded: {record('cpcd', tables, lines)}")


def taste(
    ctx: typer.Context,
    dialogs: Annotated[Path, typer.Option(help="CPCD dialogs JSONL: their likes stand in for listening histories.")],
    collection: Annotated[str, typer.Option("--collection", "-c", help="The collection holding CPCD's tracks.")]
    = "cpcd",
    tracks: Annotated[Path | None, typer.Option(help="CPCD tracks.jsonl for cluster ids; default: beside the "
                                                     "dialogs file when there.")] = None,
    record_: Annotated[bool, typer.Option("--record", help="Keep the tables in the checkout's bench/results, for "
                                                           "docs/benchmarks.md.")] = False,
) -> None:
    """A listening profile against the vague request alone and against the same likes given in the session: Hit@10
    and nDCG@10 over every (dialog, cutoff) pair, with bootstrap 95% intervals."""
    from tqdm import tqdm

    _harnesses()
    from evals.cpcd import load_clusters, load_dialogs
    from evals.results import Table, record
    from evals.taste import SYSTEMS, pairs, run
    from retrieval import Catalog

    loaded = load_dialogs(dialogs)
    catalog = Catalog(collection, settings=settings_of(ctx))
    if catalog.count() == 0:
        typer.echo(f"encore: error: collection '{collection}' is empty; ingest CPCD's tracks.jsonl into it", err=True)
        raise typer.Exit(1)
    clusters = load_clusters(tracks or dialogs.with_name("tracks.jsonl"))
    found = pairs(loaded, catalog)
    with tqdm(total=len(found), desc="pairs", unit="pair", leave=False) as bar:
        report = run(catalog, loaded, clusters, progress=lambda done: bar.update(done - bar.n), found=found)
    typer.echo(f"{report.pairs} (dialog, cutoff) pairs from {len(loaded)} dialogs\n")
    table = Table(["system", "Hit@10", "95% interval", "nDCG@10"],
                  [[name, f"{report.means[name]['hit@10']:.4f}", "{:.3f}\u2013{:.3f}".format(*report.intervals[name]),
                    f"{report.means[name]['ndcg@10']:.4f}"] for name in SYSTEMS])
    typer.echo(table.markdown())
    profile = report.means["profile"]["hit@10"]
    lines = [f"{report.pairs} (dialog, cutoff) pairs from {len(loaded)} dialogs"]
    for other in SYSTEMS[1:]:
        base = report.means[other]["hit@10"]
        low, high = report.intervals[f"profile / {other}"]
        if base:
            lines.append(f"profile / {other}: {profile / base:.2f}x (95% interval {low:.2f}\u2013{high:.2f}x)")
        else:
            lines.append(f"profile / {other}: no ratio ({other} found no target in any pair; profile "
                         f"{profile:.4f} vs 0)")
        typer.echo(lines[-1])
    if record_:
        typer.echo(f"recorded: {record('taste', [table], lines)}")


def moods(
    ctx: typer.Context,
    captions: Annotated[Path | None, typer.Option(help="The MusicCaps dev CSV (ytid, aspect_list, caption); default: "
                                                       "../shared/datasets/musiccaps/musiccaps.dev.csv when there.")]
    = None,
    fit: Annotated[bool, typer.Option(help="First refit the mood model on the tune half and rewrite the packaged "
                                           "retrieval/mood_model.npz (about two minutes).")] = False,
    record_: Annotated[bool, typer.Option("--record", help="Keep the tables in the checkout's bench/results, for "
                                                           "docs/benchmarks.md.")] = False,
) -> None:
    """Infer moods from MusicCaps captions (report half) and from Encore's demo lyrics, comments and descriptions;
    print macro-F1, P@3 and energy/valence beside the lexicon and embedding-prototype baselines; write a PNG."""
    from retrieval.embed import get_embedder
    _harnesses()
    from evals.moods import default_captions, evaluate, fit_packaged, plot, tables
    from evals.results import record

    captions = captions or default_captions()
    if captions is None:
        fail("give --captions PATH (the MusicCaps dev CSV); ../shared/datasets/musiccaps/musiccaps.dev.csv is not "
             "here")
    if not captions.is_file():
        fail(f"{captions}: no such file (the MusicCaps dev CSV, with ytid, aspect_list and caption)")
    settings = settings_of(ctx)
    embedder = get_embedder(settings)
    model = None
    if fit:
        model = fit_packaged(embedder, captions)
        typer.echo(f"fitted {model.version}: {model.about}")
    report = evaluate(embedder, captions, model)
    found, lines = tables(report)
    typer.echo("\n\n".join([*(t.markdown() for t in found), "\n".join(f"- {line}" for line in lines)]))
    png = plot(report, settings.root() / "reports" / "moods.png")
    typer.echo(f"\nwrote {png}")
    if record_:
        typer.echo(f"recorded: {record('moods', found, lines)}")


QUERIES = Path("shared") / "datasets" / "queries" / "music_requests.csv"


def text(
    ctx: typer.Context,
    collection: Annotated[list[str] | None, typer.Option(
        "--collection", "-c", show_default=False,
        help="Collection whose tracks are reviewed and whose catalog answers the requests; give it more than once "
             "for a mix (-c demo -c fm: the tracks split evenly, the requests dealt in turn). Default: the "
             "`collection` setting, else 'demo'.")] = None,
    queries: Annotated[Path | None, typer.Option(
        help="Real requests: a CSV with an `original` column, or one request a line. Default: "
             "../shared/datasets/queries/music_requests.csv when there.")] = None,
    adapter: Annotated[Path | None, typer.Option(
        help="A LoRA adapter folder (adapter_config.json) to compare with the base model.")] = None,
    reviews: Annotated[int, typer.Option(min=1, help="Catalog tracks to review (held-back ones first).")] = 200,
    playlists: Annotated[int, typer.Option(min=1, help="Requests to turn into playlists (every one with a "
                                                       "negation first, then the most playlist-like).")] = 100,
    remarks: Annotated[int | None, typer.Option(min=0, show_default=False, help="Of those requests, how many also "
                                                "get a chat remark (evenly spaced; default: half).")] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Requests in flight at once on the vLLM server.")] = 16,
    no_server: Annotated[bool, typer.Option("--no-server", help="Write in-process (transformers) even when "
                                                                 ".venv-vllm is installed (slow).")] = False,
) -> None:
    """Reviews, playlists (title and description) and remarks by the base model, the adapter and the templates
    alone, side by side: raw sentences the claim checker accepts, the share of final text the model wrote, facts
    covered, distinct-2, and the checks the final text must pass (safety, unsupported names and numbers, title
    contradictions, shared template frames, length and first-sentence rules). Writes text.md, text.json and
    text.png under $ENCORE_HOME/reports."""
    _harnesses()
    from agent.models import ModelError
    from agent.serve import resolve_model, vllm_python
    from evals import text as text_eval
    from finetune.text import split_of
    from retrieval import Catalog, EncoreError

    settings = settings_of(ctx)
    queries = queries or next((r / QUERIES for r in (Path(__file__).resolve().parents[2], Path.cwd().parent,
                                                     Path.cwd()) if (r / QUERIES).is_file()), None)
    if queries is None:
        fail("give --queries FILE (real requests); ../shared/datasets/queries/music_requests.csv is not here")
    if not queries.is_file():
        fail(f"{queries}: no such file (a CSV with an `original` column, or one request a line)")
    if adapter is not None and not (adapter / "adapter_config.json").is_file():
        fail(f"{adapter}: not a LoRA adapter folder (no adapter_config.json)")
    catalogs = {}
    for name in dict.fromkeys(collection or [settings.collection]):
        catalog = Catalog(name, settings=settings)
        try:
            count = catalog.count()
        except EncoreError:
            count = 0
        if count == 0:
            fail(f"collection '{name}' is unknown or empty; `encore ingest PATH --collection {name}` first")
        catalogs[name] = catalog
    try:
        model = resolve_model(settings.model, settings)
        requests = text_eval.read_requests(queries, playlists)
    except (ModelError, ValueError, UnicodeError) as error:
        fail(str(error))
    remarks = len(requests) // 2 if remarks is None else remarks
    sample = text_eval.choose(catalogs, requests, reviews, playlists, remarks,
                              held_back=lambda i: split_of(i) == "validation")
    negated = sum(bool(text_eval.NEGATION.search(r)) for _, r in sample.requests)
    typer.echo(f"{len(sample.tracks)} tracks from {', '.join(catalogs)} ({sample.held_back} held back from "
               f"fine-tuning), {len(sample.requests)} requests from {queries.name} ({negated} with a negation), "
               f"{len(sample.remarks)} remarks", err=True)
    server = not no_server
    if server:
        try:
            vllm_python(settings)
        except ModelError as error:
            typer.echo(f"no vLLM server ({error}): writing in-process", err=True)
            server = False
    run = text_eval.evaluate(catalogs, sample, model, adapter, settings, server, concurrency,
                             say=lambda line: typer.echo(line, err=True))
    typer.echo(run.markdown())
    paths = run.save(settings.root() / "reports")
    typer.echo(f"\nwrote {', '.join(str(p) for p in paths)}")
