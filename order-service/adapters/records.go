// Package adapters holds order-service's stores: DynamoDB in production, SQLite for the
// in-process sandbox. Both implement app.Repository with the same semantics; repository_test.go
// runs one suite against each.
package adapters

import (
	"time"

	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
)

// itemRecord and historyRecord are how both stores keep an order's lists (JSON in SQLite, a
// DynamoDB list of maps).
type itemRecord struct {
	SKU      string `json:"sku" dynamodbav:"sku"`
	Quantity int    `json:"quantity" dynamodbav:"quantity"`
}

type historyRecord struct {
	EventID string    `json:"eventId" dynamodbav:"eventId"`
	Type    string    `json:"type" dynamodbav:"type"`
	At      time.Time `json:"at" dynamodbav:"at"`
	Applied bool      `json:"applied" dynamodbav:"applied"`
}

func toItemRecords(items []domain.Item) []itemRecord {
	out := make([]itemRecord, len(items))
	for i, it := range items {
		out[i] = itemRecord{SKU: it.SKU, Quantity: it.Quantity}
	}
	return out
}

func fromItemRecords(items []itemRecord) []domain.Item {
	out := make([]domain.Item, len(items))
	for i, it := range items {
		out[i] = domain.Item{SKU: it.SKU, Quantity: it.Quantity}
	}
	return out
}

func toHistoryRecords(history []domain.HistoryEntry) []historyRecord {
	out := make([]historyRecord, len(history))
	for i, h := range history {
		out[i] = historyRecord{EventID: h.EventID, Type: string(h.Type), At: h.At.UTC(), Applied: h.Applied}
	}
	return out
}

func fromHistoryRecords(history []historyRecord) []domain.HistoryEntry {
	out := make([]domain.HistoryEntry, len(history))
	for i, h := range history {
		out[i] = domain.HistoryEntry{EventID: h.EventID, Type: event.Type(h.Type), At: h.At.UTC(), Applied: h.Applied}
	}
	return out
}

// timeFormat keeps nanoseconds so a stored time reads back equal.
const timeFormat = time.RFC3339Nano
