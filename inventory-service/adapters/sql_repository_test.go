package adapters_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"go.opentelemetry.io/otel/trace"

	"github.com/edmshop/edm-shop/inventory-service/adapters"
	"github.com/edmshop/edm-shop/inventory-service/app"
	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/inventory-service/ports"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/outbox"
)

// store is one adapter under test: open opens (again) the same database, raw reaches it
// without the repository (to set up what a test needs).
type store struct {
	name string
	open func(t testing.TB) *adapters.SQLRepository
	raw  func(t testing.TB) *sql.DB
}

// stores returns a fresh database per adapter: SQLite always, MySQL/MariaDB when the servers are
// configured (else that adapter is skipped with the reason).
func stores(t testing.TB) []store {
	path := filepath.Join(t.TempDir(), "inventory.db")
	out := []store{{name: "sqlite", open: func(t testing.TB) *adapters.SQLRepository {
		repo, err := adapters.NewSQLiteRepository(context.Background(), path)
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { repo.Close() })
		return repo
	}, raw: func(t testing.TB) *sql.DB {
		db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}}}
	out = append(out, store{name: "mysql", open: func(t testing.TB) *adapters.SQLRepository {
		dsn := freshMySQLDatabase(t)
		repo, err := adapters.NewMySQLRepository(context.Background(), dsn)
		if err != nil {
			t.Fatalf("open mysql: %v", err)
		}
		t.Cleanup(func() { repo.Close() })
		return repo
	}, raw: func(t testing.TB) *sql.DB { return appDB(t, freshMySQLDatabase(t)) }})
	return out
}

var mysqlDatabases sync.Map // testing.TB -> dsn, so a second open reaches the same database

// freshMySQLDatabase creates inventory_test_<random> with MYSQL_ADMIN_DSN, grants it to the
// user of MYSQL_DSN, drops it when the test ends, and returns MYSQL_DSN pointed at it.
func freshMySQLDatabase(t testing.TB) string {
	if dsn, ok := mysqlDatabases.Load(t); ok {
		return dsn.(string)
	}
	appDSN, adminDSN := os.Getenv("MYSQL_DSN"), os.Getenv("MYSQL_ADMIN_DSN")
	if appDSN == "" {
		t.Skip("MYSQL_DSN not set: start the servers with make infra-up, or a MariaDB (docs/HELPERS.md), to test the MySQL adapter")
	}
	if adminDSN == "" {
		t.Skip("MYSQL_ADMIN_DSN not set: the MySQL suite needs an admin account to create a fresh database per test")
	}
	appCfg, err := mysql.ParseDSN(appDSN)
	if err != nil {
		t.Fatalf("MYSQL_DSN: %v", err)
	}
	admin, err := sql.Open("mysql", adminDSN)
	if err != nil {
		t.Fatalf("MYSQL_ADMIN_DSN: %v", err)
	}
	defer admin.Close()
	ctx := context.Background()
	// The account the service user logs in as, e.g. 'inventory'@'%'.
	var account string
	if err := appDB(t, appDSN).QueryRowContext(ctx, `SELECT CURRENT_USER()`).Scan(&account); err != nil {
		t.Fatalf("who is MYSQL_DSN's user: %v", err)
	}
	user, host, _ := strings.Cut(account, "@")
	name := "inventory_test_" + randomHex(6)
	for _, stmt := range []string{
		"CREATE DATABASE " + name + " CHARACTER SET utf8mb4",
		fmt.Sprintf("GRANT ALL PRIVILEGES ON %s.* TO '%s'@'%s'", name, user, host),
	} {
		if _, err := admin.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	t.Cleanup(func() {
		admin, err := sql.Open("mysql", adminDSN)
		if err == nil {
			_, err = admin.Exec("DROP DATABASE " + name)
			admin.Close()
		}
		if err != nil {
			t.Logf("drop %s: %v", name, err)
		}
	})
	appCfg.DBName = name
	dsn := appCfg.FormatDSN()
	mysqlDatabases.Store(t, dsn)
	t.Cleanup(func() { mysqlDatabases.Delete(t) })
	return dsn
}

func appDB(t testing.TB, dsn string) *sql.DB {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatalf("MYSQL_DSN: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// forEachStore runs test against every adapter, each with a fresh database.
func forEachStore(t *testing.T, test func(t *testing.T, s store, repo *adapters.SQLRepository)) {
	for _, s := range stores(t) {
		t.Run(s.name, func(t *testing.T) { test(t, s, s.open(t)) })
	}
}

// fixture drives a repository through the use cases, as the consumer does.
type fixture struct {
	t        *testing.T
	repo     *adapters.SQLRepository
	app      *app.App
	notified atomic.Int64
}

func newFixture(t *testing.T, repo *adapters.SQLRepository) *fixture {
	f := &fixture{t: t, repo: repo}
	f.app = app.New(repo, config.DefaultTopics, func() { f.notified.Add(1) })
	return f
}

// handle routes e to its use case as the consumer does.
func (f *fixture) handle(ctx context.Context, e event.Event) error {
	return ports.EventHandlers(f.app)[e.Type](ctx, e)
}

func (f *fixture) upsert(sku string, price int64, available int) {
	f.t.Helper()
	if err := f.repo.UpsertProduct(context.Background(), domain.Product{SKU: sku, Name: "Test " + sku, Price: price, Currency: "EUR", Available: available}); err != nil {
		f.t.Fatalf("upsert %s: %v", sku, err)
	}
}

func orderEvent(t testing.TB, txID string, items ...event.Item) event.Event {
	e, err := event.New(event.TypeOrderCreate, "/order-service", txID, event.OrderCreate{TransactionID: txID, CustomerID: "cust-1", Items: items, PaymentMethod: "pm_card_visa"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func paymentFailedEvent(t testing.TB, txID string) event.Event {
	e, err := event.New(event.TypePaymentFailed, "/payment-service", txID, event.PaymentFailed{TransactionID: txID, Reason: "card_declined"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (f *fixture) order(txID string, items ...event.Item) {
	f.t.Helper()
	if err := f.app.OnOrderCreated(context.Background(), orderEvent(f.t, txID, items...)); err != nil {
		f.t.Fatalf("order %s: %v", txID, err)
	}
}

func (f *fixture) product(sku string) domain.Product {
	f.t.Helper()
	p, err := f.repo.Product(context.Background(), sku)
	if err != nil {
		f.t.Fatalf("product %s: %v", sku, err)
	}
	return p
}

func (f *fixture) wantStock(sku string, available, reserved int) {
	f.t.Helper()
	if p := f.product(sku); p.Available != available || p.Reserved != reserved {
		f.t.Fatalf("%s: available %d reserved %d, want %d and %d", sku, p.Available, p.Reserved, available, reserved)
	}
}

func (f *fixture) outbox() []outbox.Record {
	f.t.Helper()
	recs, err := f.repo.PendingOutbox(context.Background(), 10000)
	if err != nil {
		f.t.Fatalf("pending outbox: %v", err)
	}
	return recs
}

// decode reads a record's payload into v.
func decode(t testing.TB, rec outbox.Record, v any) {
	t.Helper()
	if err := json.Unmarshal(rec.Message.Event.Data, v); err != nil {
		t.Fatalf("payload of %s: %v", rec.Message.Event.Type, err)
	}
}

func TestSeedAndReopenKeepStock(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store, repo *adapters.SQLRepository) {
		f := newFixture(t, repo)
		products, err := repo.Products(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var skus []string
		for _, p := range products {
			skus = append(skus, p.SKU)
			if p.Available < 100 || p.Price <= 0 || p.Currency != "EUR" || p.Name == "" || p.Reserved != 0 {
				t.Errorf("seeded %+v", p)
			}
		}
		if want := "SKU-1001 SKU-1002 SKU-1003 SKU-1004 SKU-1005"; strings.Join(skus, " ") != want {
			t.Fatalf("seeded skus %v, want %s", skus, want)
		}
		before := f.product("SKU-1003")
		f.order("tx-seed", event.Item{SKU: "SKU-1003", Quantity: 7})

		reopened := s.open(t) // applies schema and seed again
		p, err := reopened.Product(context.Background(), "SKU-1003")
		if err != nil {
			t.Fatal(err)
		}
		if p.Available != before.Available-7 || p.Reserved != 7 {
			t.Fatalf("after re-applying the seed: %+v, want available %d reserved 7", p, before.Available-7)
		}
		if _, err := reopened.Product(context.Background(), "SKU-NOPE"); !errors.Is(err, domain.ErrProductNotFound) {
			t.Fatalf("unknown product: %v, want ErrProductNotFound", err)
		}
	})
}

func TestReserveTwoItems(t *testing.T) {
	forEachStore(t, func(t *testing.T, _ store, repo *adapters.SQLRepository) {
		f := newFixture(t, repo)
		f.upsert("T-A", 2500, 10)
		f.upsert("T-B", 1000, 1)
		f.order("tx-1", event.Item{SKU: "T-A", Quantity: 2}, event.Item{SKU: "T-B", Quantity: 1})
		f.wantStock("T-A", 8, 2)
		f.wantStock("T-B", 0, 1)

		recs := f.outbox()
		if len(recs) != 2 || recs[0].Message.Topic != "payment" || recs[1].Message.Topic != "order" {
			t.Fatalf("outbox %+v, want ITEM_RESERVED to payment then order", recs)
		}
		for _, rec := range recs {
			e := rec.Message.Event
			if e.Type != event.TypeItemReserved || e.Key != "tx-1" || e.Source != app.Source || e.ID != event.IDFor("tx-1", event.TypeItemReserved) || e.Time.IsZero() {
				t.Fatalf("outbox event %+v", e)
			}
			var p event.ItemReserved
			decode(t, rec, &p)
			want := event.ItemReserved{TransactionID: "tx-1", CustomerID: "cust-1", PaymentMethod: "pm_card_visa", Amount: 6000, Currency: "EUR",
				Items: []event.PricedItem{{SKU: "T-A", Quantity: 2, UnitPrice: 2500}, {SKU: "T-B", Quantity: 1, UnitPrice: 1000}}}
			if fmt.Sprint(p) != fmt.Sprint(want) {
				t.Fatalf("ITEM_RESERVED %+v, want %+v", p, want)
			}
		}
		if f.notified.Load() != 1 {
			t.Fatalf("relay notified %d times, want 1", f.notified.Load())
		}
	})
}

func TestReserveIsAllOrNothing(t *testing.T) {
	for _, tc := range []struct {
		name           string
		items          []event.Item
		reason, badSKU string
	}{
		{"one item short", []event.Item{{SKU: "T-A", Quantity: 2}, {SKU: "T-B", Quantity: 2}}, event.ReasonOutOfStock, "T-B"},
		{"unknown sku", []event.Item{{SKU: "T-A", Quantity: 2}, {SKU: "T-NOPE", Quantity: 1}}, event.ReasonUnknownSKU, "T-NOPE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, _ store, repo *adapters.SQLRepository) {
				f := newFixture(t, repo)
				f.upsert("T-A", 2500, 5)
				f.upsert("T-B", 1000, 1)
				f.order("tx-1", tc.items...)
				f.wantStock("T-A", 5, 0)
				f.wantStock("T-B", 1, 0)
				recs := f.outbox()
				if len(recs) != 1 || recs[0].Message.Topic != "order" || recs[0].Message.Event.Type != event.TypeOutOfStock {
					t.Fatalf("outbox %+v, want one OUT_OF_STOCK to order", recs)
				}
				var p event.OutOfStock
				decode(t, recs[0], &p)
				if p != (event.OutOfStock{TransactionID: "tx-1", Reason: tc.reason, SKU: tc.badSKU}) {
					t.Fatalf("OUT_OF_STOCK %+v", p)
				}
				// The rejected order holds nothing, so a smaller one for the same stock succeeds.
				f.order("tx-2", event.Item{SKU: "T-A", Quantity: 5}, event.Item{SKU: "T-B", Quantity: 1})
				f.wantStock("T-A", 0, 5)
				f.wantStock("T-B", 0, 1)
			})
		})
	}
}

func TestReleaseRestoresExactly(t *testing.T) {
	forEachStore(t, func(t *testing.T, _ store, repo *adapters.SQLRepository) {
		f := newFixture(t, repo)
		ctx := context.Background()
		f.upsert("T-A", 2500, 10)
		f.upsert("T-B", 1000, 4)
		f.order("tx-keep", event.Item{SKU: "T-A", Quantity: 1})
		f.order("tx-1", event.Item{SKU: "T-B", Quantity: 3}, event.Item{SKU: "T-A", Quantity: 2}, event.Item{SKU: "T-A", Quantity: 1})
		f.wantStock("T-A", 6, 4)
		f.wantStock("T-B", 1, 3)
		outboxBefore := len(f.outbox())

		if err := f.app.OnPaymentFailed(ctx, paymentFailedEvent(t, "tx-1")); err != nil {
			t.Fatal(err)
		}
		f.wantStock("T-A", 9, 1) // tx-keep still holds its unit
		f.wantStock("T-B", 4, 0)
		recs := f.outbox()
		if len(recs) != outboxBefore+1 {
			t.Fatalf("outbox has %d records, want %d", len(recs), outboxBefore+1)
		}
		last := recs[len(recs)-1]
		var p event.ItemReleased
		decode(t, last, &p)
		if last.Message.Topic != "order" || last.Message.Event.Type != event.TypeItemReleased || p.Reason != event.ReasonPaymentDeclined ||
			fmt.Sprint(p.Items) != fmt.Sprint([]event.Item{{SKU: "T-A", Quantity: 3}, {SKU: "T-B", Quantity: 3}}) {
			t.Fatalf("released %+v to %s: %+v", last.Message.Event.Type, last.Message.Topic, p)
		}

		// A second PAYMENT_FAILED under another id releases nothing more and emits nothing.
		again := paymentFailedEvent(t, "tx-1")
		again.ID = "another-id"
		if err := f.app.OnPaymentFailed(ctx, again); err != nil {
			t.Fatal(err)
		}
		f.wantStock("T-A", 9, 1)
		f.wantStock("T-B", 4, 0)
		if n := len(f.outbox()); n != len(recs) {
			t.Fatalf("outbox grew to %d after a second release", n)
		}
		// Released orders are not reserved again by a replayed ORDER_CREATE under a new id.
		replay := orderEvent(t, "tx-1", event.Item{SKU: "T-B", Quantity: 3})
		replay.ID = "replayed-order"
		if err := f.app.OnOrderCreated(ctx, replay); err != nil {
			t.Fatal(err)
		}
		f.wantStock("T-B", 4, 0)
	})
}

func TestReleaseWithoutReservationIsDeadLettered(t *testing.T) {
	forEachStore(t, func(t *testing.T, _ store, repo *adapters.SQLRepository) {
		f := newFixture(t, repo)
		f.upsert("T-A", 2500, 10)
		e := paymentFailedEvent(t, "tx-never-reserved")
		for range 2 { // nothing is recorded, so a redelivery fails the same way
			if err := f.app.OnPaymentFailed(context.Background(), e); !errors.Is(err, event.ErrInvalid) {
				t.Fatalf("got %v, want an error wrapping event.ErrInvalid", err)
			}
		}
		if n := len(f.outbox()); n != 0 {
			t.Fatalf("outbox has %d records", n)
		}
		f.wantStock("T-A", 10, 0)
	})
}

func TestDuplicateEventChangesNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, _ store, repo *adapters.SQLRepository) {
		f := newFixture(t, repo)
		ctx := context.Background()
		f.upsert("T-A", 2500, 10)
		order := orderEvent(t, "tx-1", event.Item{SKU: "T-A", Quantity: 4})
		rejected := orderEvent(t, "tx-2", event.Item{SKU: "T-A", Quantity: 400})
		failed := paymentFailedEvent(t, "tx-1")
		for _, e := range []event.Event{order, rejected, failed} {
			if err := f.handle(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		f.wantStock("T-A", 10, 0)
		recs := f.outbox()
		notified := f.notified.Load()
		// Every event again, and the order once more after its release: nothing moves, and
		// each delivery is marked a duplicate for the consumer's metrics.
		for _, e := range []event.Event{order, rejected, failed, order} {
			tracked, duplicate := kafka.TrackDuplicate(ctx)
			if err := f.handle(tracked, e); err != nil {
				t.Fatal(err)
			}
			if !duplicate() {
				t.Errorf("%s of %s was not marked a duplicate", e.Type, e.Key)
			}
			f.wantStock("T-A", 10, 0)
		}
		if n := len(f.outbox()); n != len(recs) {
			t.Fatalf("outbox grew from %d to %d records on duplicates", len(recs), n)
		}
		if f.notified.Load() != notified {
			t.Fatal("relay notified for a duplicate")
		}
	})
}

func TestFirstDeliveryIsNotADuplicate(t *testing.T) {
	forEachStore(t, func(t *testing.T, _ store, repo *adapters.SQLRepository) {
		f := newFixture(t, repo)
		f.upsert("T-A", 100, 10)
		tracked, duplicate := kafka.TrackDuplicate(context.Background())
		if err := f.handle(tracked, orderEvent(t, "tx-1", event.Item{SKU: "T-A", Quantity: 1})); err != nil {
			t.Fatal(err)
		}
		if duplicate() {
			t.Error("a first delivery was marked a duplicate")
		}
	})
}

func TestOutboxStatsAndTraceContext(t *testing.T) {
	forEachStore(t, func(t *testing.T, _ store, repo *adapters.SQLRepository) {
		f := newFixture(t, repo)
		ctx := context.Background()
		if s, err := repo.OutboxStats(ctx); err != nil || s.Pending != 0 || !s.Oldest.IsZero() {
			t.Fatalf("OutboxStats of an empty outbox = %+v, %v", s, err)
		}
		f.upsert("T-A", 100, 10)
		traceID, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
		spanID, _ := trace.SpanIDFromHex("b7ad6b7169203331")
		traced := trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: spanID, TraceFlags: trace.FlagsSampled}))
		before := time.Now()
		if err := f.handle(traced, orderEvent(t, "tx-traced", event.Item{SKU: "T-A", Quantity: 1})); err != nil {
			t.Fatal(err)
		}
		f.order("tx-untraced", event.Item{SKU: "T-A", Quantity: 1})
		s, err := repo.OutboxStats(ctx)
		if err != nil || s.Pending != 4 || s.Oldest.Before(before.Add(-time.Millisecond)) || s.Oldest.After(time.Now()) {
			t.Fatalf("OutboxStats = %+v, %v; want 4 pending, the oldest made after %v", s, err, before)
		}
		for _, rec := range f.outbox() {
			want := ""
			if rec.Message.Event.Key == "tx-traced" {
				want = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
			}
			if rec.Message.TraceParent != want {
				t.Errorf("%s %s to %s: traceparent %q, want %q", rec.Message.Event.Key, rec.Message.Event.Type, rec.Message.Topic, rec.Message.TraceParent, want)
			}
		}
		var ids []string
		for _, rec := range f.outbox() {
			ids = append(ids, rec.ID)
		}
		if err := repo.DeleteOutbox(ctx, ids); err != nil {
			t.Fatal(err)
		}
		if s, err := repo.OutboxStats(ctx); err != nil || s.Pending != 0 || !s.Oldest.IsZero() {
			t.Errorf("OutboxStats after the relay = %+v, %v", s, err)
		}
	})
}

func TestOutboxPendingAndDelete(t *testing.T) {
	forEachStore(t, func(t *testing.T, _ store, repo *adapters.SQLRepository) {
		f := newFixture(t, repo)
		ctx := context.Background()
		f.upsert("T-A", 100, 10)
		for i := range 3 { // 2 records each
			f.order(fmt.Sprintf("tx-%d", i), event.Item{SKU: "T-A", Quantity: 1})
		}
		f.order("tx-x", event.Item{SKU: "T-NOPE", Quantity: 1}) // 1 record
		all := f.outbox()
		var keys []string
		for _, rec := range all {
			keys = append(keys, rec.Message.Event.Key+"/"+rec.Message.Topic)
		}
		if want := "tx-0/payment tx-0/order tx-1/payment tx-1/order tx-2/payment tx-2/order tx-x/order"; strings.Join(keys, " ") != want {
			t.Fatalf("outbox order %v, want %s", keys, want)
		}
		first, err := repo.PendingOutbox(ctx, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(first) != 3 || first[0].ID != all[0].ID || first[2].ID != all[2].ID {
			t.Fatalf("first batch %+v", first)
		}
		if err := repo.DeleteOutbox(ctx, []string{first[0].ID, first[1].ID, first[2].ID}); err != nil {
			t.Fatal(err)
		}
		rest := f.outbox()
		if len(rest) != 4 || rest[0].ID != all[3].ID {
			t.Fatalf("after delete: %d records starting %+v", len(rest), rest)
		}
		// Published records stay deleted even when they are deleted twice.
		if err := repo.DeleteOutbox(ctx, []string{first[0].ID}); err != nil {
			t.Fatal(err)
		}
		f.order("tx-3", event.Item{SKU: "T-A", Quantity: 1})
		if recs := f.outbox(); len(recs) != 6 || recs[4].Message.Event.Key != "tx-3" {
			t.Fatalf("new records are not last: %+v", recs)
		}
		if err := repo.DeleteOutbox(ctx, nil); err != nil {
			t.Fatal(err)
		}
	})
}

// TestConcurrentOrdersNeverOversell has 16 workers place more orders for one SKU than its
// 1,000 units while a watcher checks that stock is never negative and available+reserved
// stays 1,000; then they release what they got, concurrently.
func TestConcurrentOrdersNeverOversell(t *testing.T) {
	const (
		workers  = 16
		perWork  = 100 // 1,600 orders of one unit for 1,000 units
		stock    = 1000
		deadline = 2 * time.Minute
	)
	forEachStore(t, func(t *testing.T, _ store, repo *adapters.SQLRepository) {
		f := newFixture(t, repo)
		f.upsert("T-HOT", 1500, stock)
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()

		var retries atomic.Int64
		// handle retries transient errors, as the consumer does.
		handle := func(e event.Event) error {
			for {
				err := f.handle(ctx, e)
				if err == nil || errors.Is(err, event.ErrInvalid) || errors.Is(err, adapters.ErrStockChanged) || ctx.Err() != nil {
					return err // ErrStockChanged: the rows were not locked, the test fails
				}
				retries.Add(1)
			}
		}
		stopWatch := make(chan struct{})
		var checks atomic.Int64
		watchErr := make(chan error, 1)
		go func() {
			defer close(watchErr)
			for {
				select {
				case <-stopWatch:
					return
				default:
				}
				p, err := repo.Product(ctx, "T-HOT")
				if err == nil && (p.Available < 0 || p.Available+p.Reserved != stock) {
					err = fmt.Errorf("seen available %d reserved %d", p.Available, p.Reserved)
				}
				if err != nil {
					watchErr <- err
					return
				}
				checks.Add(1)
			}
		}()

		run := func(phase string, work func(w, i int) error) {
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for w := range workers {
				wg.Go(func() {
					for i := range perWork {
						if err := work(w, i); err != nil {
							errs <- fmt.Errorf("%s worker %d #%d: %w", phase, w, i, err)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
		}
		start := time.Now()
		run("reserve", func(w, i int) error {
			return handle(orderEvent(t, fmt.Sprintf("tx-%d-%d", w, i), event.Item{SKU: "T-HOT", Quantity: 1}))
		})
		reserveTime := time.Since(start)
		f.wantStock("T-HOT", 0, stock)

		var reserved, rejected int
		for _, rec := range f.outbox() {
			switch {
			case rec.Message.Event.Type == event.TypeItemReserved && rec.Message.Topic == "payment":
				reserved++
			case rec.Message.Event.Type == event.TypeOutOfStock:
				rejected++
			}
		}
		if reserved != stock || rejected != workers*perWork-stock {
			t.Fatalf("%d ITEM_RESERVED and %d OUT_OF_STOCK, want %d and %d", reserved, rejected, stock, workers*perWork-stock)
		}

		start = time.Now()
		var released atomic.Int64
		run("release", func(w, i int) error {
			err := handle(paymentFailedEvent(t, fmt.Sprintf("tx-%d-%d", w, i)))
			if errors.Is(err, event.ErrInvalid) {
				return nil // this order was rejected: nothing to release
			}
			released.Add(1)
			return err
		})
		releaseTime := time.Since(start)
		close(stopWatch)
		if err := <-watchErr; err != nil {
			t.Fatal(err)
		}
		f.wantStock("T-HOT", stock, 0)
		if released.Load() != stock {
			t.Fatalf("released %d orders, want %d", released.Load(), stock)
		}
		t.Logf("%d orders by %d workers: %d reserved, %d rejected in %v; %d released in %v; %d transient retries; %d invariant checks",
			workers*perWork, workers, reserved, rejected, reserveTime.Round(time.Millisecond), released.Load(), releaseTime.Round(time.Millisecond), retries.Load(), checks.Load())
	})
}

// BenchmarkReserve measures ORDER_CREATE transactions per second (reserve one unit, store the
// dedup record and two outbox rows) against each adapter, with as many concurrent callers as
// the consumer applies events at once (kafka.DefaultLanes per partition, one partition per
// key here, so the callers are spread over kafka.DefaultPartitions partitions' worth of lanes),
// on a store that has seen no order and on one holding the records of 200,000 earlier orders:
// a reservation costs the same either way.
func BenchmarkReserve(b *testing.B) {
	for _, s := range stores(b) {
		for _, history := range []int{0, 200_000} {
			b.Run(fmt.Sprintf("%s/history=%d", s.name, history), func(b *testing.B) {
				repo := s.open(b)
				a := app.New(repo, config.DefaultTopics, func() {})
				if err := repo.UpsertProduct(context.Background(), domain.Product{SKU: "B-1", Name: "Bench", Price: 100, Currency: "EUR", Available: 1 << 30}); err != nil {
					b.Fatal(err)
				}
				addHistory(b, s.raw(b), "B-1", history)
				run := randomHex(4)
				var n atomic.Int64
				callers := kafka.DefaultLanes * kafka.DefaultPartitions
				b.SetParallelism(max(1, callers/runtime.GOMAXPROCS(0)))
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						tx := fmt.Sprintf("bench-%s-%d", run, n.Add(1))
						e := orderEvent(b, tx, event.Item{SKU: "B-1", Quantity: 1})
						if err := a.OnOrderCreated(context.Background(), e); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
			})
		}
	}
}

// BenchmarkProducts measures GET /products's query on a store that has seen no order and on
// one holding the records of 200,000 sold orders: a read costs the same either way.
func BenchmarkProducts(b *testing.B) {
	for _, s := range stores(b) {
		for _, history := range []int{0, 200_000} {
			b.Run(fmt.Sprintf("%s/history=%d", s.name, history), func(b *testing.B) {
				repo := s.open(b)
				addHistory(b, s.raw(b), "SKU-1001", history)
				b.ResetTimer()
				for b.Loop() {
					if _, err := repo.Products(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// addHistory stores what n sold orders of one unit of sku leave behind: their reservations
// (ACTIVE: a sale is never released), their dedup records and the units they hold.
func addHistory(b *testing.B, db *sql.DB, sku string, n int) {
	ctx := context.Background()
	var have int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM reservations WHERE transaction_id LIKE 'history-%'`).Scan(&have); err != nil {
		b.Fatal(err)
	}
	if have >= n {
		return // added by an earlier round of this benchmark
	}
	const rows = 500
	for start := 0; start < n; start += rows {
		k := min(rows, n-start)
		res := make([]any, 0, 5*k)
		done := make([]any, 0, k)
		for i := start; i < start+k; i++ {
			tx := fmt.Sprintf("history-%d", i)
			res = append(res, tx, sku, 1, 100, "ACTIVE")
			done = append(done, "history-event-"+tx)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO reservations (transaction_id, sku, quantity, unit_price, status) VALUES (?, ?, ?, ?, ?)`+
			strings.Repeat(", (?, ?, ?, ?, ?)", k-1), res...); err != nil {
			b.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO processed_events (event_id) VALUES (?)`+strings.Repeat(", (?)", k-1), done...); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, `UPDATE products SET reserved = reserved + ? WHERE sku = ?`, n, sku); err != nil {
		b.Fatal(err)
	}
}
