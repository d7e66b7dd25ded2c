# Two commands a newcomer needs: `make demo` and `make test`. Both bootstrap themselves:
# uv is installed with pip when missing, then the locked environment is synced.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")

.PHONY: bootstrap browser-deps demo test lint bench clean

bootstrap:
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@$(UV) sync --frozen --quiet

# The dashboard's browser test drives Debian's headless Chromium (never a browser download). Installed
# here when missing and possible (root + apt-get); elsewhere the test skips and says why.
browser-deps:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing chromium + chromium-driver (Debian packages) for the dashboard's browser test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null \
	    || echo "could not install chromium: the browser test will skip"; \
	else echo "chromium/chromedriver not found and not installable here: the browser test will skip"; fi

# make demo [SIM_PORT=8765] [UI_PORT=3000] [API_PORT=8000]; ARB_DATA_DIR=... chooses where its state lives
DEMO_ARGS = $(if $(SIM_PORT),--port $(SIM_PORT)) $(if $(UI_PORT),--ui-port $(UI_PORT)) $(if $(API_PORT),--api-port $(API_PORT))

demo: bootstrap
	@$(UV) run --frozen arb-pipeline demo $(DEMO_ARGS)

test: bootstrap browser-deps
	@$(UV) run --frozen pytest -q

lint: bootstrap
	@$(UV) run --frozen ruff check .

# Large snapshots for the end-to-end benchmarks are written once here (benchmarks/make_snapshot.py)
BENCH_DIR ?= .bench

bench: bootstrap
	@$(UV) run --frozen python benchmarks/make_snapshot.py --games 10000 --out $(BENCH_DIR)/snap10000 --reuse
	@$(UV) run --frozen python benchmarks/make_snapshot.py --games 5000 --out $(BENCH_DIR)/snap5000 --reuse
	@$(UV) run --frozen python benchmarks/bench_detect.py --snapshot $(BENCH_DIR)/snap10000
	@$(UV) run --frozen python benchmarks/bench_import.py
	@$(UV) run --frozen python benchmarks/bench_scan.py --dir $(BENCH_DIR)/snap5000 --repeat 5
	@$(UV) run --frozen python benchmarks/bench_resolve.py
	@$(UV) run --frozen python benchmarks/bench_pipeline_latency.py 2>/dev/null
	@$(UV) run --frozen python benchmarks/bench_api.py
	@$(UV) run --frozen python benchmarks/bench_scan_cadence.py --duration 120 --warmup 45

clean:
	rm -rf .venv .pytest_cache .ruff_cache .hypothesis
