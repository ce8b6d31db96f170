GO      ?= go
BIN     ?= bin/rscale
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/rscale/rscale/cmd.version=$(VERSION)
# Short runs of every fuzz target, on top of their seed corpora that `go test` always runs.
FUZZTIME ?= 10s

.PHONY: build install test lint fuzz golden clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

install:
	$(GO) install -ldflags "$(LDFLAGS)" .

# The test command: formatting, vet, then every test (fuzz seed corpora included).
test: lint
	$(GO) test -count=1 ./...

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
golden:
	$(GO) test ./... -update

clean:
	rm -rf bin
