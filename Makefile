# patchready — every target is a line or two; see README.md.
GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: run test build generate lint bench clean

run: build
	./bin/patchready serve

test:
	$(GO) test -race -count=1 ./...

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/patchready ./cmd/patchready

generate:
	$(GO) tool templ generate

lint:
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./agent ./cmd/patchready
	GOOS=windows $(GO) build -o /dev/null ./cmd/patchready
	$(GO) tool staticcheck ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

bench: build
	./bench/run.sh

clean:
	rm -rf bin bench/data
