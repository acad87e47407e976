# Encore: two commands set everything up on a fresh machine.
#   make demo   create .venv, ingest the bundled demo catalog, answer a request
#   make test   create .venv, run ruff and the whole test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
ENCORE := $(VENV)/bin/encore
# The CPU build of torch lies on this machine's disk (PIP_FIND_LINKS); it is installed first so that no
# dependency pulls a multi-GB CUDA build.
TORCH  ?= torch==2.13.0

.PHONY: demo test lint venv bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

demo: venv
	$(ENCORE) setup
	$(ENCORE) recommend "rainy evening, something calm and a little sad" --k 5
	$(ENCORE) recommend "90s hip-hop for a road trip" --k 5
	$(ENCORE) recommend "我今天很伤感" --k 5

lint: venv
	$(VENV)/bin/ruff check .

test: lint
	$(PY) -m pytest -q

bench: venv
	$(PY) bench/retrieval.py

clean:
	rm -rf $(VENV) .pytest_cache
