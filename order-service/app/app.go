// Package app holds order-service's use cases: one file per incoming command or event, so
// "what happens when ITEM_RESERVED arrives" is one hop away (on_item_reserved.go).
package app

import (
	"context"
	"errors"
	"time"

	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/inflight"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/outbox"
)

// Source is the ce_source of every event order-service publishes.
const Source = "/order-service"

// Errors a Repository reports.
var (
	// ErrNotFound: no order has that transactionId.
	ErrNotFound = errors.New("order not found")
	// ErrConflict: the order changed since it was read (its version moved on).
	ErrConflict = errors.New("order was changed concurrently")
	// ErrIdempotencyKeyExists: the idempotency key is already recorded; nothing was written.
	ErrIdempotencyKeyExists = errors.New("idempotency key already exists")
)

// IdempotencyKey records which order a client's Idempotency-Key created, and a hash of the
// request that created it, so a retry can be told apart from a different request.
type IdempotencyKey struct {
	Key           string
	RequestHash   string
	TransactionID string
}

// Repository stores orders, their outbox and idempotency keys.
type Repository interface {
	// CreateOrder stores o (at version o.Version), msg in the outbox and, unless key.Key is
	// empty, key: all in one atomic write. When key.Key is already recorded it writes nothing
	// and returns the recorded key with ErrIdempotencyKeyExists.
	CreateOrder(ctx context.Context, o domain.Order, msg kafka.Message, key IdempotencyKey) (IdempotencyKey, error)
	// GetOrder returns the order, or ErrNotFound. Reads are strongly consistent.
	GetOrder(ctx context.Context, transactionID string) (domain.Order, error)
	// UpdateOrder stores o only if the stored version is still o.Version, and bumps the stored
	// version, together with msgs in the outbox, in one atomic write; otherwise it writes
	// nothing and returns ErrConflict.
	UpdateOrder(ctx context.Context, o domain.Order, msgs ...kafka.Message) error
	Deadlines
	// PurgeIdempotencyKeys forgets the idempotency keys recorded longer than age ago and
	// returns how many; a store whose keys expire by themselves returns 0.
	PurgeIdempotencyKeys(ctx context.Context, age time.Duration) (int, error)
	// ListOrders returns up to limit orders of customerID, newest first (by CreatedAt; ties in an
	// order of the store's choosing), starting after cursor ("" for the first page), and the
	// cursor of the next page ("" when there is none). A cursor it did not hand out returns
	// ErrInvalidCursor.
	ListOrders(ctx context.Context, customerID string, limit int, cursor string) ([]domain.Order, string, error)
	outbox.Store
	// Ping reports whether the store can be reached.
	Ping(ctx context.Context) error
}

// App runs order-service's use cases.
type App struct {
	repo           Repository
	inventoryTopic string
	statusTopic    string
	notify         func()
	now            func() time.Time
	observer       Observer
	// inFlight counts orders accepted and not yet terminal (LimitInFlight).
	inFlight *inflight.Gate
	// writes counts the store writes that change CountInFlight's answer (RecountInFlight).
	writes countingWrites
	// recent holds the orders this process stored last, so apply skips the read.
	recent *recentOrders
	// keys holds the idempotency keys of the orders this process accepted last (refuse).
	keys newest[IdempotencyKey]
	// watch hands stored orders to FollowOrder.
	watch watchers
}

// New returns the use cases over repo. ORDER_CREATE goes to inventoryTopic; notify is called
// after outbox records were committed (outbox.Relay.Notify).
func New(repo Repository, inventoryTopic string, notify func()) *App {
	if notify == nil {
		notify = func() {}
	}
	return &App{repo: repo, inventoryTopic: inventoryTopic, statusTopic: config.DefaultTopics.OrderStatus, notify: notify, now: time.Now, observer: noObserver{}, inFlight: &inflight.Gate{}, recent: newRecentOrders(recentSize), keys: newNewest[IdempotencyKey](recentKeysSize)}
}
