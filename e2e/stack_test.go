package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	inventoryadapters "github.com/edmshop/edm-shop/inventory-service/adapters"
	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/nettest"
	"github.com/edmshop/edm-shop/stack"
)

// TestStack runs the services as separate processes against real Apache Kafka, MariaDB and
// DynamoDB Local (`make infra-up`; `eval "$(scripts/infra.sh env)"` sets the variables), checks
// the whole contract, then kills each service in turn and restarts the broker while orders flow.
func TestStack(t *testing.T) {
	needSharedServers(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	addrs := stack.Addrs{Order: nettest.FreeAddr(t), Inventory: nettest.FreeAddr(t), Payment: nettest.FreeAddr(t), Gateway: nettest.FreeAddr(t),
		Notification: nettest.FreeAddr(t), SMTP: nettest.FreeAddr(t), Mail: nettest.FreeAddr(t)}
	st := startStackRun(t, root, builtBinaries(t, root), "stack", addrs,
		"NOTIFICATION_DB_PATH="+filepath.Join(t.TempDir(), "notifications.db"),
		// The fault round restarts the shared broker, which on a loaded machine took more than
		// the default 30 s deadline to come back: orders then expired, as they should. This
		// round is about crashes with no deadline pressure; deadlines have rounds of their own.
		"ORDER_DEADLINE=3m",
	)
	registerServices(st.target)

	t.Run("contract", func(t *testing.T) { runContract(t, st.target) })
	t.Run("notifications", func(t *testing.T) { checkNotifications(t, st.target, "http://"+addrs.Mail) })
	t.Run("metrics and trace context", func(t *testing.T) { checkServedTelemetry(t, st.target) })
	t.Run("fault round", func(t *testing.T) { faultRound(t, st.target, st.sup, root, st.run) })
}

// needSharedServers skips the test unless the environment names the shared servers.
func needSharedServers(t *testing.T) {
	t.Helper()
	for _, name := range []string{"KAFKA_BROKERS", "MYSQL_DSN", "MYSQL_ADMIN_DSN", "DYNAMODB_ENDPOINT"} {
		if os.Getenv(name) == "" {
			t.Skipf("%s is not set: run `make infra-up` and `eval \"$(scripts/infra.sh env)\"` to test against the real servers", name)
		}
	}
}

// stackRun is the services running as processes on the shared servers (needSharedServers).
type stackRun struct {
	*target
	sup *stack.Supervisor
	run string // the run's id, in the names of its topics, database and tables
}

// startStackRun runs the services built in bin as processes on the shared servers, listening
// on addrs, with env added to their environment, and waits until they are ready. Everything
// the run touches is its own: topics, database and tables carry its id. Their output goes to
// .data/e2e/<name>-<id>.log (runLog), whose tail a failed test logs.
func startStackRun(t *testing.T, root, bin, name string, addrs stack.Addrs, env ...string) stackRun {
	t.Helper()
	run := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	topics := config.Topics{Inventory: "inventory-" + run, Payment: "payment-" + run, Order: "order-" + run, OrderStatus: "order-status-" + run}
	t.Cleanup(func() { deleteTopics(t, os.Getenv("KAFKA_BROKERS"), topics) })
	dsn := freshDatabase(t, "inventory_e2e_"+run)
	logs := runLog(t, root, name+"-"+run)
	sup := stack.Start(stack.Services(bin, addrs, append([]string{
		"KAFKA_TOPIC_INVENTORY=" + topics.Inventory, "KAFKA_TOPIC_PAYMENT=" + topics.Payment, "KAFKA_TOPIC_ORDER=" + topics.Order,
		"KAFKA_TOPIC_ORDER_STATUS=" + topics.OrderStatus, "MYSQL_DSN=" + dsn,
		"ORDERS_TABLE=orders-" + run, "IDEMPOTENCY_TABLE=order-idempotency-" + run, "OUTBOX_TABLE=order-outbox-" + run,
	}, env...)...), logs)
	t.Cleanup(func() {
		sup.Stop()
		if t.Failed() {
			out, _ := os.ReadFile(logs.Name())
			t.Logf("last service output (all of it in %s):\n%s", logs.Name(), tail(string(out), 80))
		}
	})

	inventoryRepo, err := inventoryadapters.NewMySQLRepository(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inventoryRepo.Close() })
	tg := &target{
		orderURL: "http://" + addrs.Order, inventoryURL: "http://" + addrs.Inventory, paymentURL: "http://" + addrs.Payment, gatewayURL: "http://" + addrs.Gateway,
		brokers: os.Getenv("KAFKA_BROKERS"), topics: topics,
		addProduct: func(t *testing.T, sku string, price int64, available int) {
			if err := inventoryRepo.UpsertProduct(context.Background(), domain.Product{SKU: sku, Name: sku, Price: price, Currency: "EUR", Available: available}); err != nil {
				t.Fatal(err)
			}
		},
	}
	tg.waitReady(t, 90*time.Second)
	return stackRun{target: tg, sup: sup, run: run}
}

// faultRound keeps orders flowing while it SIGKILLs each service in turn and restarts the broker,
// then checks the invariants at rest (checkAtRest): with ample stock and no deadline pressure,
// every order with a good card completes. The broker restart here is the clean one (SIGTERM) of
// the shared broker; TestServerRestartRound SIGKILLs a broker of its own.
func faultRound(t *testing.T, tg *target, sup *stack.Supervisor, root, run string) {
	const stock = 100000
	skus := []string{"FAULT-" + run + "-A", "FAULT-" + run + "-B", "FAULT-" + run + "-C"}
	before := map[string]int{}
	for _, s := range skus {
		tg.addProduct(t, s, 100, stock)
		before[s] = stock
	}
	shop := startShoppers(t, tg, 4, "fault-"+run, func(w, i int) orderRequest {
		req := orderRequest{CustomerID: fmt.Sprintf("fault-%d", w), Items: []item{{skus[i%3], 1 + i%2}, {skus[(i+1)%3], 1}}, PaymentMethod: "pm_card_visa"}
		if i%4 == 0 {
			req.PaymentMethod = "pm_card_declined"
		}
		return req
	})
	shop.flowing(t, tg, "before the faults", 20, 90*time.Second)
	for _, name := range []string{"order-service", "inventory-service", "payment-service"} {
		starts := sup.Starts(name)
		if err := sup.Kill(name); err != nil {
			t.Fatalf("kill %s: %v", name, err)
		}
		eventually(t, 30*time.Second, name+" to be restarted", func() bool { return sup.Starts(name) > starts })
		tg.waitReady(t, 60*time.Second)
		shop.flowing(t, tg, "after killing "+name, 20, 90*time.Second)
	}
	infra := filepath.Join(root, "scripts", "infra.sh")
	for _, step := range []string{"kafka-stop", "kafka-start"} {
		if out, err := exec.Command(infra, step).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", step, err, out)
		}
	}
	// A producer that had requests in flight when the broker went away may wait for them to
	// time out (message.timeout.ms, 60 s) before it gets a new producer id and answers again:
	// one CI run's order-service took longer than 90 s to be ready while the suite's other
	// tests loaded the machine.
	tg.waitReady(t, 150*time.Second)
	shop.flowing(t, tg, "after the broker restart", 20, 90*time.Second)
	tg.checkAtRest(t, shop.stop(), before, nil)
}

// placeWithRetries posts an order as a careful client does: while order-service is down it
// retries with the same Idempotency-Key, so a retry never creates a second order. Once begun,
// an order is seen through even if ctx ends meanwhile: a request abandoned in flight may have
// been stored, and its order would then buy stock the test never counted.
func (tg *target) placeWithRetries(ctx context.Context, t *testing.T, req orderRequest, key string) (string, bool) {
	if ctx.Err() != nil {
		return "", false
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		var a accepted
		status, err := tryCall(context.Background(), tg.orderURL+"/orders", req, key, &a)
		if err == nil && status == 202 {
			return a.TransactionID, true
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("order %s was not accepted within 2 minutes of retries", key)
	return "", false
}

// waitSettled polls the order until it settles or ctx ends; it tolerates a service being down.
func (tg *target) waitSettled(ctx context.Context, id string) {
	for ctx.Err() == nil {
		var o order
		if status, err := tryCall(ctx, tg.orderURL+"/orders/"+id, nil, "", &o); err == nil && status == 200 && terminal(o.Status) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (tg *target) waitReady(t *testing.T, timeout time.Duration) {
	t.Helper()
	for _, base := range []string{tg.gatewayURL, tg.orderURL, tg.inventoryURL, tg.paymentURL} {
		eventually(t, timeout, base+"/readyz", func() bool {
			status, err := tryCall(context.Background(), base+"/readyz", nil, "", nil)
			return err == nil && status == 200
		})
	}
}

// freshDatabase creates a database for this run on the MariaDB of MYSQL_ADMIN_DSN and returns
// MYSQL_DSN pointed at it.
func freshDatabase(t *testing.T, name string) string {
	admin, err := sql.Open("mysql", os.Getenv("MYSQL_ADMIN_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// A database name cannot be a placeholder; name is built from a UUID prefix here.
	if _, err := admin.Exec("CREATE DATABASE `" + name + "`"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if admin, err := sql.Open("mysql", os.Getenv("MYSQL_ADMIN_DSN")); err == nil {
			admin.Exec("DROP DATABASE IF EXISTS `" + name + "`")
			admin.Close()
		}
	})
	cfg, err := mysql.ParseDSN(os.Getenv("MYSQL_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = name
	return cfg.FormatDSN()
}

// logLag logs, for each service's consumer group, how far it is behind on its topic.
func (tg *target) logLag(t *testing.T) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(tg.brokers, ",")...))
	if err != nil {
		t.Log(err)
		return
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lags, err := kadm.NewClient(cl).Lag(ctx, "order-service", "inventory-service", "payment-service")
	if err != nil {
		t.Logf("lag: %v", err)
		return
	}
	lags.Each(func(l kadm.DescribedGroupLag) {
		t.Logf("group %s (%s, %d members): lag %d", l.Group, l.State, len(l.Members), l.Lag.Total())
	})
}

// deleteTopics removes a run's topics, so repeated runs do not slow the broker's restarts.
func deleteTopics(t *testing.T, brokers string, topics config.Topics) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
	if err != nil {
		t.Log(err)
		return
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var names []string
	for _, topic := range topics.All() {
		names = append(names, topic, topic+".dlt")
	}
	if _, err := kadm.NewClient(cl).DeleteTopics(ctx, names...); err != nil {
		t.Logf("delete topics: %v", err)
	}
}

func tail(s string, lines int) string {
	all := strings.Split(s, "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// buildBinaries builds the named services of stack.Binaries (all of them when none are named)
// from the module tree at root into bin. It returns an error instead of failing the test so
// that it can run on a goroutine of its own while servers start.
func buildBinaries(root, bin string, names ...string) error {
	if len(names) == 0 {
		for name := range stack.Binaries {
			names = append(names, name)
		}
	}
	for _, name := range names {
		if err := goBuild(root, filepath.Join(bin, name), stack.Binaries[name]); err != nil {
			return err
		}
	}
	return nil
}

// goBuild builds the main package pkg of the module tree at root into the file out, with flags
// added to go build.
func goBuild(root, out, pkg string, flags ...string) error {
	build := exec.Command("go", append(append([]string{"build"}, flags...), "-o", out, pkg)...)
	build.Dir = root
	if output, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %v\n%s", pkg, err, output)
	}
	return nil
}

// builtBinaries builds the named services (all of them when none are named) into a temporary
// directory, which it returns.
func builtBinaries(t *testing.T, root string, names ...string) string {
	t.Helper()
	bin := t.TempDir()
	if err := buildBinaries(root, bin, names...); err != nil {
		t.Fatal(err)
	}
	return bin
}

// runLog creates .data/e2e/<name>.log below root, where a run's server and service output is
// kept (gitignored) for a post-mortem.
func runLog(t *testing.T, root, name string) *os.File {
	t.Helper()
	dir := filepath.Join(root, ".data", "e2e")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	logs, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	return logs
}
