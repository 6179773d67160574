package adapters_test

import (
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// createAt stores a new PENDING order created at createdAt.
func createAt(t *testing.T, r app.Repository, createdAt time.Time) domain.Order {
	t.Helper()
	id := uuid.NewString()
	o, err := domain.NewOrder(id, "alice", []domain.Item{{SKU: "SKU-1001", Quantity: 1}}, "pm_card_visa", createdAt)
	if err != nil {
		t.Fatal(err)
	}
	e, err := event.New(event.TypeOrderCreate, app.Source, id, event.OrderCreate{TransactionID: id, CustomerID: "alice",
		Items: []event.Item{{SKU: "SKU-1001", Quantity: 1}}, PaymentMethod: "pm_card_visa"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateOrder(ctx, o, kafka.Message{Topic: "inventory", Event: e}, app.IdempotencyKey{}); err != nil {
		t.Fatal(err)
	}
	return o
}

// dueOrders polls DueOrders until it answers want (DynamoDB's index is eventually consistent).
func dueOrders(t *testing.T, r app.Repository, createdBefore time.Time, want []string) {
	t.Helper()
	slices.Sort(want)
	var got []string
	for deadline := time.Now().Add(10 * time.Second); ; {
		var err error
		if got, err = r.DueOrders(ctx, createdBefore, 100); err != nil {
			t.Fatalf("DueOrders: %v", err)
		}
		slices.Sort(got)
		if slices.Equal(got, want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("DueOrders = %v, want %v", got, want)
	}
}

// testDeadlines runs the deadline sweeper's store calls against an adapter.
func testDeadlines(t *testing.T, newRepo func(t *testing.T) app.Repository) {
	t.Run("due orders are the ones in flight past the cutoff", func(t *testing.T) {
		r := newRepo(t)
		now := time.Now().UTC()
		old := createAt(t, r, now.Add(-2*time.Minute))
		reserved := createAt(t, r, now.Add(-90*time.Second))
		settled := createAt(t, r, now.Add(-2*time.Minute))
		createAt(t, r, now) // not due
		// A whole second sorts after its fractions as RFC 3339 text; the store must not care.
		whole := createAt(t, r, now.Add(-3*time.Minute).Truncate(time.Second))
		for _, step := range []struct {
			o   domain.Order
			typ event.Type
		}{{reserved, event.TypeItemReserved}, {settled, event.TypeOutOfStock}} {
			o, err := r.GetOrder(ctx, step.o.TransactionID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := o.Apply(domain.Event{ID: "e", Type: step.typ, At: now, Reason: event.ReasonOutOfStock}); err != nil {
				t.Fatal(err)
			}
			if err := r.UpdateOrder(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		dueOrders(t, r, now.Add(-time.Minute), []string{old.TransactionID, reserved.TransactionID, whole.TransactionID})
		dueOrders(t, r, now.Add(-3*time.Minute), []string{whole.TransactionID})
	})

	t.Run("replicas expire an order once, with its events", func(t *testing.T) {
		r := newRepo(t)
		o := createAt(t, r, time.Now().Add(-2*time.Minute))
		createAt(t, r, time.Now()) // not due
		dueOrders(t, r, time.Now().Add(-time.Minute), []string{o.TransactionID})
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		var expired atomic.Int64
		var wg sync.WaitGroup
		for range 4 { // four replicas, each its own App over the same store
			wg.Go(func() {
				n, err := app.New(r, "inventory", nil).Expirer(time.Minute, log, "inventory", "payment").ExpireDue(ctx)
				if err != nil {
					t.Errorf("ExpireDue: %v", err)
				}
				expired.Add(int64(n))
			})
		}
		wg.Wait()
		if expired.Load() != 1 {
			t.Fatalf("%d expiries, want 1", expired.Load())
		}
		got, err := r.GetOrder(ctx, o.TransactionID)
		if err != nil {
			t.Fatal(err)
		}
		last := got.History[len(got.History)-1]
		if got.Status != domain.StatusCancelled || got.Reason != event.ReasonExpired || len(got.History) != 2 || last.Type != event.TypeOrderExpired || got.Version != o.Version+1 {
			t.Fatalf("expired order = %+v", got)
		}
		recs, err := r.PendingOutbox(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		var topics []string
		announced := 0
		for _, rec := range recs {
			if rec.Message.Event.Type == event.TypeOrderCancelled && rec.Message.Event.Key == o.TransactionID {
				p, err := event.Decode[event.OrderOutcome](rec.Message.Event)
				if err != nil || p.Reason != event.ReasonExpired || rec.Message.Topic != "order-status" {
					t.Errorf("ORDER_CANCELLED record %+v (%+v, %v), want reason EXPIRED on order-status", rec.Message, p, err)
				}
				announced++
			}
			if rec.Message.Event.Type == event.TypeOrderExpired {
				p, err := event.Decode[event.OrderExpired](rec.Message.Event)
				if err != nil || p.TransactionID != o.TransactionID || rec.Message.Event.Key != o.TransactionID ||
					rec.Message.Event.ID != event.IDFor(o.TransactionID, event.TypeOrderExpired) || !p.Deadline.Equal(o.CreatedAt.Add(time.Minute)) {
					t.Errorf("ORDER_EXPIRED record %+v (%+v, %v)", rec.Message, p, err)
				}
				topics = append(topics, rec.Message.Topic)
			}
		}
		if announced != 1 {
			t.Errorf("%d ORDER_CANCELLED announcements, want 1", announced)
		}
		slices.Sort(topics)
		if !slices.Equal(topics, []string{"inventory", "payment"}) {
			t.Errorf("ORDER_EXPIRED went to %v, want inventory and payment", topics)
		}
		dueOrders(t, r, time.Now().Add(-time.Minute), []string{}) // the expired order is no longer in flight
	})

	t.Run("a stale expiry conflicts and writes nothing", func(t *testing.T) {
		r := newRepo(t)
		o := createAt(t, r, time.Now().Add(-2*time.Minute))
		done := o
		if _, err := done.Apply(domain.Event{ID: "e", Type: event.TypeOutOfStock, At: time.Now(), Reason: event.ReasonOutOfStock}); err != nil {
			t.Fatal(err)
		}
		if err := r.UpdateOrder(ctx, done); err != nil {
			t.Fatal(err)
		}
		if !o.Expire(time.Now(), time.Minute) {
			t.Fatal("not expired")
		}
		e, _ := event.New(event.TypeOrderExpired, app.Source, o.TransactionID, event.OrderExpired{TransactionID: o.TransactionID, Reason: event.ReasonExpired})
		err := r.UpdateOrderWithEvents(ctx, o, []kafka.Message{{Topic: "payment", Event: e}})
		if !errorsIsConflict(err) {
			t.Fatalf("UpdateOrderWithEvents over a stale version: %v, want ErrConflict", err)
		}
		for _, id := range pending(t, r, 100) {
			if id != o.History[0].EventID {
				t.Errorf("outbox holds %s after a failed expiry", id)
			}
		}
	})
}

func errorsIsConflict(err error) bool { return err != nil && errors.Is(err, app.ErrConflict) }

// TestDynamoDBDueOrdersOnATableWithoutTheIndex opens an orders table made before the deadline
// existed: DynamoDB Local cannot add the index to it, so due orders are found by a scan.
func TestDynamoDBDueOrdersOnATableWithoutTheIndex(t *testing.T) {
	cfg := dynamoDBTestConfig(t, "old")
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(cfg.Region))
	if err != nil {
		t.Fatal(err)
	}
	client := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(cfg.Endpoint) })
	if _, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(cfg.OrdersTable),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("transactionId"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("transactionId"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	r := newDynamoDBRepository(t, cfg)
	due := createAt(t, r, time.Now().Add(-2*time.Minute))
	createAt(t, r, time.Now())
	dueOrders(t, r, time.Now().Add(-time.Minute), []string{due.TransactionID})
	n, err := app.New(r, "inventory", nil).Expirer(time.Minute, slog.New(slog.NewTextHandler(io.Discard, nil)), "inventory").ExpireDue(ctx)
	if err != nil || n != 1 {
		t.Fatalf("ExpireDue = %d, %v; want 1 expired", n, err)
	}
	dueOrders(t, r, time.Now().Add(-time.Minute), []string{})
}
