# shequn — `make demo` runs the main job, `make test` the tests. Each builds .venv itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench lint clean assets

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.bench: pyproject.toml $(VENV)/.dev
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

# Apache ECharts for the HTML reports, from npm at build time (never from a CDN).
ECHARTS := src/shequn/reports/vendor/echarts.min.js
$(ECHARTS): scripts/fetch-assets.sh
	sh scripts/fetch-assets.sh

assets: $(ECHARTS)

demo: $(VENV)/.dev $(ECHARTS)
	$(BIN)/python scripts/demo.py $(DEMO_ARGS)

test: $(VENV)/.dev $(ECHARTS)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

METRICS_EVENTS ?= 10000000
SOP_MEMBERS ?= 1000000
SOP_TICK_MEMBERS ?= 100000
bench: $(VENV)/.bench
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/metrics_bench.py --events $(METRICS_EVENTS)
	$(BIN)/python benchmarks/sop_bench.py --no-loop --members $(SOP_MEMBERS)
	$(BIN)/python benchmarks/sop_bench.py --members 100000 --repeat 5
	$(BIN)/python benchmarks/sop_bench.py --tick --members $(SOP_TICK_MEMBERS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build src/*.egg-info demo-workspace
