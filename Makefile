# shequn — `make demo` runs the main job, `make test` the tests. Each builds .venv itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench lint clean assets synapse

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.bench: pyproject.toml $(VENV)/.dev
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

# Apache ECharts (reports, console) and HTMX (console), from npm at build time (never a CDN).
ECHARTS := src/shequn/reports/vendor/echarts.min.js
HTMX := src/shequn/web/static/vendor/htmx.min.js
$(ECHARTS) $(HTMX) &: scripts/fetch-assets.sh
	sh scripts/fetch-assets.sh

assets: $(ECHARTS) $(HTMX)

demo: $(VENV)/.dev $(ECHARTS) $(HTMX)
	$(BIN)/python scripts/demo.py $(DEMO_ARGS)

# A real Synapse homeserver for the Matrix tests, in its own venv (tests/platforms/synapse.py).
SYNAPSE_VENV := .venv-synapse
$(SYNAPSE_VENV)/bin/synctl:
	$(PY) -m venv $(SYNAPSE_VENV)
	$(SYNAPSE_VENV)/bin/pip install --quiet matrix-synapse

synapse: $(SYNAPSE_VENV)/bin/synctl

test: $(VENV)/.dev $(ECHARTS) $(HTMX) synapse
	$(BIN)/python -m pytest $(PYTEST_ARGS)

METRICS_EVENTS ?= 10000000
SOP_MEMBERS ?= 1000000
SOP_TICK_MEMBERS ?= 100000
MEMBERS_MEMBERS ?= 1000000
MEMBERS_EVENTS ?= 10000000
bench: $(VENV)/.bench synapse
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/metrics_bench.py --events $(METRICS_EVENTS)
	$(BIN)/python benchmarks/sop_bench.py --no-loop --members $(SOP_MEMBERS)
	$(BIN)/python benchmarks/sop_bench.py --members 100000 --repeat 5
	$(BIN)/python benchmarks/sop_bench.py --tick --members $(SOP_TICK_MEMBERS)
	$(BIN)/python benchmarks/ingest_bench.py
	$(BIN)/python benchmarks/live_bench.py
	$(BIN)/python benchmarks/bot_bench.py
	$(BIN)/python benchmarks/members_bench.py --members $(MEMBERS_MEMBERS) --events $(MEMBERS_EVENTS)
	$(BIN)/python benchmarks/members_cli_bench.py --members $(MEMBERS_MEMBERS) --events $(MEMBERS_EVENTS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(SYNAPSE_VENV) build src/*.egg-info demo-workspace
