package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// OnOrderCreated handles ORDER_CREATE: it reserves every item of the order or none. Reserved,
// it emits ITEM_RESERVED, priced by inventory, to the payment and order topics; otherwise
// OUT_OF_STOCK with the reason (out of stock, unknown SKU, mixed currencies) to the order topic.
// A redelivered event changes nothing.
func (a *App) OnOrderCreated(ctx context.Context, e event.Event) error {
	order, err := event.Decode[event.OrderCreate](e)
	if err != nil {
		return err
	}
	if err := checkIDs(e.ID, order.TransactionID); err != nil {
		return err
	}
	items := make([]domain.Item, len(order.Items))
	skus := make([]string, len(order.Items))
	for i, it := range order.Items {
		items[i] = domain.Item{SKU: it.SKU, Quantity: it.Quantity}
		skus[i] = it.SKU
	}
	applied, err := a.repo.Reserve(ctx, e.ID, order.TransactionID, skus, func(products map[string]domain.Product) ([]domain.Line, []kafka.Message, error) {
		reservation, err := domain.Reserve(products, items)
		var rejection *domain.Rejection
		if errors.As(err, &rejection) {
			out, err := a.stockRejected(order.TransactionID, rejection)
			return nil, out, err
		}
		if err != nil {
			// No items or a non-positive quantity, which a valid payload never has.
			return nil, nil, fmt.Errorf("%w: order %s: %v", event.ErrInvalid, order.TransactionID, err)
		}
		out, err := a.itemsReserved(order, reservation)
		return reservation.Lines, out, err
	})
	return a.stored(ctx, applied, err)
}

func (a *App) itemsReserved(order event.OrderCreate, r domain.Reservation) ([]kafka.Message, error) {
	payload := event.ItemReserved{
		TransactionID: order.TransactionID,
		CustomerID:    order.CustomerID,
		Amount:        r.Amount,
		Currency:      r.Currency,
		PaymentMethod: order.PaymentMethod,
	}
	for _, l := range r.Lines {
		payload.Items = append(payload.Items, event.PricedItem{SKU: l.SKU, Quantity: l.Quantity, UnitPrice: l.UnitPrice})
	}
	e, err := event.New(event.TypeItemReserved, Source, order.TransactionID, payload)
	if err != nil {
		return nil, err
	}
	return []kafka.Message{{Topic: a.topics.Payment, Event: e}, {Topic: a.topics.Order, Event: e}}, nil
}

func (a *App) stockRejected(transactionID string, r *domain.Rejection) ([]kafka.Message, error) {
	reason := event.ReasonOutOfStock
	switch r.Reason {
	case domain.UnknownSKU:
		reason = event.ReasonUnknownSKU
	case domain.MixedCurrency:
		reason = event.ReasonMixedCurrency
	}
	e, err := event.New(event.TypeOutOfStock, Source, transactionID, event.OutOfStock{TransactionID: transactionID, Reason: reason, SKU: r.SKU})
	if err != nil {
		return nil, err
	}
	return []kafka.Message{{Topic: a.topics.Order, Event: e}}, nil
}
