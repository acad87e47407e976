"""The `encore` command line, through its real entry point: contract output and one-line errors."""

import json

import pytest

from tests.conftest import DEMO_CATALOG, run_cli

pytestmark = pytest.mark.integration


@pytest.fixture
def demo_home(tmp_path, capsys, monkeypatch):
    """A home with a 120-track slice of the demo catalog ingested through `encore ingest`."""
    lines = DEMO_CATALOG.read_text(encoding="utf-8").splitlines()[::3][:120]
    path = tmp_path / "slice.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run_cli(["ingest", str(path)], capsys)
    assert code == 0, err
    assert "ingested 120 tracks (120 added, 0 updated, 0 unchanged); skipped 0 bad rows" in out
    return path


def test_recommend_json_contract(demo_home, capsys):
    code, out, err = run_cli(["recommend", "calm acoustic songs for a quiet evening", "--json", "--k", "5"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["query"] == "calm acoustic songs for a quiet evening"
    assert len(result["tracks"]) == 5
    ids = {json.loads(line)["id"] for line in demo_home.read_text(encoding="utf-8").splitlines()}
    for track in result["tracks"]:
        assert {"id", "title", "artist", "score", "why"} <= set(track)
        assert track["id"] in ids
        assert track["why"].endswith(".") and track["title"] in track["why"]
    scores = [t["score"] for t in result["tracks"]]
    assert scores == sorted(scores, reverse=True)


def test_recommend_human_output_and_filters(demo_home, capsys):
    code, out, _ = run_cli(["recommend", "upbeat songs", "--k", "3", "--year-to", "1979"], capsys)
    assert code == 0
    assert out.count("\n") == 6 and " 1. " in out
    years = [int(line.rsplit("(", 1)[1][:4]) for line in out.splitlines() if line[:3].strip().rstrip(".").isdigit()]
    assert years and all(y <= 1979 for y in years)


def test_recommend_queries_file_keeps_order(demo_home, tmp_path, capsys):
    queries = tmp_path / "q.txt"
    queries.write_text("sad songs\n\n我今天很伤感\nparty music\n", encoding="utf-8")
    code, out, _ = run_cli(["recommend", "--queries", str(queries), "--k", "3"], capsys)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["query"] for r in rows] == ["sad songs", "", "我今天很伤感", "party music"]
    assert rows[1]["error"] == "empty request" and rows[1]["tracks"] == []
    assert all(len(r["tracks"]) == 3 for r in rows if r["query"])


def test_ingest_with_bad_rows_names_them_and_keeps_the_good(tmp_path, capsys):
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"id": "1", "title": "Good"}\n{"title": "no id"}\n{"id": "2", "title": "Also good"}\n')
    code, out, err = run_cli(["ingest", str(path), "--collection", "mixed"], capsys)
    assert code == 0
    assert f"skipped {path}:2: missing id" in err
    assert "ingested 2 tracks" in out and "skipped 1 bad rows" in out


def test_ingest_with_nothing_good_exits_non_zero(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"title": "no id"}\nnot json\n')
    code, _, err = run_cli(["ingest", str(path), "--collection", "bad-only"], capsys)
    assert code == 1
    assert err.strip().splitlines()[-1] == "encore: error: nothing was ingested"


@pytest.mark.parametrize("args, message", [
    (["ingest", "/no/such/file.jsonl"], "encore: error: /no/such/file.jsonl: no such file or folder"),
    (["ingest", "x.jsonl", "--format", "xml"], "encore: error: unknown format 'xml'"),
    (["recommend", "   "], "encore: error: the request is empty"),
    (["recommend"], "encore: error: give either a request TEXT or --queries FILE"),
    (["recommend", "jazz", "--collection", "nothing-here"], "encore: error: no collection 'nothing-here'"),
    (["recommend", "jazz", "--collection", "Bad Name!"], "encore: error: bad collection name 'Bad Name!'"),
    (["recommend", "jazz", "--year-from", "2000", "--year-to", "1990"], "encore: error: --year-from 2000 is after"),
    (["recommend", "--queries", "/no/such/list.txt"], "encore: error: /no/such/list.txt: no such file"),
])
def test_user_mistakes_are_one_line(args, message, capsys):
    code, out, err = run_cli(args, capsys)
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and err.startswith(message), err
    assert "Traceback" not in err


def test_unreachable_chroma_server_is_a_clear_error(monkeypatch, capsys):
    from tests.conftest import free_port

    monkeypatch.setenv("ENCORE_CHROMA_URL", f"http://127.0.0.1:{free_port()}")
    code, _, err = run_cli(["recommend", "jazz"], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "cannot open the Chroma store" in err and "unset ENCORE_CHROMA_URL" in err


def test_setup_is_idempotent(capsys):
    code, out, err = run_cli(["setup", "--no-model"], capsys)
    assert code == 0, err
    total = sum(1 for _ in DEMO_CATALOG.open(encoding="utf-8"))
    assert f"{total} added" in out
    code, out, _ = run_cli(["setup", "--no-model"], capsys)
    assert code == 0 and f"0 added, 0 updated, {total} unchanged" in out


def test_help_for_every_command(capsys):
    for command in ("setup", "ingest", "recommend"):
        code, out, _ = run_cli([command, "--help"], capsys)
        assert code == 0 and "Usage" in out


def test_encore_eval_runs_from_the_checkouts_own_venv(tmp_path):
    """The console script of an editable install maps only the product packages; `encore eval` finds the
    harnesses beside them (it once answered, from the checkout itself, that it needed a source checkout)."""
    import subprocess
    import sys
    from pathlib import Path

    encore = str(Path(sys.executable).with_name("encore"))
    done = subprocess.run([encore, "eval", "moods", "--captions", str(tmp_path / "missing.csv")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "missing.csv: no such file" in done.stderr, done.stderr
