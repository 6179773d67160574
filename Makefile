# EDM Shop. `make run` starts everything in one process; `make test` tests every module.
# A go.work root is not a module, so `go test ./...` here would fail: each target walks the modules.

MODULES := api platform order-service inventory-service payment-service notification-service sandbox stack e2e edmctl loadgen
BINARIES := order-service inventory-service payment-service payment-gateway notification-service smtp-sink stack edmctl

.PHONY: run test unit bench bench-stack fuzz build stack fmt vet infra-up infra-down infra-status

## run: the sandbox: in-process Kafka on 127.0.0.1:9092, embedded stores, all services (Ctrl-C stops)
## (the first build compiles every package, C bindings included: it shows a running count; later
## builds come from Go's build cache in seconds)
run:
	@echo "building bin/sandbox..."
	@mkdir -p bin && scripts/build-progress.sh -o bin/sandbox ./sandbox/cmd/sandbox
	exec ./bin/sandbox

## test: every module's tests; suites needing MariaDB, DynamoDB Local or Kafka skip unless
## their env is set (see `scripts/infra.sh env`; .ci/run sets it)
test:
	@set -e; for m in $(MODULES); do echo "== $$m"; (cd $$m && go test -count=1 -timeout 40m ./...); done

## fuzz: each native Go fuzz target for FUZZTIME (default 60s); `make test` already runs their
## checked-in seed corpora (testdata/fuzz/<target>). A failing input is saved there: commit it.
FUZZTIME ?= 60s
FUZZ_TARGETS := order-service:./ports:FuzzPlaceOrder platform:./kafka:FuzzFromKafka platform:./event:FuzzDecode
fuzz:
	scripts/fuzz.sh $(FUZZTIME) $(FUZZ_TARGETS)

# The saga benchmark's load (make bench BENCH_ORDERS=5000 ...); see loadgen/cmd/sagabench.
BENCH_ORDERS ?= 20000
BENCH_CLIENTS ?= 64
BENCH_DECLINED ?= 0.1
BENCH_SKUS ?= 4
BENCH_FLASH_ORDERS ?= 20000
BENCH_FLASH_STOCK ?= 1000
SAGABENCH := go run ./loadgen/cmd/sagabench -orders $(BENCH_ORDERS) -clients $(BENCH_CLIENTS) \
	-declined $(BENCH_DECLINED) -skus $(BENCH_SKUS) -flash-orders $(BENCH_FLASH_ORDERS) -flash-stock $(BENCH_FLASH_STOCK)

## bench: the shipped micro-benchmarks, then the saga benchmark on a fresh in-process sandbox
## beside a bare three-hop Kafka relay on the same broker: one table, with the ratio and the
## process's CPU time per order
bench:
	@set -e; for m in $(MODULES); do (cd $$m && go test -run '^$$' -bench . -benchmem ./...); done
	$(SAGABENCH)

## bench-stack: the saga benchmark against a running `make stack` (real Kafka, MariaDB, DynamoDB
## Local), the bare relay on the same Kafka
bench-stack:
	eval "$$(scripts/infra.sh env)" && $(SAGABENCH) -stack -admin-token "$${ADMIN_TOKEN:-stack-admin}"

## build: the service binaries into bin/
build:
	@mkdir -p bin
	go build -o bin/order-service ./order-service/cmd/order-service
	go build -o bin/inventory-service ./inventory-service/cmd/inventory-service
	go build -o bin/payment-service ./payment-service/cmd/payment-service
	go build -o bin/payment-gateway ./payment-service/cmd/payment-gateway
	go build -o bin/notification-service ./notification-service/cmd/notification-service
	go build -o bin/smtp-sink ./notification-service/cmd/smtp-sink
	go build -o bin/stack ./stack/cmd/stack
	go build -o bin/edmctl ./edmctl

## stack: real Kafka, MariaDB and DynamoDB Local, and each service as its own process (Ctrl-C stops);
## the gateway journals its ledger to .data/gateway/ledger.jsonl, so a restart charges no key twice;
## the operator API takes ADMIN_TOKEN, else stack-admin; with KAFKA_AUTH=1 Kafka requires SASL/SCRAM and
## ACLs and each service logs in as itself (docs/kafka-auth.md)
## REPLICAS=2 runs two processes of each service (replica n on the first one's port + 10·(n-1):
## order-service on 8081 and 8091, ...; docs/replicas.md)
REPLICAS ?= 1
stack: infra-up build
	eval "$$(scripts/infra.sh env)" && export ADMIN_TOKEN="$${ADMIN_TOKEN:-stack-admin}" && \
		echo "operator API token: $$ADMIN_TOKEN" && \
		GATEWAY_LEDGER_PATH="$${GATEWAY_LEDGER_PATH:-.data/gateway/ledger.jsonl}" exec ./bin/stack -bin bin -replicas $(REPLICAS)

fmt:
	gofmt -w $(MODULES)

vet:
	@set -e; for m in $(MODULES); do (cd $$m && go vet ./...); done

include mk/infra.mk
include mk/observability.mk
