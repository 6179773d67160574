package e2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	inventoryadapters "github.com/edmshop/edm-shop/inventory-service/adapters"
	"github.com/edmshop/edm-shop/inventory-service/domain"
	inventoryservice "github.com/edmshop/edm-shop/inventory-service/service"
	orderadapters "github.com/edmshop/edm-shop/order-service/adapters"
	orderservice "github.com/edmshop/edm-shop/order-service/service"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/kafkatest"
	"github.com/edmshop/edm-shop/platform/nettest"
)

// TestInventoryStallsWhileMariaDBIsDownAndResumesByItself runs inventory-service (in-process,
// on an in-process Kafka) over a MariaDB of its own, SIGKILLs MariaDB and checks that /readyz
// answers 503 naming the store; an ORDER_CREATE consumed during the outage is neither lost nor
// dead-lettered. Once MariaDB is back, /readyz answers 200 again and that order's stock is
// reserved, once.
func TestInventoryStallsWhileMariaDBIsDownAndResumesByItself(t *testing.T) {
	for _, need := range []string{"mariadbd", "mariadb-install-db"} {
		if _, err := exec.LookPath(need); err != nil {
			t.Skipf("%s is not installed", need)
		}
	}
	logs, err := os.Create(filepath.Join(t.TempDir(), "mariadb.log"))
	if err != nil {
		t.Fatal(err)
	}
	maria, dsn := privateMariaDB(t, logs)
	ctx := context.Background()
	repo, err := inventoryadapters.NewMySQLRepository(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	const sku, stock = "OUTAGE-A", 10
	if err := repo.UpsertProduct(ctx, domain.Product{SKU: sku, Name: sku, Price: 100, Currency: "EUR", Available: stock}); err != nil {
		t.Fatal(err)
	}
	topics := config.DefaultTopics
	brokers := kafkatest.Start(t, topics.All()...)
	addr := nettest.FreeAddr(t)
	runInProcess(t, "inventory-service", func(ctx context.Context) error {
		return inventoryservice.Run(ctx, inventoryservice.Config{Service: config.Service{HTTPAddr: addr, Brokers: brokers, Topics: topics, GroupID: "inventory-service"}},
			repo, slog.New(slog.NewTextHandler(io.Discard, nil)))
	})
	eventually(t, 60*time.Second, "/readyz 200 with MariaDB up", func() bool { code, _ := readyz(addr); return code == http.StatusOK })

	maria.kill()
	var body map[string]any
	eventually(t, 30*time.Second, "/readyz 503 with MariaDB down", func() bool {
		var code int
		code, body = readyz(addr)
		return code == http.StatusServiceUnavailable
	})
	if failed, _ := body["failed"].(map[string]any); failed["store"] == nil || failed["kafka"] != nil {
		t.Errorf("/readyz while MariaDB is down: %v, want the store (only) failing", body)
	}

	txID := "tx-outage-1"
	e, err := event.New(event.TypeOrderCreate, "/order-service", txID, event.OrderCreate{TransactionID: txID, CustomerID: "c", Items: []event.Item{{SKU: sku, Quantity: 3}}, PaymentMethod: "pm_card_visa"})
	if err != nil {
		t.Fatal(err)
	}
	kafkatest.ProduceEvent(t, brokers, topics.Inventory, e)
	// The consumer reads it and fails on the store, transiently: wait until it has retried
	// for longer than one handler timeout, then check nothing was set aside or published.
	since := time.Now()
	eventually(t, 60*time.Second, "ORDER_CREATE retried for longer than a handler timeout", func() bool {
		return retriedOrderCreates(t, addr) > 0 && time.Since(since) > kafka.DefaultHandlerTimeout
	})
	if code, _ := readyz(addr); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz %d while MariaDB is still down", code)
	}
	if n := len(kafkatest.ReadAll(t, brokers, kafka.DeadLetterTopic(topics.Inventory))); n != 0 {
		t.Fatalf("%d events dead-lettered during the store outage", n)
	}
	if n := len(reservedFor(t, brokers, topics.Payment, txID)); n != 0 {
		t.Fatalf("ITEM_RESERVED published while the store was down")
	}

	maria.start(t)
	eventually(t, 60*time.Second, "/readyz 200 with MariaDB back", func() bool { code, _ := readyz(addr); return code == http.StatusOK })
	eventually(t, 60*time.Second, "the order consumed during the outage reserved", func() bool { return len(reservedFor(t, brokers, topics.Payment, txID)) > 0 })
	p, err := repo.Product(ctx, sku)
	if err != nil {
		t.Fatal(err)
	}
	if p.Available != stock-3 {
		t.Errorf("available %d after one reservation of 3 from %d", p.Available, stock)
	}
	if n := len(reservedFor(t, brokers, topics.Payment, txID)); n != 1 {
		t.Errorf("%d ITEM_RESERVED for one order", n)
	}
	if n := len(kafkatest.ReadAll(t, brokers, kafka.DeadLetterTopic(topics.Inventory))); n != 0 {
		t.Errorf("%d events dead-lettered because of the outage", n)
	}

	// A MariaDB that hangs (SIGSTOP: connections open, nothing answers) must not hang the
	// consumer: each attempt ends within the handler and MySQL timeouts and is retried.
	if err := maria.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	t.Cleanup(func() {
		if stopped {
			maria.cmd.Process.Signal(syscall.SIGCONT)
		}
	})
	eventually(t, 30*time.Second, "/readyz 503 with MariaDB hung", func() bool { code, _ := readyz(addr); return code == http.StatusServiceUnavailable })
	before := retriedOrderCreates(t, addr)
	tx2 := "tx-outage-2"
	e2, err := event.New(event.TypeOrderCreate, "/order-service", tx2, event.OrderCreate{TransactionID: tx2, CustomerID: "c", Items: []event.Item{{SKU: sku, Quantity: 2}}, PaymentMethod: "pm_card_visa"})
	if err != nil {
		t.Fatal(err)
	}
	kafkatest.ProduceEvent(t, brokers, topics.Inventory, e2)
	produced := time.Now()
	eventually(t, 60*time.Second, "attempts against the hung MariaDB ending and being retried", func() bool {
		return retriedOrderCreates(t, addr) >= before+1
	})
	// The first attempt finds the writer's connection dead only when BEGIN's read times out
	// (8 s), and its reconnect must then give up at the handler's deadline rather than wait out
	// a second read timeout in the handshake (which made the attempt last ~18 s). The slack
	// covers the consumer's fetch and a /metrics scrape, whose outbox query waits up to 2 s for
	// the hung server too.
	if took, most := time.Since(produced), kafka.DefaultHandlerTimeout+5*time.Second; took > most {
		t.Errorf("first attempt against the hung MariaDB ended %v after the event was produced, want within %v (the handler timeout and slack)", took.Round(time.Second), most)
	}
	eventually(t, 60*time.Second, "attempts against the hung MariaDB ending and being retried again", func() bool {
		return retriedOrderCreates(t, addr) >= before+2
	})
	if err := maria.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	stopped = false
	eventually(t, 60*time.Second, "/readyz 200 with MariaDB answering again", func() bool { code, _ := readyz(addr); return code == http.StatusOK })
	eventually(t, 60*time.Second, "the order consumed while MariaDB hung reserved", func() bool { return len(reservedFor(t, brokers, topics.Payment, tx2)) > 0 })
	if p, err := repo.Product(ctx, sku); err != nil || p.Available != stock-3-2 {
		t.Errorf("available %d (%v) after reservations of 3 and 2 from %d", p.Available, err, stock)
	}
	if n := len(kafkatest.ReadAll(t, brokers, kafka.DeadLetterTopic(topics.Inventory))); n != 0 {
		t.Errorf("%d events dead-lettered because MariaDB hung", n)
	}
}

// retriedOrderCreates is edm_events_consumed_total{type="ORDER_CREATE",outcome="retried"} as
// the service at addr reports it: one per transient handler failure.
func retriedOrderCreates(t *testing.T, addr string) int {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(text), "\n") {
		if strings.HasPrefix(line, "edm_events_consumed_total{") && strings.Contains(line, `outcome="retried"`) && strings.Contains(line, `type="ORDER_CREATE"`) {
			n, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			return int(n)
		}
	}
	return 0
}

// reservedFor returns the ITEM_RESERVED records of txID on topic.
func reservedFor(t *testing.T, brokers, topic, txID string) []kafkatest.Record {
	var out []kafkatest.Record
	for _, r := range kafkatest.ReadAll(t, brokers, topic) {
		if r.Key == txID && r.Headers["ce_type"] == string(event.TypeItemReserved) {
			out = append(out, r)
		}
	}
	return out
}

// TestOrderServiceReadyzFollowsDynamoDB runs order-service (in-process, on an in-process Kafka)
// over a DynamoDB Local of its own: /readyz answers 503 naming the store while DynamoDB Local
// is stopped, and 200 again once it is back, without restarting the service.
func TestOrderServiceReadyzFollowsDynamoDB(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dynamoDir := dynamoDBLocalDir(t, root)
	logs, err := os.Create(filepath.Join(t.TempDir(), "dynamodb.log"))
	if err != nil {
		t.Fatal(err)
	}
	dynamo, endpoint := privateDynamoDB(t, logs, dynamoDir)
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	ctx := context.Background()
	repo, err := orderadapters.NewDynamoDBRepository(ctx, orderadapters.DynamoDBConfig{Endpoint: endpoint, Region: "us-east-1",
		OrdersTable: "orders", IdempotencyTable: "order-idempotency", OutboxTable: "order-outbox"})
	if err != nil {
		t.Fatal(err)
	}
	topics := config.DefaultTopics
	brokers := kafkatest.Start(t, topics.All()...)
	addr := nettest.FreeAddr(t)
	runInProcess(t, "order-service", func(ctx context.Context) error {
		return orderservice.Run(ctx, orderservice.Config{Service: config.Service{HTTPAddr: addr, Brokers: brokers, Topics: topics, GroupID: "order-service"}},
			repo, slog.New(slog.NewTextHandler(io.Discard, nil)))
	})
	eventually(t, 60*time.Second, "/readyz 200 with DynamoDB up", func() bool { code, _ := readyz(addr); return code == http.StatusOK })

	dynamo.stop(syscall.SIGTERM)
	var body map[string]any
	eventually(t, 30*time.Second, "/readyz 503 with DynamoDB down", func() bool {
		var code int
		code, body = readyz(addr)
		return code == http.StatusServiceUnavailable
	})
	if failed, _ := body["failed"].(map[string]any); failed["store"] == nil || failed["kafka"] != nil {
		t.Errorf("/readyz while DynamoDB is down: %v, want the store (only) failing", body)
	}
	dynamo.start(t)
	eventually(t, 90*time.Second, "/readyz 200 with DynamoDB back", func() bool { code, _ := readyz(addr); return code == http.StatusOK })
}

// runInProcess runs a service's Run on a goroutine of its own until the test ends, then cancels
// it and fails the test if Run returned an error.
func runInProcess(t *testing.T, name string, run func(ctx context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: %v", name, err)
		}
	})
}

// readyz returns the status of the service at addr's /readyz (0 when it does not answer) and
// its JSON body.
func readyz(addr string) (int, map[string]any) {
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}
