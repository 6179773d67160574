package adapters

import (
	"context"
	"database/sql"
	"time"

	"github.com/edmshop/edm-shop/platform/kafka"
)

// sqlExecer is what *sql.DB and *sql.Tx share, so one statement can run alone or inside a
// transaction.
type sqlExecer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// stampTraces stamps the caller's trace context on every message (kafka.StampTrace).
func stampTraces(ctx context.Context, msgs []kafka.Message) []kafka.Message {
	if len(msgs) == 0 {
		return nil
	}
	out := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		out[i] = kafka.StampTrace(ctx, m)
	}
	return out
}

// insertOutbox stores msgs in the outbox inside tx. A message whose event is already there (the
// same ce_id) is not stored twice.
func insertOutbox(ctx context.Context, tx sqlExecer, msgs []kafka.Message) error {
	now := time.Now().UTC().Format(timeFormat)
	for _, msg := range msgs {
		e := msg.Event
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (id, topic, event_key, event_id, event_type, source, event_time, data, created_at, trace_parent, trace_state)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			e.ID, msg.Topic, e.Key, e.ID, string(e.Type), e.Source, e.Time.UTC().Format(timeFormat), string(e.Data), now, msg.TraceParent, msg.TraceState); err != nil {
			return err
		}
	}
	return nil
}
