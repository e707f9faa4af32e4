# Two commands for a newcomer: `make run` (set up + serve the chat) and `make test`.
# Every step is idempotent: a second run skips what is already done.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 7860
HOST   ?= 127.0.0.1
STAMP  := $(VENV)/.installed

.PHONY: run test setup prepare lint typecheck pytest evalgate load bench clean-venv

# `serve` itself converts the model and (re)builds the index when needed, then serves.
run: setup
	PORT=$(PORT) $(BIN)/reperes serve --host $(HOST) --port $(PORT)

test: prepare lint typecheck pytest evalgate

# torch==2.13.0 first: it resolves to the CPU build on disk; a plain `torch` pulls CUDA (GBs).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev,llm]'
	touch $(STAMP)

setup: $(STAMP)

# Convert the bundled model (once) and (re)build the index when missing or stale.
prepare: setup
	$(BIN)/reperes ingest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/python -m pytest

# Quality gate: the five development sets (both halves) must stay above the thresholds of assistant/settings.py
# (report in out/eval/).
evalgate: prepare
	$(BIN)/reperes eval --set eval/data/dev.jsonl,eval/data/dev-broad.jsonl,eval/data/dev-adversarial.jsonl,eval/data/dev-conversations.jsonl,eval/data/dev-conversations-broad.jsonl --gate --report out/eval --no-progress

# Load test on loopback (not part of `make test`): 50 users for 60 s, then 200 for 30 s, through the API.
# `$(BIN)/python -m eval.load --quick` for a 10 s smoke run.
load: prepare
	$(BIN)/python -m eval.load

# Benchmark (not part of `make test`, under 10 minutes on 2 cores): ours beside the textbook LangChain pipeline,
# then 10k, 100k and 1M synthetic chunks; table printed, JSON in out/bench/bench.json.
bench: prepare
	$(BIN)/reperes bench

clean-venv:
	rm -rf $(VENV)
