# Two commands a newcomer needs: `make demo` and `make test`. Both bootstrap themselves:
# uv is installed with pip when missing, then the locked environment is synced.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")

.PHONY: bootstrap demo test lint bench clean

bootstrap:
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@$(UV) sync --frozen --quiet

demo: bootstrap
	@$(UV) run --frozen arb-pipeline demo

test: bootstrap
	@$(UV) run --frozen pytest -q

lint: bootstrap
	@$(UV) run --frozen ruff check .

bench: bootstrap
	@$(UV) run --frozen python benchmarks/bench_detect.py
	@$(UV) run --frozen python benchmarks/bench_resolve.py
	@$(UV) run --frozen python benchmarks/bench_pipeline_latency.py 2>/dev/null

clean:
	rm -rf .venv .pytest_cache .ruff_cache .hypothesis
