# make demo — Saleor 3.23 with the after-sales app, sample data and known accounts
#             (make demo HOST=saleor2: the Saleor 2.10.1 shop with the plugin)
# make test — the whole test suite: real PostgreSQL, Redis, Saleor 2.10 and Saleor 3.23 (the app)
# make bench — the benchmarks (BENCH=query_counts|latency|scale|load), benchmarks/README.md
PORT ?= 8000
# Only a HOST given on make's command line counts (shells may export their own).
ifneq ($(origin HOST),command line)
HOST := saleor3
endif
DEMO_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/saleor_aftersales_demo
PYTHON := .venv/bin/python

.PHONY: env services test demo bench clean

env:
	@bin/bootstrap

services:
	@bin/services

test: env services
	$(PYTHON) -m pytest $(PYTEST_ARGS)
	@echo "The core's tests on Python 3.12 and Django 5.2 (.venv-app):"
	.venv-app/bin/python -m pytest tests/core --ds=tests.core.settings --confcutdir=tests/core -p no:cacheprovider \
		-W ignore::pytest.PytestConfigWarning -q
	@echo "The Saleor 3.23 app against a real Saleor 3.23.28 (.venv-app, .venv-saleor3):"
	.venv-app/bin/python -m pytest tests/saleor3 --ds=saleor_aftersales.hosts.saleor3.settings \
		--confcutdir=tests/saleor3 --liveserver=127.0.0.1 -p no:cacheprovider \
		-W ignore::pytest.PytestConfigWarning -q

demo: env services
	AFTERSALES_DEMO_HOST=$(HOST) DATABASE_URL=$(DEMO_DATABASE_URL) PORT=$(PORT) bin/demo

bench:
	bin/bench $(BENCH)

clean:
	rm -rf .venv
