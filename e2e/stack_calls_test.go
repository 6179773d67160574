package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/edmshop/edm-shop/loadgen"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/nettest"
	"github.com/edmshop/edm-shop/stack"
)

// callCounter is a reverse proxy in front of DynamoDB that counts the calls it forwards by
// operation (X-Amz-Target) and table.
type callCounter struct {
	mu     sync.Mutex
	counts map[string]int
	proxy  *httputil.ReverseProxy
}

func newCallCounter(t *testing.T, endpoint string) (*callCounter, string) {
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	c := &callCounter{counts: map[string]int{}, proxy: httputil.NewSingleHostReverseProxy(target)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: c}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return c, "http://" + l.Addr().String()
}

// runSuffix is the run's suffix of a table name.
var runSuffix = regexp.MustCompile(`-[0-9a-f]{8}\b`)

func (c *callCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	var in struct {
		TableName      string
		ConsistentRead bool
		RequestItems   map[string]json.RawMessage
		TransactItems  []map[string]struct{ TableName string }
		Statements     []struct{ Statement string }
	}
	json.Unmarshal(body, &in)
	table := in.TableName
	// A transaction is named by the kinds of item it writes, once each: order-service groups
	// the writes of many orders into one.
	var kinds []string
	for _, it := range in.TransactItems {
		for op, x := range it {
			if i := strings.LastIndex(x.TableName, "-"); i > 0 {
				x.TableName = x.TableName[:i]
			}
			kinds = append(kinds, op+":"+x.TableName)
		}
	}
	slices.Sort(kinds)
	for _, kind := range slices.Compact(kinds) {
		table += kind + " "
	}
	items := 0 // statements or write requests a batch carries
	if len(in.Statements) > 0 {
		f := strings.Fields(in.Statements[0].Statement)
		table = strings.Join(f[:min(len(f), 2)], " ")
		items = len(in.Statements)
	}
	for name, reqs := range in.RequestItems {
		var list []json.RawMessage
		json.Unmarshal(reqs, &list)
		items += len(list)
		table = name
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	if i := strings.LastIndex(table, "-"); i > 0 && (in.TableName != "" || len(in.RequestItems) > 0) {
		table = table[:i] // drop the run's suffix
	}
	key := runSuffix.ReplaceAllString(op+" "+table, "")
	if in.ConsistentRead {
		key += " (consistent)"
	}
	c.mu.Lock()
	c.counts[key]++
	if items > 0 {
		c.counts["status items in "+key] += items
	}
	c.mu.Unlock()
	c.proxy.ServeHTTP(w, r)
}

func (c *callCounter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.counts))
	for k, v := range c.counts {
		out[k] = v
	}
	return out
}

// sqlCounts counts the statements in MariaDB's general log by kind (literals replaced by ?),
// from byte offset from on, and returns the new offset. The log records a prepared
// statement's every Execute with its values, so it counts what the driver sends.
func sqlCounts(t *testing.T, log string, from int) (map[string]int, int) {
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	literal := regexp.MustCompile(`'(?:[^'\\]|\\.)*'|\b\d+(\.\d+)?\b`)
	list := regexp.MustCompile(`\(\?(, \?)*\)`)
	entry := regexp.MustCompile(`^(?:\d{6}\s+[\d:]+)?\s+\d+\s+(\w+)\t(.*)$`)
	for _, line := range strings.Split(string(data[from:]), "\n") {
		m := entry.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		cmd, text := m[1], m[2]
		switch cmd {
		case "Query", "Execute", "Prepare", "Close", "Reset":
		default:
			continue
		}
		text = list.ReplaceAllString(literal.ReplaceAllString(strings.Join(strings.Fields(text), " "), "?"), "(?...)")
		if len(text) > 100 {
			text = text[:100] + "..."
		}
		out[cmd+" "+text]++
	}
	return out, len(data)
}

func delta(after, before map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func table(t *testing.T, title string, d map[string]int, orders int) float64 {
	keys := make([]string, 0, len(d))
	total := 0
	for k, v := range d {
		keys = append(keys, k)
		if !strings.HasPrefix(k, "status ") {
			total += v
		}
	}
	sort.Slice(keys, func(i, j int) bool { return d[keys[i]] > d[keys[j]] })
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%d orders)\n", title, orders)
	for _, k := range keys {
		fmt.Fprintf(&b, "  %8.3f /order  %7d  %s\n", float64(d[k])/float64(orders), d[k], k)
	}
	fmt.Fprintf(&b, "  %8.3f /order  %7d  TOTAL\n", float64(total)/float64(orders), total)
	t.Log(b.String())
	return float64(total) / float64(orders)
}

// TestStackCalls runs the services as processes (shared Kafka and DynamoDB Local behind a
// counting proxy, a MariaDB of its own writing its general log) and counts the store calls a
// closed loop of orders costs, per order, by operation and statement: counts, unlike the
// throughput of a shared machine, do not depend on the load. It fails when a service exceeds
// its budget. Set STACK_CALLS_ORDERS to change the number of orders (1,000).
func TestStackCalls(t *testing.T) {
	if os.Getenv("KAFKA_BROKERS") == "" || os.Getenv("DYNAMODB_ENDPOINT") == "" {
		t.Skip("KAFKA_BROKERS or DYNAMODB_ENDPOINT is not set: `eval \"$(scripts/infra.sh env)\"`")
	}
	for _, need := range []string{"mariadbd", "mariadb-install-db"} {
		if _, err := exec.LookPath(need); err != nil {
			t.Skipf("%s is not installed", need)
		}
	}
	orders := 1000
	if n := os.Getenv("STACK_CALLS_ORDERS"); n != "" {
		fmt.Sscan(n, &orders)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	run := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	logs := runLog(t, root, "stack-calls-"+run)
	generalLog := filepath.Join(t.TempDir(), "general.log")
	_, dsn := privateMariaDB(t, logs, "--general-log=1", "--general-log-file="+generalLog)
	counter, endpoint := newCallCounter(t, os.Getenv("DYNAMODB_ENDPOINT"))

	bin := builtBinaries(t, root, "order-service", "inventory-service", "payment-service", "payment-gateway")
	topics := config.Topics{Inventory: "inventory-" + run, Payment: "payment-" + run, Order: "order-" + run}
	t.Cleanup(func() { deleteTopics(t, os.Getenv("KAFKA_BROKERS"), topics) })
	addrs := stack.Addrs{Order: nettest.FreeAddr(t), Inventory: nettest.FreeAddr(t), Payment: nettest.FreeAddr(t), Gateway: nettest.FreeAddr(t)}
	sup := stack.Start(stack.Services(bin, addrs,
		"KAFKA_TOPIC_INVENTORY="+topics.Inventory, "KAFKA_TOPIC_PAYMENT="+topics.Payment, "KAFKA_TOPIC_ORDER="+topics.Order,
		"MYSQL_DSN="+dsn, "DYNAMODB_ENDPOINT="+endpoint, "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		"ORDERS_TABLE=orders-"+run, "IDEMPOTENCY_TABLE=order-idempotency-"+run, "OUTBOX_TABLE=order-outbox-"+run,
		"ADMIN_TOKEN=calls",
	), logs)
	t.Cleanup(func() {
		sup.Stop()
		if t.Failed() {
			out, _ := os.ReadFile(logs.Name())
			t.Logf("last output (all of it in %s):\n%s", logs.Name(), tail(string(out), 60))
		}
	})
	tg := &target{orderURL: "http://" + addrs.Order, inventoryURL: "http://" + addrs.Inventory, paymentURL: "http://" + addrs.Payment, gatewayURL: "http://" + addrs.Gateway}
	tg.waitReady(t, 120*time.Second)

	dynamoBefore := counter.snapshot()
	_, sqlFrom := sqlCounts(t, generalLog, 0)
	start := time.Now()
	client := loadgen.NewClient(tg.orderURL, tg.inventoryURL, "calls", 32)
	defer client.Close()
	res, err := client.RunClosedLoop(context.Background(), loadgen.ClosedLoop{Orders: orders, Clients: 16, SKUs: 4, DeclinedShare: 0.1, SettleTimeout: 3 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	dynamo := delta(counter.snapshot(), dynamoBefore)
	sqls, _ := sqlCounts(t, generalLog, sqlFrom)
	t.Logf("%d orders in %v: %+v", orders, elapsed.Round(time.Millisecond), res.Violations)
	table(t, "DynamoDB calls", dynamo, orders)
	statements := table(t, "SQL statements of inventory-service", sqls, orders)

	// The budgets: what the services cost per order when this test was written, plus a margin
	// for the relay's batching, which varies with the machine's speed (0.2 to 0.8 relay calls per
	// order were seen). The client's own reads (GetItem) and the Queries per shard and tick of
	// the deadline sweeper and the in-flight recount are not the saga's.
	writes, relay, claims := 0, 0, 0
	for k, n := range dynamo {
		switch {
		case strings.HasPrefix(k, "status "), strings.HasPrefix(k, "GetItem orders"), strings.HasPrefix(k, "Query orders"):
		case strings.HasPrefix(k, "TransactWriteItems Delete:order-outbox "):
			relay += n // the relay's deletes, alone
		case strings.HasPrefix(k, "TransactWriteItems"), strings.HasPrefix(k, "PutItem orders"):
			writes += n
		default:
			relay += n
		}
		if strings.HasPrefix(k, "BatchExecuteStatement UPDATE") {
			claims += n
		}
	}
	if per := float64(writes) / float64(orders); per > 3.01 {
		t.Errorf("order-service made %.2f writes per order, budget 3 (one per state change of an order's life)", per)
	}
	if per := float64(relay) / float64(orders); per > 1.2 {
		t.Errorf("order-service's relay made %.2f DynamoDB calls per order, budget 1.2 (it reads and deletes in batches)", per)
	}
	if claims > orders/50 {
		t.Errorf("the relay claimed records in %d calls: records come claimed by their writer", claims)
	}
	// 13.8 before the statements were merged; 8.8-10.8 since, depending on the relay's batches;
	// one more (9.8-11.8, 11.3 measured) since a reservation re-reads its order's tombstone,
	// locking, after its rows (sql_repository.go, Reserve).
	if statements > 13 {
		t.Errorf("inventory-service ran %.2f SQL statements per order, budget 13", statements)
	}
	for k, n := range sqls {
		if strings.Contains(k, "RELEASE SAVEPOINT") {
			t.Errorf("%d %s: the writer releases no savepoint", n, k)
		}
	}
	if len(res.Violations) > 0 {
		t.Errorf("violations: %v", res.Violations)
	}
}
