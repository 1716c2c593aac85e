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
test: check-versions lint test-unit build test-e2e

## test-unit: every module's tests, with the race detector (in CI, installs Chromium first)
test-unit: $(if $(CI),chromium)
	@for m in $(UNIT_MODULES); do \
		echo "==> go test $$m"; \
		(cd $$m && go test $(GO_TEST_FLAGS) ./...) || exit 1; \
	done

## test-e2e: end-to-end tests of the built binary (needs `make build`)
test-e2e: $(TELEMETRYGEN)
	cd testbed && OLLYSTACK_BINARY=$(BINARY) OLLYSTACK_TELEMETRYGEN=$(TELEMETRYGEN) \
		go test -count=1 -timeout 20m ./...

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

## test-clickhouse: the signal store conformance suite against a real ClickHouse server, fixtures
## written by the contrib clickhouse exporter in-process (OLLYSTACK_CLICKHOUSE_DSN=tcp://host:9000,
## optional OLLYSTACK_CLICKHOUSE_DATABASE, default ollystack_conformance). Fails without the DSN, so a
## run that silently skipped cannot pass for a verified one.
test-clickhouse:
	@if [ -z "$${OLLYSTACK_CLICKHOUSE_DSN:-}" ]; then \
		echo "test-clickhouse: set OLLYSTACK_CLICKHOUSE_DSN (e.g. tcp://localhost:9000) to a ClickHouse server"; exit 2; fi
	cd pkg/signalstore && go test -count=1 -timeout 20m -run '^(TestConformance|TestSchemaIsIdempotent)$$' -v ./clickhouse/

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
