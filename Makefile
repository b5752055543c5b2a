# The two commands of README.md: `make run` and `make test`. Each does its own set-up.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip
PYTEST = $(PYTHON) -m pytest --headless
# make test-busy: time limits of the tests (tests/support/timing.py) scaled for two busy cores.
BUSY_TIME_FACTOR ?= 4

.PHONY: run test test-busy install install-dev install-system bench lint

install:
	$(PIP) install -q -r requirements.txt

install-dev:
	$(PIP) install -q -r requirements-dev.txt

install-system:
	bash .ci/install-system.sh

## Serve the dashboard on embedded defaults: demo data, local Ray, filesystem cache.
run: install
	@# The numba kernels compiled into their disk cache once, before the workers start: each
	@# compute process then loads them (~1 s) instead of all compiling at once on a fresh clone
	@# (the first backtest took 12-57 s); the image and the AMI bake the cache at build time.
	$(PYTHON) -c "import engine; engine.warm_up_kernels()"
	$(PYTHON) -m gunicorn -c gunicorn.conf.py

## Full test suite, browser tests included (headless Debian chromium).
test: install-system install-dev
	$(PYTEST)

## The same suite with both cores kept busy by a CPU hog (stress-ng), as on a loaded machine.
## The hog is started before and killed after, also when the tests fail.
test-busy: install-system install-dev
	@stress-ng --cpu 2 --quiet & hog=$$!; \
	trap 'kill $$hog 2>/dev/null; wait $$hog 2>/dev/null' EXIT; \
	SPL_TEST_TIME_FACTOR=$${SPL_TEST_TIME_FACTOR:-$(BUSY_TIME_FACTOR)} $(PYTEST)

## Static checks: ruff (lint and format), mypy over engine/, import-linter's layer contracts.
## All four run; the target fails if any of them does.
lint: install-dev
	@rc=0; \
	$(PYTHON) -m ruff check . || rc=1; \
	$(PYTHON) -m ruff format --check . || rc=1; \
	$(PYTHON) -m mypy || rc=1; \
	lint-imports || rc=1; \
	exit $$rc

bench: install-dev
	$(PYTHON) benchmarks/bench_backtest.py
	$(PYTHON) benchmarks/bench_sweep.py
