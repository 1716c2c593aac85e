# OllyStack: build, run and test the otelcol-ollystack distribution and its component modules.
# Every target works from a fresh clone with only Go installed; tools are installed into .tools/bin
# at the versions pinned in internal/tools/go.mod.

SHELL        := /bin/bash
.SHELLFLAGS  := -eu -o pipefail -c
ROOT         := $(CURDIR)
TOOLS_BIN    := $(ROOT)/.tools/bin
BUILDER      := $(TOOLS_BIN)/builder
TELEMETRYGEN := $(TOOLS_BIN)/telemetrygen
DIST         := otelcol-ollystack
BINARY       := $(ROOT)/_build/$(DIST)
CONFIG       ?= distributions/$(DIST)/config.yaml
# ClickHouse's engine as a library (chDB), for the ClickHouse backend's tests without a server.
CHDB_VERSION := 26.7.3-stable.1
CHDB_URL     := https://registry.npmjs.org/@chdb/lib-linux-x64-gnu/-/lib-linux-x64-gnu-$(CHDB_VERSION).tgz
CHDB_SHA256  := c0d32b129e988f2b9a9a31c9141aecf5e1e2453f9a079efc4d36ab8e3f92b2ad
CHDB_LIB     := $(ROOT)/.tools/chdb-$(CHDB_VERSION)/libchdb.so
CHDBHTTP     := $(TOOLS_BIN)/chdbhttp
# Only the linux/amd64 library is pinned; elsewhere the tests that need it skip and say so.
CHDB_HOST    := $(filter Linux/x86_64,$(shell uname -s)/$(shell uname -m))

# Every Go module of the repository (the testbed runs separately, after the build).
ALL_MODULES  := $(sort $(patsubst %/go.mod,%,$(shell find . -name go.mod -not -path './_build/*' -not -path './.tools/*' -printf '%P\n')))
UNIT_MODULES := $(filter-out testbed,$(ALL_MODULES))

GO_TEST_FLAGS ?= -race -count=1 -timeout 20m
BENCH         ?= .
BENCH_FLAGS   ?= -run=^$$ -bench=$(BENCH) -benchmem -short
FUZZTIME      ?= 30s

.DEFAULT_GOAL := build
.PHONY: run build tools test test-unit test-e2e test-clickhouse loadtest lint bench fuzz tidy check-versions slo-rules clean

## tools: install the pinned OCB builder and telemetrygen into .tools/bin
tools: $(BUILDER) $(TELEMETRYGEN)

$(BUILDER) $(TELEMETRYGEN) &: internal/tools/go.mod internal/tools/go.sum
	cd internal/tools && GOWORK=off GOBIN=$(TOOLS_BIN) go install tool
	@touch $(BUILDER) $(TELEMETRYGEN)

## build: generate and compile the distribution into _build/otelcol-ollystack
build: $(BUILDER)
	GOWORK=off $(BUILDER) --config builder-config.yaml
	@./scripts/check-versions.sh builder-config.yaml _build
	@ls -l $(BINARY)

## run: build, then start the distribution with its default config (Ctrl-C stops it)
run: build
	exec $(BINARY) --config $(CONFIG)

## test: everything CI runs
test: check-versions lint test-unit test-clickhouse build test-e2e

## test-unit: every module's tests, with the race detector (in CI, installs Chromium first)
test-unit: $(if $(CI),chromium) $(if $(CHDB_HOST),$(CHDB_LIB))
	@for m in $(UNIT_MODULES); do \
		echo "==> go test $$m"; \
		(cd $$m && OLLYSTACK_CHDB_LIB=$(if $(CHDB_HOST),$(CHDB_LIB)) go test $(GO_TEST_FLAGS) ./...) || exit 1; \
	done

## test-e2e: end-to-end tests of the built binary (needs `make build`). The ClickHouse one runs
## against OLLYSTACK_CLICKHOUSE_DSN if set, else against chDB behind internal/chdbhttp (linux/amd64;
## elsewhere it skips).
test-e2e: $(TELEMETRYGEN) $(if $(CHDB_HOST),$(CHDB_LIB) $(CHDBHTTP))
	@with=; if [ -z "$${OLLYSTACK_CLICKHOUSE_DSN:-}" ] && [ -n "$(CHDB_HOST)" ]; then \
		with="./scripts/with-chdbhttp.sh $(CHDBHTTP) $(CHDB_LIB)"; fi; \
	set -x; OLLYSTACK_BINARY=$(BINARY) OLLYSTACK_TELEMETRYGEN=$(TELEMETRYGEN) \
		$$with go -C testbed test -count=1 -timeout 20m ./...

## chromium: install Debian's chromium (apt-get) for the synthetics receiver's browser checks and
## tests, when no chromium, chromium-browser or google-chrome is on PATH. `make test-unit` runs it
## only when CI is set; elsewhere run it yourself, or the browser tests skip and say why.
.PHONY: chromium
chromium:
	@if found=$$(command -v chromium || command -v chromium-browser || command -v google-chrome); then \
		echo "chromium: using $$found"; exit 0; fi; \
	sudo=; if [ "$$(id -u)" -ne 0 ]; then sudo=sudo; fi; \
	echo "chromium: installing Debian's chromium with apt-get"; \
	$$sudo apt-get update && $$sudo apt-get install -y chromium

## test-clickhouse: the signal store conformance suite against ClickHouse, fixtures written by the
## contrib clickhouse exporter in-process. With OLLYSTACK_CLICKHOUSE_DSN (tcp://host:9000 or
## http://host:8123; optional OLLYSTACK_CLICKHOUSE_DATABASE, default ollystack_conformance), against
## that server; without it, against ClickHouse's engine from chDB (libchdb, downloaded from npm and
## checked against its SHA-256) behind internal/chdbhttp, over HTTP and then over the native protocol
## (linux/amd64 only).
test-clickhouse:
	@if [ -n "$${OLLYSTACK_CLICKHOUSE_DSN:-}" ]; then \
		$(MAKE) --no-print-directory clickhouse-suite; \
	elif [ -z "$(CHDB_HOST)" ]; then \
		echo "test-clickhouse: SKIPPED, no ClickHouse: chDB is pinned for linux/amd64 only; set OLLYSTACK_CLICKHOUSE_DSN"; \
	else \
		$(MAKE) --no-print-directory $(CHDB_LIB) $(CHDBHTTP) && \
		./scripts/with-chdbhttp.sh $(CHDBHTTP) $(CHDB_LIB) bash -c '$(MAKE) --no-print-directory clickhouse-suite && \
			OLLYSTACK_CLICKHOUSE_DSN=$$OLLYSTACK_CLICKHOUSE_NATIVE_DSN OLLYSTACK_CLICKHOUSE_DATABASE=ollystack_conformance_native \
			$(MAKE) --no-print-directory clickhouse-suite'; \
	fi

.PHONY: clickhouse-suite
clickhouse-suite:
	cd pkg/signalstore && go test -count=1 -timeout 20m -run '^(TestConformance|TestSchemaIsIdempotent|TestIndexRowsOutliveTheirDay)$$' -v ./clickhouse/

## chdb: download libchdb.so (the ClickHouse engine of chDB, from npm) into .tools/chdb-<version>
.PHONY: chdb
chdb: $(CHDB_LIB)

$(CHDB_LIB):
	@if [ -z "$(CHDB_HOST)" ]; then echo "chdb: only the linux/amd64 library is pinned"; exit 2; fi
	mkdir -p $(@D)
	curl -fsSL --retry 3 -o $(@D)/lib.tgz $(CHDB_URL)
	echo "$(CHDB_SHA256)  $(@D)/lib.tgz" | sha256sum -c --quiet -
	tar -xzOf $(@D)/lib.tgz package/libchdb.so > $@.part
	rm $(@D)/lib.tgz
	mv $@.part $@

$(CHDBHTTP): $(wildcard internal/chdbhttp/*.go) internal/chdbhttp/go.mod internal/chdbhttp/go.sum
	cd internal/chdbhttp && CGO_ENABLED=0 go build -o $@ .

## loadtest: the testbed's load scenarios against the built binary; results in testbed/results/load.md
loadtest: build
	cd testbed && OLLYSTACK_LOAD=1 OLLYSTACK_BINARY=$(BINARY) go test -count=1 -timeout 60m -run '^TestLoad$$' -v .

## lint: gofmt and go vet on every module
lint:
	@out=$$(gofmt -l $(ALL_MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@for m in $(ALL_MODULES); do echo "==> go vet $$m"; (cd $$m && go vet ./...) || exit 1; done

## bench: every module's benchmarks (BENCH=regexp to narrow; -short skips the million-row fixtures)
bench:
	@for m in $(UNIT_MODULES); do \
		echo "==> go test -bench $$m"; \
		(cd $$m && go test $(BENCH_FLAGS) ./...) || exit 1; \
	done

## fuzz: run every fuzz target for FUZZTIME each
fuzz:
	@for m in $(UNIT_MODULES); do \
		for pkg in $$(cd $$m && go list ./...); do \
			for f in $$(cd $$m && go test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
				echo "==> fuzz $$pkg $$f"; \
				(cd $$m && go test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg) || exit 1; \
			done; \
		done; \
	done

## tidy: go mod tidy in every module, each on its own (as importers and OCB see it)
tidy:
	@for m in $(ALL_MODULES); do echo "==> tidy $$m"; (cd $$m && GOWORK=off go mod tidy) || exit 1; done

## check-versions: fail when a collector core or contrib module drifts from the pinned pair
check-versions:
	GOWORK=off ./scripts/check-versions.sh builder-config.yaml $(ALL_MODULES)

## slo-rules: regenerate the Prometheus rules of the shipped SLOs (distributions/otelcol-ollystack/slo)
slo-rules:
	go run ./connector/slometricsconnector/cmd/slorules --config $(CONFIG) > distributions/$(DIST)/slo/rules.yaml

clean:
	rm -rf _build .tools
