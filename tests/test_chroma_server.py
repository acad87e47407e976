"""Server mode: the same ingest and recommend through a real `chroma run` server via ENCORE_CHROMA_URL."""

import json

import chromadb
import pytest

from tests.conftest import DEMO_CATALOG, run_cli

pytestmark = pytest.mark.integration


def test_ingest_and_recommend_through_a_chroma_server(chroma_server, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ENCORE_CHROMA_URL", chroma_server)
    lines = DEMO_CATALOG.read_text(encoding="utf-8").splitlines()[:150]
    path = tmp_path / "part.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run_cli(["ingest", str(path), "--collection", "served"], capsys)
    assert code == 0, err
    assert "collection 'served' holds 150 tracks" in out

    host, port = chroma_server.rsplit(":", 1)
    server_side = chromadb.HttpClient(host=host.split("//")[1], port=int(port)).get_collection("served")
    assert server_side.count() == 150  # the tracks live in the server, not in a local store
    assert not (tmp_path / "encore-home" / "chroma").exists()

    code, out, err = run_cli(["recommend", "energetic rock and roll", "--collection", "served", "--json"], capsys)
    assert code == 0, err
    tracks = json.loads(out)["tracks"]
    ids = {json.loads(line)["id"] for line in lines}
    assert len(tracks) == 10 and all(t["id"] in ids for t in tracks)
    assert sum(t["energy"] >= 0.6 for t in tracks) >= 7
