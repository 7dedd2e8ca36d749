# hf_ser developer entry points. `make demo` and `make test` are the two set-up commands of the README.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# No network is needed after setup: fail fast instead of waiting on the Hub, keep wandb local.
OFFLINE := HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 WANDB_MODE=offline

.PHONY: setup demo test test-slow test-slow-container lint bench clean-demo

setup: $(STAMP)

# Re-install only when the dependency list changes; quiet when already done.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	@touch $(STAMP)

# One thread: the demo model is tiny, and thread hand-offs cost more than they save (x10 on a busy 2-core box).
demo: setup
	$(OFFLINE) OMP_NUM_THREADS=1 $(BIN)/accelerate launch --num_processes 1 --num_machines 1 --mixed_precision no --dynamo_backend no \
		hf_ser/train.py recipes/demo/ravdess_tiny.yaml

# Two pytest workers, one per core, each torch process on one thread (two-thread processes on two cores run ~10x
# slower); a test file stays on one worker, so its module fixtures (a shared training run) are built once.
test: setup
	$(BIN)/ruff check hf_ser tests scripts benchmarks
	$(OFFLINE) OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 --dist loadfile

test-slow: setup
	$(OFFLINE) $(BIN)/python -m pytest -q -m slow

# hf_ser's training path against the HF Trainer baseline (figures in docs/performance.md), ~15 min on 2 cores.
bench: setup
	$(OFFLINE) $(BIN)/hf-ser bench --out runs/bench/bench.json

test-slow-container: setup
	$(OFFLINE) $(BIN)/python -m pytest -q -m slow tests/test_container.py

lint: setup
	$(BIN)/ruff check hf_ser tests scripts benchmarks

clean-demo:
	rm -rf runs/demo
