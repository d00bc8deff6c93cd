# porttop — see `make help`.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/porttop
ARGS  ?=
BENCH_PACKETS ?= 3000000
SUDO  := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help deps build run test bench lint fuzz testdata clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

deps: ## install what is missing: libpcap headers (apt-get), tmux for the end-to-end test
	@if ! echo '#include <pcap.h>' | cc -E - >/dev/null 2>&1; then \
		echo "installing libpcap-dev"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libpcap-dev >/dev/null; \
	fi
	@if ! command -v tmux >/dev/null; then \
		echo "installing tmux"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq tmux >/dev/null; \
	fi
	@$(GO) mod download

build: deps ## build bin/porttop
	$(GO) build -o $(BIN) ./cmd/porttop

run: build ## build and run the dashboard (ARGS="-i lo" to pass flags); needs root or capabilities
	$(BIN) $(ARGS)

test: deps ## go vet and the whole test suite with the race detector (fuzz seed corpora included)
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

lint: ## gofmt, go vet
	@out=$$(gofmt -l cmd internal); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fuzz: deps ## run each fuzz target for 30 s
	$(GO) test -run '^$$' -fuzz=FuzzDecode -fuzztime=30s ./internal/decode/
	$(GO) test -run '^$$' -fuzz=FuzzNewReader -fuzztime=30s ./internal/capture/
	$(GO) test -run '^$$' -fuzz=FuzzParse -fuzztime=30s ./internal/portset/

testdata: ## regenerate the reference captures in testdata/
	$(GO) run ./cmd/pcapgen -scenario testdata -o testdata/reference.pcap
	$(GO) run ./cmd/pcapgen -scenario testdata -format pcapng -gzip -o testdata/reference.pcapng.gz

bench: build ## per-packet benchmarks, then whole-program throughput against bare read loops, tcpdump and nmap
	@command -v tcpdump >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq tcpdump >/dev/null; }
	@command -v nmap >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nmap >/dev/null; }
	$(GO) test -run '^$$' -bench . -benchtime 2000000x ./internal/engine/ ./internal/decode/
	$(GO) test -run '^$$' -bench 'BenchmarkRead' ./internal/capture/
	$(GO) build -o bin/benchcmp ./cmd/benchcmp
	bin/benchcmp -porttop $(BIN) -n $(BENCH_PACKETS)

clean: ## remove build outputs
	rm -rf bin
