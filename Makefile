# The two commands of README.md: `make run` and `make test`. Each does its own set-up.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip

.PHONY: run test install install-dev install-system bench lint

install:
	$(PIP) install -q -r requirements.txt

install-dev:
	$(PIP) install -q -r requirements-dev.txt

install-system:
	bash .ci/install-system.sh

## Serve the dashboard on embedded defaults: demo data, local Ray, filesystem cache.
run: install
	$(PYTHON) -m gunicorn -c gunicorn.conf.py

## Full test suite, browser tests included (headless Debian chromium).
test: install-system install-dev
	$(PYTHON) -m pytest --headless

bench: install-dev
	$(PYTHON) benchmarks/bench_backtest.py
	$(PYTHON) benchmarks/bench_sweep.py
