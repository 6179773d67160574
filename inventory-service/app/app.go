// Package app holds inventory-service's use cases: one file per incoming event, plus the
// catalogue queries. It decides with package domain and leaves storage to a Repository.
package app

import (
	"context"
	"fmt"
	"time"

	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/outbox"
)

// Source is the ce_source of every event inventory-service publishes.
const Source = "/inventory-service"

// maxIDLength bounds ce_id and transactionId: the store's key columns hold 255 characters, and
// a longer id would fail the same way on every retry.
const maxIDLength = 255

// ReserveFunc decides an order inside the store's transaction. It gets the locked products of
// the requested SKUs (unknown SKUs are absent) and returns the lines to reserve (none to
// reserve nothing) and the messages to put in the outbox.
type ReserveFunc func(products map[string]domain.Product) (lines []domain.Line, out []kafka.Message, err error)

// ReleaseFunc decides a release inside the store's transaction. It gets the transaction's
// reservation lines (none if it has no reservation) and their status, and returns the messages
// to put in the outbox. The store releases the lines if they are active.
type ReleaseFunc func(lines []domain.Line, status domain.Status) (out []kafka.Message, err error)

// Repository stores the stock. Reserve and Release each run in one transaction that also
// records eventID as processed and stores the outgoing messages in the outbox; when eventID
// was processed before they change nothing and report false. Products are locked in SKU order.
type Repository interface {
	Reserve(ctx context.Context, eventID, transactionID string, skus []string, decide ReserveFunc) (applied bool, err error)
	Release(ctx context.Context, eventID, transactionID string, decide ReleaseFunc) (applied bool, err error)
	// Expire is Release for an expired order that also records the transaction's tombstone,
	// so that a later Reserve of it reserves nothing.
	Expire(ctx context.Context, eventID, transactionID string, decide ReleaseFunc) (applied bool, err error)
	// Products returns the catalogue sorted by SKU.
	Products(ctx context.Context) ([]domain.Product, error)
	// Product returns one product, or an error wrapping domain.ErrProductNotFound.
	Product(ctx context.Context, sku string) (domain.Product, error)
	Ping(ctx context.Context) error
	ProductAdmin
	// PurgeProcessed forgets the events processed longer than age ago and returns how many.
	PurgeProcessed(ctx context.Context, age time.Duration) (int, error)
	outbox.Store
}

// App runs the use cases.
type App struct {
	repo   Repository
	topics config.Topics
	notify func()
}

// New returns the use cases over repo. Events go to topics' Payment and Order topics; notify is
// called after a transaction stored outbox messages (outbox.Relay.Notify).
func New(repo Repository, topics config.Topics, notify func()) *App {
	return &App{repo: repo, topics: topics, notify: notify}
}

// Products returns the catalogue sorted by SKU.
func (a *App) Products(ctx context.Context) ([]domain.Product, error) { return a.repo.Products(ctx) }

// Product returns one product, or an error wrapping domain.ErrProductNotFound.
func (a *App) Product(ctx context.Context, sku string) (domain.Product, error) {
	return a.repo.Product(ctx, sku)
}

// checkIDs rejects ids the store cannot key on.
func checkIDs(eventID, transactionID string) error {
	if len(eventID) > maxIDLength || len(transactionID) > maxIDLength {
		return fmt.Errorf("%w: ce_id or transactionId longer than %d bytes", event.ErrInvalid, maxIDLength)
	}
	return nil
}

// stored ends an event handler: it wakes the outbox relay when the event changed the store, and
// marks the event a duplicate when its ce_id had been processed before.
func (a *App) stored(ctx context.Context, applied bool, err error) error {
	switch {
	case applied:
		a.notify()
	case err == nil:
		kafka.MarkDuplicate(ctx)
	}
	return err
}

// itemReleased is the ITEM_RELEASED that tells order-service the lines of txID went back to
// stock, and why.
func (a *App) itemReleased(txID, reason string, lines []domain.Line) ([]kafka.Message, error) {
	payload := event.ItemReleased{TransactionID: txID, Reason: reason}
	for _, l := range lines {
		payload.Items = append(payload.Items, event.Item{SKU: l.SKU, Quantity: l.Quantity})
	}
	released, err := event.New(event.TypeItemReleased, Source, txID, payload)
	if err != nil {
		return nil, err
	}
	return []kafka.Message{{Topic: a.topics.Order, Event: released}}, nil
}
