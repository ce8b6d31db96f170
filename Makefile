GO      ?= go
BIN     ?= bin/rscale
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS := -X github.com/rscale/rscale/cmd.version=$(VERSION) -X github.com/rscale/rscale/cmd.commit=$(COMMIT)
# Short runs of every fuzz target, on top of their seed corpora that `go test` always runs.
FUZZTIME ?= 10s

# make demo: where the seed's echo/plot/sum API is deployed, and the port it is served on.
DEMO_DIR      ?= $(CURDIR)/bin/demo
DEMO_PORT     ?= 8080
DEMO_REPLICAS ?= 10

# The end-to-end tests and the benchmark suite, which need the real engines; the unit tests
# are every other package's.
E2E_PKGS   = ./internal/e2e ./internal/bench
UNIT_PKGS  = $(or $(filter-out %/internal/e2e %/internal/bench,$(shell $(GO) list ./...)),$(error go list ./... listed no package))
# -p 1: one package at a time, so the timing tests of one do not share the CPUs with the
# end-to-end tests of another.
TEST_FLAGS = -p 1 -count=1 -timeout 50m
# BENCH_QUICK=1 adds a small run of every benchmark scenario, to check the suite works.
E2E_TEST   = BENCH_QUICK=1 $(GO) test $(TEST_FLAGS) $(E2E_PKGS)

.PHONY: build install test unit e2e lint bench fuzz golden demo demo-down clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

install:
	$(GO) install -ldflags "$(LDFLAGS)" .

# The test command, which CI runs (.ci/run): formatting, vet, the unit tests in full, then the
# end-to-end tests. As one `go test ./...` did, the end-to-end tests run even when a unit test
# failed, and the command fails if either did.
test: lint
	status=0; $(GO) test $(TEST_FLAGS) $(UNIT_PKGS) || status=1; $(E2E_TEST) || status=1; exit $$status

# The fast loop: formatting, vet, and the unit tests (fuzz seed corpora included), with no
# Docker or Kubernetes engine. -short skips the one unit test that starts the Kubernetes test
# cluster, internal/harness/kubernetes's own; make test runs it. R and haproxy, where they
# are installed, run the generated launcher, health check and configuration.
unit: lint
	$(GO) test -short $(TEST_FLAGS) $(UNIT_PKGS)

# The end-to-end tests on the real engines (Docker and Swarm, the three-node swarm, the
# Kubernetes test cluster, R), then the benchmark suite's quick run.
e2e:
	$(E2E_TEST)

# Every benchmark scenario in full, on this machine's Docker engine; writes $(BENCH_REPORT).
BENCH_REPORT ?= $(CURDIR)/bin/bench/REPORT.md
bench:
	@mkdir -p bin
	@{ BENCH_REPORT=$(BENCH_REPORT) $(GO) test -count=1 -timeout 2h -run '^TestBenchScenarios$$' -v ./internal/bench 2>&1; echo $$? > bin/bench.status; } \
		| tee bin/bench.log | grep --line-buffered -E '^=== RUN|took [0-9]|^(--- |ok|FAIL)'
	@exit $$(cat bin/bench.status)
	@echo "report: $(BENCH_REPORT) (full log: bin/bench.log)"

lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...

fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzTokenize$$' -fuzztime=$(FUZZTIME) ./pkg/rlex/
	$(GO) test -run='^$$' -fuzz='^FuzzScan$$' -fuzztime=$(FUZZTIME) ./pkg/rdeps/
	$(GO) test -run='^$$' -fuzz='^FuzzParseAnnotations$$' -fuzztime=$(FUZZTIME) ./pkg/plumber/
	$(GO) test -run='^$$' -fuzz='^FuzzEntrypoint$$' -fuzztime=$(FUZZTIME) ./pkg/plumber/

# Rewrite the golden files from what the code produces now; review the diff before committing.
# -update goes only to the packages whose tests import internal/golden, which defines it.
GOLDEN_PKGS = $(shell $(GO) list -f '{{.ImportPath}}{{range .TestImports}} {{.}}{{end}}{{range .XTestImports}} {{.}}{{end}}' ./... \
	| awk '{ for (i = 2; i <= NF; i++) if ($$i == "github.com/rscale/rscale/internal/golden") { print $$1; break } }')
golden:
	$(GO) test -count=1 $(GOLDEN_PKGS) -update

# From a machine with Go and Docker to the seed's API on $(DEMO_REPLICAS) R replicas behind HAProxy,
# then a request served. With no image registry (docker pull fails), the R and HAProxy images
# are built from Debian's packages instead of rocker/r-ver and haproxy from Docker Hub.
demo: build
	rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR) && cp -R testdata/projects/echo/. $(DEMO_DIR)/
	@set -e; \
	if docker pull -q haproxy:3.2.23 >/dev/null 2>&1; then \
		images=""; \
	else \
		echo "No image registry here: building R and HAProxy images from Debian's packages."; \
		bash testdata/images/build.sh r-base haproxy; \
		images="--base-image rscale-test/r-base:bookworm --proxy-image rscale-test/haproxy:bookworm"; \
	fi; \
	$(BIN) init $(DEMO_DIR) --force --name rscale-demo --proxy haproxy --replicas $(DEMO_REPLICAS) --proxy-port $(DEMO_PORT) $$images; \
	$(BIN) deploy $(DEMO_DIR); \
	echo; echo "curl 'http://localhost:$(DEMO_PORT)/echo?msg=hello'"; \
	curl -fsS --retry 20 --retry-delay 1 --retry-all-errors 'http://localhost:$(DEMO_PORT)/echo?msg=hello'; echo; \
	echo; echo "Scale it with '$(BIN) scale model_server=20 --dir $(DEMO_DIR)', remove it with 'make demo-down'."

demo-down:
	$(BIN) down $(DEMO_DIR)

clean:
	rm -rf bin

# Rewrite the CLI reference in docs/cli from the commands' help (TestCLIReferenceIsCurrent checks it).
.PHONY: docs
docs:
	rm -rf docs/cli && $(GO) run ./internal/clidoc/gen docs/cli
