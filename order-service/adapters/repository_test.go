package adapters_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"

	"github.com/edmshop/edm-shop/order-service/adapters"
	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/outbox"
	"github.com/edmshop/edm-shop/platform/sqlite"
)

// The one repository suite, run against every adapter.

func TestSQLiteRepository(t *testing.T) {
	testRepository(t, func(t *testing.T) app.Repository {
		r, err := adapters.NewSQLiteRepository(filepath.Join(t.TempDir(), "orders.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	})
}

// TestSQLiteRepositoryUpgradesAnOutboxWithoutTraceColumns opens a database made before the
// outbox kept trace context: its records are still relayed, with none.
func TestSQLiteRepositoryUpgradesAnOutboxWithoutTraceColumns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, topic TEXT NOT NULL,
		event_key TEXT NOT NULL, event_id TEXT NOT NULL, event_type TEXT NOT NULL, source TEXT NOT NULL, event_time TEXT NOT NULL,
		data TEXT NOT NULL, created_at TEXT NOT NULL);
		INSERT INTO outbox (id, topic, event_key, event_id, event_type, source, event_time, data, created_at)
		VALUES ('old', 'inventory', 'tx', 'old', 'ORDER_CREATE', '/order-service', '2026-01-01T00:00:00Z', '{}', '2026-01-01T00:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for range 2 { // opening again finds the columns there
		r, err := adapters.NewSQLiteRepository(path)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := r.PendingOutbox(ctx, 10)
		r.Close()
		if err != nil || len(recs) != 1 || recs[0].ID != "old" || recs[0].Message.TraceParent != "" {
			t.Fatalf("PendingOutbox of the upgraded database = %+v, %v", recs, err)
		}
	}
}

func TestDynamoDBRepository(t *testing.T) {
	if os.Getenv("DYNAMODB_ENDPOINT") == "" {
		t.Skip("DYNAMODB_ENDPOINT not set; run `make infra-up` and `eval $(scripts/infra.sh env)`")
	}
	run := randomSuffix(t)
	testRepository(t, func(t *testing.T) app.Repository {
		return newDynamoDBRepository(t, dynamoDBTestConfig(t, run))
	})
}

// dynamoDBTestConfig skips the test without DYNAMODB_ENDPOINT and returns the environment's
// configuration with tables of the test's own: their names end in -name-<random>.
func dynamoDBTestConfig(t testing.TB, name string) adapters.DynamoDBConfig {
	if os.Getenv("DYNAMODB_ENDPOINT") == "" {
		t.Skip("DYNAMODB_ENDPOINT not set; run `make infra-up` and `eval $(scripts/infra.sh env)`")
	}
	cfg := adapters.DynamoDBConfigFromEnv()
	suffix := "-" + name + "-" + randomSuffix(t)
	cfg.OrdersTable += suffix
	cfg.IdempotencyTable += suffix
	cfg.OutboxTable += suffix
	return cfg
}

// newDynamoDBRepository opens a DynamoDBRepository on cfg (creating its tables) and deletes
// its tables when the test ends.
func newDynamoDBRepository(t testing.TB, cfg adapters.DynamoDBConfig) *adapters.DynamoDBRepository {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := adapters.NewDynamoDBRepository(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.DeleteTables(context.Background()); err != nil {
			t.Errorf("delete tables: %v", err)
		}
	})
	return r
}

func randomSuffix(t testing.TB) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

var ctx = context.Background()

// newOrder returns a fresh PENDING order and its ORDER_CREATE outbox message.
func newOrder(t testing.TB) (domain.Order, kafka.Message) {
	t.Helper()
	id := uuid.NewString()
	o, err := domain.NewOrder(id, "alice", []domain.Item{{SKU: "SKU-1001", Quantity: 2}, {SKU: "SKU-1002", Quantity: 1}}, "pm_card_visa", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e, err := event.New(event.TypeOrderCreate, app.Source, id, event.OrderCreate{TransactionID: id, CustomerID: "alice",
		Items: []event.Item{{SKU: "SKU-1001", Quantity: 2}, {SKU: "SKU-1002", Quantity: 1}}, PaymentMethod: "pm_card_visa"})
	if err != nil {
		t.Fatal(err)
	}
	return o, kafka.Message{Topic: "inventory", Event: e}
}

func create(t *testing.T, r app.Repository) (domain.Order, kafka.Message) {
	t.Helper()
	o, msg := newOrder(t)
	if _, err := r.CreateOrder(ctx, o, msg, app.IdempotencyKey{}); err != nil {
		t.Fatalf("CreateOrder: %v", err)
	}
	return o, msg
}

func pending(t *testing.T, r app.Repository, limit int) []string {
	t.Helper()
	recs, err := r.PendingOutbox(ctx, limit)
	if err != nil {
		t.Fatalf("PendingOutbox: %v", err)
	}
	ids := make([]string, len(recs))
	for i, rec := range recs {
		ids[i] = rec.ID
	}
	return ids
}

func assertSameOrder(t *testing.T, got, want domain.Order) {
	t.Helper()
	if got.TransactionID != want.TransactionID || got.CustomerID != want.CustomerID || got.PaymentMethod != want.PaymentMethod ||
		got.Status != want.Status || got.Reason != want.Reason || got.Amount != want.Amount || got.Currency != want.Currency ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) || got.Version != want.Version {
		t.Errorf("order = %+v\nwant    %+v", got, want)
	}
	if len(got.Items) != len(want.Items) {
		t.Fatalf("items = %+v, want %+v", got.Items, want.Items)
	}
	for i := range got.Items {
		if got.Items[i] != want.Items[i] {
			t.Errorf("items[%d] = %+v, want %+v", i, got.Items[i], want.Items[i])
		}
	}
	if len(got.History) != len(want.History) {
		t.Fatalf("history = %+v, want %+v", got.History, want.History)
	}
	for i, h := range got.History {
		w := want.History[i]
		if h.EventID != w.EventID || h.Type != w.Type || !h.At.Equal(w.At) || h.Applied != w.Applied {
			t.Errorf("history[%d] = %+v, want %+v", i, h, w)
		}
	}
}

func testRepository(t *testing.T, newRepo func(t *testing.T) app.Repository) {
	testDeadlines(t, newRepo)
	testParking(t, newRepo)
	testListOrders(t, newRepo)
	t.Run("create and get", func(t *testing.T) {
		r := newRepo(t)
		o, msg := create(t, r)
		got, err := r.GetOrder(ctx, o.TransactionID)
		if err != nil {
			t.Fatalf("GetOrder: %v", err)
		}
		assertSameOrder(t, got, o)

		recs, err := r.PendingOutbox(ctx, 10)
		if err != nil || len(recs) != 1 {
			t.Fatalf("PendingOutbox = %+v, %v, want one record", recs, err)
		}
		m, want := recs[0].Message, msg
		if m.Topic != want.Topic || m.Event.ID != want.Event.ID || m.Event.Type != want.Event.Type || m.Event.Source != want.Event.Source ||
			m.Event.Key != want.Event.Key || !m.Event.Time.Equal(want.Event.Time) || string(m.Event.Data) != string(want.Event.Data) {
			t.Errorf("outbox message = %+v\nwant %+v", m, want)
		}
		if err := r.Ping(ctx); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})

	t.Run("not found", func(t *testing.T) {
		r := newRepo(t)
		if _, err := r.GetOrder(ctx, uuid.NewString()); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("GetOrder(unknown) error = %v, want ErrNotFound", err)
		}
		o, _ := newOrder(t)
		if err := r.UpdateOrder(ctx, o); !errors.Is(err, app.ErrConflict) {
			t.Errorf("UpdateOrder(unknown) error = %v, want ErrConflict", err)
		}
		if _, err := r.GetOrder(ctx, o.TransactionID); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("UpdateOrder(unknown) created the order: GetOrder error = %v", err)
		}
	})

	t.Run("idempotency key hit writes nothing", func(t *testing.T) {
		r := newRepo(t)
		first, msg := newOrder(t)
		key := app.IdempotencyKey{Key: "key-" + first.TransactionID, RequestHash: "hash-1", TransactionID: first.TransactionID}
		if _, err := r.CreateOrder(ctx, first, msg, key); err != nil {
			t.Fatalf("CreateOrder: %v", err)
		}
		second, msg2 := newOrder(t)
		retry := app.IdempotencyKey{Key: key.Key, RequestHash: "hash-2", TransactionID: second.TransactionID}
		stored, err := r.CreateOrder(ctx, second, msg2, retry)
		if !errors.Is(err, app.ErrIdempotencyKeyExists) {
			t.Fatalf("CreateOrder with a used key: error = %v, want ErrIdempotencyKeyExists", err)
		}
		if stored != key {
			t.Errorf("stored key = %+v, want %+v", stored, key)
		}
		if _, err := r.GetOrder(ctx, second.TransactionID); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("second order was stored: GetOrder error = %v", err)
		}
		if ids := pending(t, r, 10); len(ids) != 1 || ids[0] != msg.Event.ID {
			t.Errorf("outbox = %v, want only %s", ids, msg.Event.ID)
		}
	})

	t.Run("outbox pending and delete", func(t *testing.T) {
		r := newRepo(t)
		var want []string
		for range 3 {
			_, msg := create(t, r)
			want = append(want, msg.Event.ID)
		}
		if got := pending(t, r, 10); len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Fatalf("PendingOutbox = %v, want %v (oldest first)", got, want)
		}
		if got := pending(t, r, 2); len(got) != 2 {
			t.Errorf("PendingOutbox(limit 2) = %v, want 2 records", got)
		}
		if err := r.DeleteOutbox(ctx, want[:2]); err != nil {
			t.Fatalf("DeleteOutbox: %v", err)
		}
		if got := pending(t, r, 10); len(got) != 1 || got[0] != want[2] {
			t.Errorf("PendingOutbox after delete = %v, want [%s]", got, want[2])
		}
		if err := r.DeleteOutbox(ctx, []string{want[0], "no-such-record"}); err != nil {
			t.Errorf("DeleteOutbox of records already gone: %v", err)
		}
		if err := r.DeleteOutbox(ctx, nil); err != nil {
			t.Errorf("DeleteOutbox(nil): %v", err)
		}
	})

	t.Run("outbox stats", func(t *testing.T) {
		r := newRepo(t)
		stats := r.(outbox.StatsStore)
		if s, err := stats.OutboxStats(ctx); err != nil || s.Pending != 0 || !s.Oldest.IsZero() {
			t.Fatalf("OutboxStats of an empty outbox = %+v, %v", s, err)
		}
		before := time.Now()
		_, first := create(t, r)
		after := time.Now()
		_, second := create(t, r)
		s, err := stats.OutboxStats(ctx)
		if err != nil || s.Pending != 2 || s.Oldest.Before(before.Add(-time.Millisecond)) || s.Oldest.After(after) {
			t.Fatalf("OutboxStats = %+v, %v; want 2 pending, the oldest stored between %v and %v", s, err, before, after)
		}
		if err := r.DeleteOutbox(ctx, []string{first.Event.ID, second.Event.ID}); err != nil {
			t.Fatal(err)
		}
		if s, err := stats.OutboxStats(ctx); err != nil || s.Pending != 0 || !s.Oldest.IsZero() {
			t.Errorf("OutboxStats after the relay = %+v, %v", s, err)
		}
	})

	t.Run("outbox keeps the trace context of the caller", func(t *testing.T) {
		r := newRepo(t)
		traceID, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
		spanID, _ := trace.SpanIDFromHex("b7ad6b7169203331")
		state, _ := trace.ParseTraceState("vendor=x")
		traced := trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: traceID, SpanID: spanID, TraceFlags: trace.FlagsSampled, TraceState: state}))
		o, msg := newOrder(t)
		if _, err := r.CreateOrder(traced, o, msg, app.IdempotencyKey{}); err != nil {
			t.Fatal(err)
		}
		_, untraced := create(t, r)
		recs, err := r.PendingOutbox(ctx, 10)
		if err != nil || len(recs) != 2 {
			t.Fatalf("PendingOutbox = %d records, %v", len(recs), err)
		}
		got := map[string]kafka.Message{recs[0].ID: recs[0].Message, recs[1].ID: recs[1].Message}
		if m := got[msg.Event.ID]; m.TraceParent != "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" || m.TraceState != "vendor=x" {
			t.Errorf("stored trace context %q %q", m.TraceParent, m.TraceState)
		}
		if m := got[untraced.Event.ID]; m.TraceParent != "" || m.TraceState != "" {
			t.Errorf("a record stored outside any trace has trace context %q %q", m.TraceParent, m.TraceState)
		}
	})

	t.Run("stale update conflicts", func(t *testing.T) {
		r := newRepo(t)
		o, _ := create(t, r)
		first, stale := o, o
		if _, err := first.Apply(domain.Event{ID: "e1", Type: event.TypeItemReserved, At: time.Now(), Amount: 100, Currency: "EUR"}); err != nil {
			t.Fatal(err)
		}
		if err := r.UpdateOrder(ctx, first); err != nil {
			t.Fatalf("UpdateOrder: %v", err)
		}
		if _, err := stale.Apply(domain.Event{ID: "e2", Type: event.TypePaymentComplete, At: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := r.UpdateOrder(ctx, stale); !errors.Is(err, app.ErrConflict) {
			t.Fatalf("UpdateOrder over a stale version: error = %v, want ErrConflict", err)
		}
		got, err := r.GetOrder(ctx, o.TransactionID)
		if err != nil {
			t.Fatal(err)
		}
		first.Version++
		assertSameOrder(t, got, first)
	})

	t.Run("update stores its events in the same write", func(t *testing.T) {
		r := newRepo(t)
		o, created := create(t, r)
		if err := r.DeleteOutbox(ctx, []string{created.Event.ID}); err != nil {
			t.Fatal(err)
		}
		done, stale := o, o
		if _, err := done.Apply(domain.Event{ID: "e1", Type: event.TypePaymentComplete, At: time.Now(), Amount: 100, Currency: "EUR"}); err != nil {
			t.Fatal(err)
		}
		status, err := event.New(event.TypeOrderCompleted, app.Source, o.TransactionID, event.OrderOutcome{TransactionID: o.TransactionID,
			CustomerID: o.CustomerID, Status: event.StatusCompleted, Items: []event.Item{{SKU: "SKU-1001", Quantity: 2}}, Amount: 100, Currency: "EUR"})
		if err != nil {
			t.Fatal(err)
		}
		msg := kafka.Message{Topic: "order-status", Event: status}
		if err := r.UpdateOrder(ctx, done, msg); err != nil {
			t.Fatalf("UpdateOrder with an event: %v", err)
		}
		recs, err := r.PendingOutbox(ctx, 10)
		if err != nil || len(recs) != 1 {
			t.Fatalf("PendingOutbox = %+v, %v; want the status event", recs, err)
		}
		if m := recs[0].Message; recs[0].ID != status.ID || m.Topic != "order-status" || m.Event.Type != event.TypeOrderCompleted ||
			m.Event.Key != o.TransactionID || string(m.Event.Data) != string(status.Data) {
			t.Errorf("outbox record = %+v", recs[0])
		}

		// A stale update with events stores neither the order nor its events.
		if _, err := stale.Apply(domain.Event{ID: "e2", Type: event.TypeOutOfStock, At: time.Now(), Reason: event.ReasonOutOfStock}); err != nil {
			t.Fatal(err)
		}
		cancelled, err := event.New(event.TypeOrderCancelled, app.Source, o.TransactionID, event.OrderOutcome{TransactionID: o.TransactionID,
			CustomerID: o.CustomerID, Status: event.StatusCancelled, Reason: event.ReasonOutOfStock, Items: []event.Item{{SKU: "SKU-1001", Quantity: 2}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.UpdateOrder(ctx, stale, kafka.Message{Topic: "order-status", Event: cancelled}); !errors.Is(err, app.ErrConflict) {
			t.Fatalf("stale UpdateOrder with an event: error = %v, want ErrConflict", err)
		}
		if ids := pending(t, r, 10); len(ids) != 1 || ids[0] != status.ID {
			t.Errorf("outbox after a conflicting update = %v, want only %s", ids, status.ID)
		}
		got, err := r.GetOrder(ctx, o.TransactionID)
		if err != nil {
			t.Fatal(err)
		}
		done.Version++
		assertSameOrder(t, got, done)
	})

	t.Run("concurrent events are all applied", func(t *testing.T) {
		r := newRepo(t)
		o, _ := create(t, r)
		a := app.New(r, "inventory", nil)
		id := o.TransactionID
		// Distinct events (ids) for one order, applied at once: each must end up in the
		// history, none lost to a concurrent write.
		events := []event.Event{
			newEvent(t, event.TypeItemReserved, id, "reserved", event.ItemReserved{TransactionID: id, CustomerID: "alice",
				Items: []event.PricedItem{{SKU: "SKU-1001", Quantity: 2, UnitPrice: 999}}, Amount: 1998, Currency: "EUR", PaymentMethod: "pm_card_visa"}),
			newEvent(t, event.TypePaymentComplete, id, "paid", event.PaymentComplete{TransactionID: id, Amount: 1998, Currency: "EUR", ChargeID: "ch_1"}),
		}
		for i := range 6 {
			events = append(events, newEvent(t, event.TypePaymentComplete, id, "paid-again-"+string(rune('a'+i)),
				event.PaymentComplete{TransactionID: id, Amount: 1998, Currency: "EUR", ChargeID: "ch_1"}))
		}
		handlers := map[event.Type]func(context.Context, event.Event) error{
			event.TypeItemReserved: a.OnItemReserved, event.TypePaymentComplete: a.OnPaymentComplete,
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(events))
		for _, e := range events {
			wg.Go(func() { errs <- handlers[e.Type](ctx, e) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("apply: %v", err)
			}
		}
		got, err := r.GetOrder(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, h := range got.History {
			seen[h.EventID] = true
		}
		for _, e := range events {
			if !seen[e.ID] {
				t.Errorf("event %s was lost; history = %+v", e.ID, got.History)
			}
		}
		if len(got.History) != len(events)+1 || got.Version != int64(len(events)) {
			t.Errorf("history has %d entries at version %d, want %d at version %d", len(got.History), got.Version, len(events)+1, len(events))
		}
		if got.Status != domain.StatusCompleted || got.Amount != 1998 || got.Currency != "EUR" {
			t.Errorf("order = %s %d %s, want COMPLETED 1998 EUR", got.Status, got.Amount, got.Currency)
		}
	})

	t.Run("event for unknown order is invalid", func(t *testing.T) {
		r := newRepo(t)
		a := app.New(r, "inventory", nil)
		id := uuid.NewString()
		e := newEvent(t, event.TypeItemReleased, id, "released", event.ItemReleased{TransactionID: id, Reason: event.ReasonPaymentDeclined})
		if err := a.OnItemReleased(ctx, e); !errors.Is(err, event.ErrInvalid) {
			t.Errorf("OnItemReleased(unknown order) error = %v, want event.ErrInvalid", err)
		}
	})
}

// newEvent builds an event with its own id, so several events of one type are distinct.
func newEvent(t *testing.T, typ event.Type, transactionID, name string, payload any) event.Event {
	t.Helper()
	e, err := event.New(typ, "/test", transactionID, payload)
	if err != nil {
		t.Fatal(err)
	}
	e.ID = name + "-" + transactionID
	return e
}
