package app

import (
	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// PublishStatusTo sends ORDER_COMPLETED and ORDER_CANCELLED to topic (default order-status).
func (a *App) PublishStatusTo(topic string) { a.statusTopic = topic }

// statusMessages are the outbox messages that announce that o reached its terminal status:
// one ORDER_COMPLETED or ORDER_CANCELLED on the order-status topic. They are stored in the same
// write as the status change, so the announcement is neither lost nor made for a change that
// did not happen; its ce_id comes from the transactionId, so a relay that sends it again sends
// the same event.
func (a *App) statusMessages(o domain.Order) ([]kafka.Message, error) {
	typ, ok := event.OutcomeType(string(o.Status))
	if !ok {
		return nil, nil
	}
	items := make([]event.Item, len(o.Items))
	for i, it := range o.Items {
		items[i] = event.Item{SKU: it.SKU, Quantity: it.Quantity}
	}
	outcome := event.OrderOutcome{
		TransactionID: o.TransactionID, CustomerID: o.CustomerID, Status: string(o.Status), Items: items,
	}
	if o.Status == domain.StatusCancelled {
		outcome.Reason = o.Reason
	}
	if o.AmountKnown() {
		outcome.Amount, outcome.Currency = o.Amount, o.Currency
	}
	e, err := event.New(typ, Source, o.TransactionID, outcome)
	if err != nil {
		return nil, err
	}
	return []kafka.Message{{Topic: a.statusTopic, Event: e}}, nil
}
