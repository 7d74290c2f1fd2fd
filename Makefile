# elasticpool — see README.md. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
GO ?= go
# Packages run in parallel, each against its own cloned database.
GOTEST_FLAGS ?= -count=1 -p 4 -timeout 20m
BIN := bin
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: run test test-go test-ui test-e2e services build images web migrate seed-demo lint fmt vet clean bench-coldstart bench-devicequery bench-orders bench-evaluate

## run: the whole system locally (all functions in one process, the UI, local Postgres and Redis)
run: services web
	$(GO) run ./cmd/elasticpool run

## test: every test (Go, UI component tests, browser end-to-end)
test: services lint test-go test-ui test-e2e

## services: make Postgres and Redis available on loopback
services:
	@bash scripts/services.sh

## test-go: Go tests against the real Postgres and Redis (and a real kube-apiserver, built once and cached)
test-go: services
	@bash scripts/kube-binaries.sh >/dev/null
	$(GO) test $(GOTEST_FLAGS) ./...

## test-ui: front-end component tests (Vitest)
test-ui:
	@if [ -f web/package.json ]; then $(MAKE) -C web test; else echo "test-ui: no web/ yet"; fi

## test-e2e: browser tests (Chromium via playwright-core) against a running local stack
test-e2e:
	@if [ -f web/package.json ]; then $(MAKE) -C web e2e; else echo "test-e2e: no web/ yet"; fi

## web: build the UI into web/dist (skipped when up to date)
web:
	@if [ -f web/package.json ]; then $(MAKE) -C web build; fi

## build: every binary into bin/ (bin/elasticpool, bin/<function>)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o $(BIN)/elasticpool ./cmd/elasticpool
	@for d in functions/*/cmd; do f=$$(basename $$(dirname $$d)); \
	  CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o $(BIN)/$$f ./$$d || exit 1; done

## images: every function's image with ko into bin/images.tar (no Docker daemon, nothing pushed)
images: web
	@bash scripts/ko-build.sh

## bench-coldstart: exec → first 200 on /healthz and binary size per function
bench-coldstart:
	$(GO) run ./bench/coldstart -write docs/benchmarks.md

## bench-devicequery: 1,000,000 devices, pipeline and preview queries against hand-written SQL (Markdown to stdout)
bench-devicequery: services
	$(GO) run ./bench/devicequery

## bench-orders: order list p50/p99 at 1,000,000 orders over HTTP, manual POST against the INSERT floor
bench-orders: services
	$(GO) run ./bench/orders

## bench-evaluate: daily evaluation of 10,000 cluster+pools against a COPY of the same rows
bench-evaluate: services
	$(GO) run ./bench/evaluate

migrate: services
	$(GO) run ./cmd/elasticpool migrate

seed-demo: services
	$(GO) run ./cmd/elasticpool seed-demo

## lint: gofmt, go vet and staticcheck (pinned; built once into the Go cache)
lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) run $(STATICCHECK) ./...
	@for t in kms_gcp kms_aws kms_azure; do $(GO) vet -tags $$t ./shared/clustercred/keepers || exit 1; done

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN) web/dist
