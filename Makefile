# make demo — a Saleor 2.10.1 shop with the plugin, sample data and known accounts
# make test — the whole test suite against real PostgreSQL, Redis and Saleor
# make bench — the benchmarks (BENCH=query_counts|latency|scale|load), benchmarks/README.md
PORT ?= 8000
DEMO_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/saleor_aftersales_demo
PYTHON := .venv/bin/python

.PHONY: env services test demo bench clean

env:
	@bin/bootstrap

services:
	@bin/services

test: env services
	$(PYTHON) -m pytest $(PYTEST_ARGS)

demo: env services
	DATABASE_URL=$(DEMO_DATABASE_URL) PORT=$(PORT) bin/demo

bench:
	bin/bench $(BENCH)

clean:
	rm -rf .venv
