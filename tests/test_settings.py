"""Settings (one definition, env > config.toml > defaults), the README kept true to them, and owned child
processes. Fast: no Chroma, no model."""

import json
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from retrieval.errors import ConfigError
from retrieval.process import Child, group_members
from retrieval.settings import PROCESS_DEFAULTS, Settings, variable_table
from tests.conftest import ROOT, run_cli

README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = ROOT / "docs"


def test_defaults_live_under_one_home(encore_home):
    settings = Settings.load()
    assert settings.home == encore_home and settings.collection == "demo"
    for path in (settings.chroma_path, settings.sessions_path, settings.models_dir, settings.lexical_path("x")):
        assert path.is_relative_to(encore_home)
    assert settings.demo_catalog.is_file() and settings.llm_url is None and settings.understand == "auto"


def test_environment_wins_over_the_config_file_which_wins_over_defaults(encore_home, monkeypatch):
    encore_home.mkdir(parents=True)
    (encore_home / "config.toml").write_text('collection = "fm"\nllm_url = "http://127.0.0.1:9/v1"\n'
                                             'temperature = 0.2\n')
    settings = Settings.load()
    assert (settings.collection, settings.llm_url, settings.temperature) == ("fm", "http://127.0.0.1:9/v1", 0.2)
    monkeypatch.setenv("ENCORE_COLLECTION", "cpcd")
    monkeypatch.setenv("ENCORE_LLM_URL", "")  # empty means unset, so the file's value stands
    assert Settings.load().collection == "cpcd" and Settings.load().llm_url == "http://127.0.0.1:9/v1"


@pytest.mark.parametrize("toml, message", [("temperature = 'hot'", "temperature"), ("collection = [", "TOML"),
                                           ("home = '/elsewhere'", "ENCORE_HOME")])
def test_a_bad_config_file_is_one_clear_error(encore_home, toml, message, capsys):
    encore_home.mkdir(parents=True)
    (encore_home / "config.toml").write_text(toml + "\n")
    with pytest.raises(ConfigError, match=message):
        Settings.load()
    code, out, err = run_cli(["config"], capsys)
    assert code == 1 and err.count("\n") == 1 and err.startswith("encore: error:") and "Traceback" not in err


def test_a_bad_variable_names_the_variable(monkeypatch, capsys):
    monkeypatch.setenv("ENCORE_EMBEDDER_BACKEND", "gpu-please")
    code, _, err = run_cli(["recommend", "jazz"], capsys)
    assert code == 1 and "ENCORE_EMBEDDER_BACKEND" in err and err.count("\n") == 1


def test_encore_config_shows_the_effective_settings_with_the_key_masked(monkeypatch, capsys):
    monkeypatch.setenv("ENCORE_LLM_API_KEY", "sk-very-secret")
    monkeypatch.setenv("ENCORE_MODEL", "/models/mine")
    code, out, _ = run_cli(["config", "--json"], capsys)
    shown = json.loads(out)
    assert code == 0 and shown["model"] == "/models/mine" and "sk-very-secret" not in out
    assert shown["llm_api_key"] == "**********" and set(shown) == set(Settings.model_fields)
    code, out, _ = run_cli(["config"], capsys)
    assert code == 0 and "sk-very-secret" not in out and re.search(r"^model\s+/models/mine$", out, re.M)


def test_child_env_adds_defaults_without_touching_ours(monkeypatch):
    import os

    monkeypatch.delenv("VLLM_CPU_KVCACHE_SPACE", raising=False)
    before = dict(os.environ)
    env = Settings.load().child_env(VLLM_CPU_KVCACHE_SPACE="1")
    assert env["VLLM_CPU_KVCACHE_SPACE"] == "1" and all(name in env for name in PROCESS_DEFAULTS)
    assert dict(os.environ) == before
    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "4")  # a user's own value stands
    assert Settings.load().child_env(VLLM_CPU_KVCACHE_SPACE="1")["VLLM_CPU_KVCACHE_SPACE"] == "4"


def test_only_the_settings_module_touches_the_environment():
    pattern = re.compile(r"os\.(environ|getenv|putenv)")
    offenders = [f"{path.relative_to(ROOT)}:{n}" for package in ("agent", "retrieval", "finetune", "ui")
                 for path in sorted((ROOT / package).rglob("*.py")) if path.name != "settings.py"
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert not offenders, offenders


# --- the docs say what the code does ------------------------------------------------------------------------

def test_the_generated_references_are_committed_as_generated():
    from ui.reference import cli_reference, configuration_reference

    assert (DOCS / "cli.md").read_text(encoding="utf-8") == cli_reference(), "run: python -m ui.reference"
    assert (DOCS / "configuration.md").read_text(encoding="utf-8") == configuration_reference()
    assert variable_table() in configuration_reference()


def test_the_cli_reference_is_what_each_help_prints(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^## `encore ?([^`]*)`\n\n```\n(.*?)\n```", page, re.M | re.S))
    assert {"", "recommend", "chat", "eval cpcd", "history import"} <= set(sections)
    for words, text in sections.items():
        code, out, _ = run_cli([*words.split(), "--help"], capsys)
        out = re.sub(r"^Usage: [^\n]*?encore(?= )", "Usage: encore", out)  # under pytest the program is named after it
        assert code == 0 and out.rstrip() == text.rstrip(), words


def test_the_readme_is_short_and_lists_every_command(capsys):
    assert len(README.splitlines()) <= 200
    code, out, _ = run_cli(["--help"], capsys)
    commands = re.findall(r"^  (\w+)\s", out.split("Commands:")[1], re.M)
    assert code == 0 and len(commands) >= 10
    for name in commands:
        assert f"`encore {name}" in README, f"encore {name} is not in the README's command table"
    for page in re.findall(r"\]\((docs/[\w.-]+)\)", README):
        assert (ROOT / page).is_file(), page


def test_the_architecture_file_tree_matches_the_packages():
    tree = (DOCS / "architecture.md").read_text(encoding="utf-8").split("## Files")[1].split("```")[1]
    named = set(re.findall(r"([\w]+\.py)", tree))
    packages = ("retrieval", "agent", "finetune", "ui", "evals")
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            if path.name != "__init__.py":
                assert path.name in named, f"{path.relative_to(ROOT)} is missing from docs/architecture.md"
    on_disk = {p.name for p in ROOT.glob("*/*.py")} | {p.name for k in packages for p in (ROOT / k).rglob("*.py")}
    assert named <= on_disk, named - on_disk


def test_no_product_module_is_over_500_lines():
    """A module that outgrows a screenful of screens is doing two things: split it by what it holds."""
    long = {str(p.relative_to(ROOT)): n for package in ("retrieval", "agent", "finetune", "ui")
            for p in (ROOT / package).rglob("*.py") if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500}
    assert not long, long


# --- owned child processes ----------------------------------------------------------------------------------

def test_stopping_a_child_ends_its_whole_group():
    child = Child.start(["sh", "-c", "sleep 60 & sleep 60 & wait"])
    deadline = time.time() + 5
    while len(child.alive()) < 3 and time.time() < deadline:
        time.sleep(0.05)
    assert len(child.alive()) == 3
    child.stop(grace=5)
    assert child.alive() == [] and child.poll() is not None


def test_a_child_dies_with_its_owner_even_after_sigkill(tmp_path):
    owner = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from retrieval.process import Child
        child = Child.start(["sleep", "60"])
        print(child.pgid, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", owner], stdout=subprocess.PIPE, text=True)
    group = int(parent.stdout.readline())
    assert group_members(group)
    parent.kill()
    parent.wait()
    deadline = time.time() + 5
    while group_members(group) and time.time() < deadline:
        time.sleep(0.05)
    assert group_members(group) == []


def test_a_demo_file_comes_from_the_package():
    from retrieval.settings import DEMO_DIR

    assert DEMO_DIR == ROOT / "retrieval" / "demo" and (ROOT / "data" / "demo" / "catalog.jsonl").is_file()
    assert Path(Settings.load().demo_catalog).samefile(ROOT / "data" / "demo" / "catalog.jsonl")


def test_a_home_given_as_an_argument_brings_its_own_config_file(tmp_path):
    other = tmp_path / "other-home"
    other.mkdir()
    (other / "config.toml").write_text('collection = "fm"\n')
    assert Settings.load(home=other).collection == "fm" and Settings.load().collection == "demo"
