package app

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// MaxIdempotencyKeyLength bounds the Idempotency-Key header.
const MaxIdempotencyKeyLength = 255

// CodeInvalidIdempotencyKey is the validation code of an over-long Idempotency-Key.
const CodeInvalidIdempotencyKey = "INVALID_IDEMPOTENCY_KEY"

// ErrIdempotencyKeyReused: the client sent an Idempotency-Key it already used for a different
// request.
var ErrIdempotencyKeyReused = errors.New("idempotency key was already used for a different request")

// PlaceOrder is a customer's request to buy items.
type PlaceOrder struct {
	// IdempotencyKey, when set, makes a retried request return the order the first one created.
	IdempotencyKey string
	CustomerID     string
	Items          []domain.Item
	PaymentMethod  string
}

// PlaceOrder accepts an order: it stores it as PENDING together with its ORDER_CREATE event in
// the outbox, and returns its transactionId. An invalid request returns a
// *domain.ValidationError; a reused idempotency key returns the first order's id, or
// ErrIdempotencyKeyReused when the request differs. While the in-flight limit is reached it
// stores nothing and returns ErrOverloaded (LimitInFlight).
func (a *App) PlaceOrder(ctx context.Context, cmd PlaceOrder) (string, error) {
	if utf8.RuneCountInString(cmd.IdempotencyKey) > MaxIdempotencyKeyLength {
		return "", &domain.ValidationError{Code: CodeInvalidIdempotencyKey,
			Message: fmt.Sprintf("Idempotency-Key must be at most %d characters", MaxIdempotencyKeyLength)}
	}
	id := uuid.NewString()
	o, err := domain.NewOrder(id, cmd.CustomerID, cmd.Items, cmd.PaymentMethod, a.now())
	if err != nil {
		return "", err
	}
	items := make([]event.Item, len(o.Items))
	for i, it := range o.Items {
		items[i] = event.Item{SKU: it.SKU, Quantity: it.Quantity}
	}
	created, err := event.New(event.TypeOrderCreate, Source, id, event.OrderCreate{
		TransactionID: id, CustomerID: o.CustomerID, Items: items, PaymentMethod: o.PaymentMethod,
	})
	if err != nil {
		return "", err
	}
	key := IdempotencyKey{}
	if cmd.IdempotencyKey != "" {
		key = IdempotencyKey{Key: scopedKey(cmd.CustomerID, cmd.IdempotencyKey), RequestHash: requestHash(cmd), TransactionID: id}
	}
	// Refused at once while the gate is full, so that a flood of refusals does not count as
	// writes in progress (RecountInFlight); admitted before the write, inside counted, so the
	// limit holds however many requests race for it.
	if a.inFlight.Full() {
		return a.refuse(ctx, key)
	}
	var stored IdempotencyKey
	err = a.counted(func() error {
		if !a.inFlight.TryAcquire() {
			return ErrOverloaded
		}
		var err error
		if stored, err = a.repo.CreateOrder(ctx, o, kafka.Message{Topic: a.inventoryTopic, Event: created}, key); err != nil {
			a.inFlight.Release() // no new order
		}
		return err
	})
	switch {
	case errors.Is(err, ErrOverloaded):
		return a.refuse(ctx, key)
	case errors.Is(err, ErrIdempotencyKeyExists):
		return answerRetry(stored, key)
	case err != nil:
		return "", fmt.Errorf("create order: %w", err)
	}
	a.recent.put(o)
	a.notify()
	a.observer.OrderAccepted(o)
	return id, nil
}

// refuse answers a request the gate has no room for: ErrOverloaded, unless it is a retry of a
// request that created an order, which answers as the first did (a client that lost the 202
// and is told "nothing was stored" could order again and pay twice). Only a request with an
// Idempotency-Key costs the store a read.
func (a *App) refuse(ctx context.Context, key IdempotencyKey) (string, error) {
	if key.Key == "" {
		return "", ErrOverloaded
	}
	stored, found, err := a.repo.FindIdempotencyKey(ctx, key.Key)
	if err != nil || !found {
		return "", ErrOverloaded
	}
	return answerRetry(stored, key)
}

// answerRetry answers a request whose idempotency key is already recorded: the first order's
// id when it asks for the same, ErrIdempotencyKeyReused when it differs.
func answerRetry(stored, key IdempotencyKey) (string, error) {
	if stored.RequestHash != key.RequestHash {
		return "", ErrIdempotencyKeyReused
	}
	return stored.TransactionID, nil
}

// scopedKey is the key an Idempotency-Key is recorded under: one customer's key never meets
// another's. The length prefix keeps ("a:b", "c") and ("a", "b:c") apart.
func scopedKey(customerID, key string) string {
	return strconv.Itoa(len(customerID)) + ":" + customerID + ":" + key
}

// requestHash fingerprints what a request asks for, so the same JSON sent with other spacing
// or field order, or with its items listed in another order, still counts as the same request.
func requestHash(cmd PlaceOrder) string {
	items := slices.Clone(cmd.Items)
	slices.SortFunc(items, func(a, b domain.Item) int {
		return cmp.Or(strings.Compare(a.SKU, b.SKU), cmp.Compare(a.Quantity, b.Quantity))
	})
	b, _ := json.Marshal(struct {
		CustomerID    string
		Items         []domain.Item
		PaymentMethod string
	}{cmd.CustomerID, items, cmd.PaymentMethod})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
