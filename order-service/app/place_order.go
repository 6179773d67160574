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
		return a.refuse(key)
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
		return a.refuse(key)
	case errors.Is(err, ErrIdempotencyKeyExists):
		a.keys.put(stored.Key, stored)
		return answerRetry(stored, key)
	case err != nil:
		return "", fmt.Errorf("create order: %w", err)
	}
	a.recent.put(o)
	if key.Key != "" {
		a.keys.put(key.Key, key)
	}
	a.notify()
	a.observer.OrderAccepted(o)
	return id, nil
}

// refuse answers a request the gate has no room for: ErrOverloaded, unless it is a retry of a
// request whose order this process accepted lately (App.keys), which answers as the first
// did: a client that lost its 202 and is told "nothing was stored" might order again, under a
// new key, and pay twice. Other retries are refused like any request, and answered with their
// order once the gate lets them through to the store. A store read here was measured to cost
// the closed loop 3-7% of its orders a second (its refusals are a fifth of its requests).
func (a *App) refuse(key IdempotencyKey) (string, error) {
	if key.Key != "" {
		if stored, ok := a.keys.get(key.Key); ok {
			return answerRetry(stored, key)
		}
	}
	return "", ErrOverloaded
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
