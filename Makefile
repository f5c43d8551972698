# One entry point for developers and CI. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: help system venv controlplane node test unit e2e demo render dist bench lint docs clean

help:  ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# what tests/system-packages.sh checks (and installs as root with apt-get)
SYSTEM_NEEDS := venv openssl npm chromium
demo: SYSTEM_NEEDS := venv openssl npm

system:  ## the machine's packages for the tests (apt-get as root; otherwise says what to install)
	@PYTHON=$(PYTHON) bash tests/system-packages.sh $(SYSTEM_NEEDS)

$(BIN)/tox: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet tox -e '.[test,e2e]'
	@touch $@

venv: $(BIN)/tox  ## a development virtualenv in .venv (the package, test deps, tox)

controlplane:  ## build the test cluster's control plane and kubectl from Go modules (cached; builds only what is missing)
	bash tests/controlplane/build.sh

tests/e2e/node_modules/.package-lock.json: tests/e2e/package.json tests/e2e/package-lock.json
	npm ci --prefix tests/e2e --no-audit --no-fund
	@touch $@

node: tests/e2e/node_modules/.package-lock.json  ## configurable-http-proxy for the e2e tests and the demo (npm ci)

test: system venv controlplane node  ## everything CI runs: every suite, the lowest versions (min), lint, types, docs
	PROFILESPAWNER_REQUIRE_K8S=$${PROFILESPAWNER_REQUIRE_K8S:-1} $(BIN)/tox run

unit: venv  ## the unit suite alone (no cluster, about a minute)
	$(BIN)/pytest tests/unit -q

e2e: system venv controlplane node  ## the end-to-end suite alone: a real JupyterHub, the scheduler, the test nodes, Chromium
	PROFILESPAWNER_REQUIRE_K8S=$${PROFILESPAWNER_REQUIRE_K8S:-1} $(BIN)/pytest tests/e2e -q

demo: system venv controlplane node  ## the main job: JupyterHub with profilespawner at http://127.0.0.1:8000 on a local cluster, a kubeconfig for kubectl (Ctrl-C stops)
	$(BIN)/python -m tests.e2e.demo

render: venv  ## without a cluster: the pod a user gets from examples/profiles.yaml
	$(BIN)/profilespawner render examples/profiles.yaml \
		--user alice --group data-science \
		--image quay.io/thoth-station/s2i-spark-notebook:3.6 --size Small

dist: venv  ## the sdist and the wheel in dist/, checked (contents, twine check)
	rm -rf dist
	$(BIN)/python -m build --quiet --outdir dist .
	PROFILESPAWNER_DIST_DIR=$(CURDIR)/dist $(BIN)/pytest -q -p no:cacheprovider tests/packaging/test_distributions.py
	@ls -l dist

bench: venv  ## benchmarks: results table and plots in benchmarks/results/ (about 15 minutes)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/run.py

lint: venv  ## ruff, the import layers (import-linter) and mypy through tox
	$(BIN)/tox run -e lint,type

docs: venv  ## build the docs into docs/_build/html
	$(BIN)/tox run -e docs

clean:  ## remove build products (not the control-plane cache)
	rm -rf .tox docs/_build build dist *.egg-info test-artifacts
