# Inlet developer commands. `make dev` and `make test` are all a fresh machine needs.
SHELL := /bin/bash
PYTHON_BIN ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
WEB_STAMP := frontend/node_modules/.package-lock.json
STAGE ?=
CDK := npx --yes aws-cdk@2
CDK_APP := $(PY) -m infra.app

.PHONY: help install dev test test-fast test-py test-web test-e2e test-localstack web openapi bench-hash bench-upload bench-load bench-coldstart bench-pages bench-keepalive bench-create bench-pump bench-manifest synth deploy destroy lint fmt migrate clean

help: ## List the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt requirements-infra.txt pyproject.toml
	@test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(WEB_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	@touch $@

# The Uppy 6 fixture app of the browser tests has packages of its own: its @uppy/aws-s3 6 needs
# @uppy/core 6, and frontend/node_modules holds the page's Uppy 5.
UPPY6_STAMP := frontend/e2e/uppy6-app/node_modules/.package-lock.json
$(UPPY6_STAMP): frontend/e2e/uppy6-app/package.json frontend/e2e/uppy6-app/package-lock.json
	npm ci --prefix frontend/e2e/uppy6-app --no-audit --no-fund
	@touch $@

install: $(STAMP) $(WEB_STAMP) $(UPPY6_STAMP) ## Create .venv and frontend/node_modules, install everything

web: $(WEB_STAMP) ## Build the web page into frontend/dist
	cd frontend && npm run build

dev: install web ## Run the whole stack on embedded defaults and print the URLs
	$(PY) -m local.stack

migrate: install ## Apply migrations to DATABASE_URL (default: the dev SQLite file)
	$(VENV)/bin/alembic upgrade head

# Every suite runs, whatever failed before it; the summary names the failed ones and the exit
# code is non-zero if any failed.
SUITES := test-py test-localstack test-web test-e2e
test: install ## Run every test suite, report each, fail at the end if any failed
	@failed=""; for suite in $(SUITES); do \
	  echo "=== make $$suite"; \
	  $(MAKE) --no-print-directory $$suite || failed="$$failed $$suite"; \
	done; \
	echo "=== suites: $(SUITES)"; \
	if [ -n "$$failed" ]; then echo "=== FAILED:$$failed"; exit 1; fi; \
	echo "=== all suites passed"

test-fast: install ## Inner loop: unit and integration tests in parallel, slow ones left out
	$(PY) -m pytest -n auto -m "not slow" tests/unit tests/integration $(PYTEST_ARGS)

test-py: install ## The Python suite (unit, integration, deploy) with coverage of chalicelib/
	$(PY) -m pytest -n 2 --cov=chalicelib --cov-report=term --cov-fail-under=85 $(PYTEST_ARGS)

test-localstack: install ## Integration tests against LocalStack on the host (own Python 3.13 venv)
	$(PY) -m local.localstack test $(LOCALSTACK_ARGS)

test-web: $(WEB_STAMP) ## Frontend unit and component tests (Vitest)
	cd frontend && npm test

test-e2e: install ## Browser tests (Playwright in Debian's Chromium) against the real dev stack
	cd frontend && npm run e2e

bench-upload: install ## Benchmark: inlet upload --wait vs the old client, boto3, aws s3 cp, 1 GiB
	$(PY) bench/bench_upload.py --size-mib 1024 --rounds 3 $(BENCH_ARGS)

bench-load: install ## Benchmark: 200 clients, 400 runs, 2,000 uploads against a local stack (loopback)
	$(PY) bench/load_test.py $(LOAD_ARGS)

bench-hash: install ## Benchmark: the event handler's hashing vs download-then-hash (moto)
	$(PY) bench/bench_hash.py --size-mib 1024 $(BENCH_ARGS)

bench-coldstart: install ## Benchmark: each Lambda function's cold import from the built package
	$(PY) bench/bench_coldstart.py $(BENCH_ARGS)

bench-pages: install ## Benchmark: GET /v1/runs first and deepest pages, filters, on Postgres
	$(PY) bench/bench_pages.py $(BENCH_ARGS)

bench-keepalive: install ## Benchmark: local API requests on kept-alive vs fresh connections
	$(PY) bench/bench_keepalive.py $(BENCH_ARGS)

bench-create: install ## Benchmark: POST /v1/uploads with 1, 20 and 200 multipart files
	$(PY) bench/bench_create.py $(BENCH_ARGS)

bench-pump: install ## Benchmark: small objects/s through the local queue pump, end to end
	$(PY) bench/bench_pump.py $(BENCH_ARGS)

bench-manifest: install ## Benchmark: the archive manifest processor vs its limit and the naive way
	$(PY) bench/bench_manifest.py $(BENCH_ARGS)

synth: install web ## Synthesize the AWS stack offline into cdk.out (STAGE=dev by default)
	CDK_OUTDIR=cdk.out CDK_CONTEXT_JSON='{"stage": "$(or $(STAGE),dev)"}' $(CDK_APP)

deploy: install web ## Deploy a stage to AWS: make deploy STAGE=dev (docs/deploy.md)
	@test -n "$(STAGE)" || { echo "usage: make deploy STAGE=dev"; exit 2; }
	$(CDK) deploy --app "$(CDK_APP)" -c stage=$(STAGE) $(CDK_ARGS)

destroy: install ## Delete a stage from AWS: make destroy STAGE=dev
	@test -n "$(STAGE)" || { echo "usage: make destroy STAGE=dev"; exit 2; }
	$(CDK) destroy --app "$(CDK_APP)" -c stage=$(STAGE) $(CDK_ARGS)

lint: install $(WEB_STAMP) ## ruff, mypy (strict on chalicelib/, local/, inlet/), ESLint, contract drift
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	cd frontend && npm run lint && npm run api:check && npx tsc -p e2e/uppy6-app --noEmit

openapi: install $(WEB_STAMP) ## Rewrite docs/openapi.json from the models, and the page's types from it
	$(PY) -c "import json; from chalicelib.openapi import document; \
	print(json.dumps(document(), indent=2, ensure_ascii=False))" > docs/openapi.json
	cd frontend && npm run api:types

fmt: install ## Format and fix what can be fixed automatically
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean: ## Remove the venv, caches and local state (.inlet/)
	rm -rf $(VENV) .venv-localstack cdk.out .inlet frontend/node_modules frontend/e2e/uppy6-app/node_modules frontend/dist .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
