"""The vocabularies are data under one loader: every file reads, a file of another version is refused with its
name, and no product module keeps a vocabulary of its own as a Python constant again."""

from __future__ import annotations

import ast
from importlib import resources

import pytest

from retrieval import lexicon
from tests.conftest import ROOT

PRODUCT = ("agent", "retrieval", "finetune", "ui")
MAX_STRINGS = 40  # a module constant with more string literals than this is a vocabulary: it belongs in lexicon/


def test_every_vocabulary_file_reads_at_this_version():
    names = sorted(p.name[:-5] for p in resources.files("retrieval.lexicon").iterdir() if p.name.endswith(".json"))
    assert {"request", "genres", "mood", "terms", "chat", "claims", "writing", "common", "unsafe"} <= set(names)
    for name in names:
        data = lexicon.load(name)
        assert data and "version" not in data and "_about" not in data, name


def test_a_file_of_another_version_is_refused_by_name():
    with pytest.raises(ValueError, match=r"retrieval/lexicon/moves.json is version 2; this Encore reads version 1"):
        lexicon.read('{"version": 2, "moves": {}}', "moves.json")
    with pytest.raises(ValueError, match="version None"):
        lexicon.read('["no", "version"]', "cues.json")


def test_lists_come_back_as_tuples():
    assert lexicon.read('{"version": 1, "moves": {"faster": ["energy", 1]}}', "x.json") == \
        {"moves": {"faster": ("energy", 1)}}


def test_the_chat_reader_takes_its_moves_and_ordinals_from_the_parser():
    from agent import understand
    from retrieval.parse_words import MOVES, ORDINALS

    assert set(understand.FASTER) == {p for p, (f, d) in MOVES.items() if f == "energy" and d > 0}
    assert understand.ORDINALS == {w: n for w, n in ORDINALS.items() if n > 0} and ORDINALS["last"] == -1


def test_no_product_module_keeps_a_vocabulary_in_code():
    big = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                    strings = sum(isinstance(x, ast.Constant) and isinstance(x.value, str)
                                  for x in ast.walk(node.value))
                    if strings > MAX_STRINGS:
                        big.append(f"{path.relative_to(ROOT)}:{node.lineno} ({strings} strings)")
    assert not big, "vocabularies in code (move them to retrieval/lexicon/): " + ", ".join(big)
