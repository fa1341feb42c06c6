# IPM: the two commands are `make demo` and `make test`.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := libs/ipm_common services/strategy services/projects services/forecast services/performance tools/ipm_cli
export IPM_DATA_DIR ?= $(CURDIR)/examples/data

.PHONY: venv demo test lint typecheck unit integration e2e bench-performance bench-forecast bench-variance clean faults faults-quick

$(VENV)/.installed: constraints.txt requirements/runtime.in requirements/dev.in $(addsuffix /pyproject.toml,$(PACKAGES))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip==26.3"
	$(BIN)/pip install --quiet -c constraints.txt -r requirements/runtime.in -r requirements/dev.in
	$(BIN)/pip install --quiet --no-deps $(addprefix -e ,$(PACKAGES))
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(BIN)/ipm demo

lint: venv
	$(BIN)/ruff check .

typecheck: venv
	$(BIN)/mypy libs/ipm_common/ipm_common services/forecast/ipm_forecast services/strategy/ipm_strategy \
		services/projects/ipm_projects services/performance/ipm_performance tools/ipm_cli/ipm_cli

unit: venv
	$(BIN)/pytest -m "not integration and not e2e" -q

integration: venv
	$(BIN)/pytest -m "integration" -q

e2e: venv
	$(BIN)/pytest -m "e2e" -q

test: lint typecheck
	$(BIN)/pytest -q

$(VENV)/.bench-installed: $(VENV)/.installed requirements/bench.in
	$(BIN)/pip install --quiet -r requirements/bench.in
	touch $@

bench-performance: venv
	$(BIN)/python bench/performance_batch.py --series 38 --months 24

bench-forecast: $(VENV)/.bench-installed
	$(BIN)/python bench/forecast_bench.py

bench-variance: $(VENV)/.bench-installed
	$(BIN)/python bench/variance_bench.py

faults: venv
	$(BIN)/ipm faults

faults-quick: venv
	$(BIN)/ipm faults --quick

clean:
	rm -rf $(VENV) .demo data
