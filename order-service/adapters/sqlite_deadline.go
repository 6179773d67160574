package adapters

import (
	"context"
	"strings"
	"time"

	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/sqldb"
	"github.com/edmshop/edm-shop/platform/telemetry"
)

// DueOrders implements app.Repository with the partial index orders_in_flight: it reads only
// the orders still PENDING or RESERVED.
func (r *SQLiteRepository) DueOrders(ctx context.Context, createdBefore time.Time, limit int) (_ []string, err error) {
	ctx, span := telemetry.StartStoreSpan(ctx, "sqlite", "DueOrders")
	defer func() { telemetry.EndSpan(span, err) }()
	rows, err := r.store.Reads.QueryContext(ctx, `SELECT transaction_id FROM orders
		WHERE status IN ('PENDING', 'RESERVED') AND julianday(created_at) <= julianday(?)
		ORDER BY julianday(created_at) LIMIT ?`, createdBefore.UTC().Format(timeFormat), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// UpdateOrderWithEvents implements app.Repository: the order over its version read and the
// messages in the outbox, in one transaction.
func (r *SQLiteRepository) UpdateOrderWithEvents(ctx context.Context, o domain.Order, msgs []kafka.Message) (err error) {
	for i := range msgs {
		msgs[i] = kafka.StampTrace(ctx, msgs[i])
	}
	ctx, span := telemetry.StartStoreSpan(ctx, "sqlite", "UpdateOrderWithEvents")
	defer func() { telemetry.EndSpan(span, err) }()
	cols, args, err := orderColumns(o, o.Version+1)
	if err != nil {
		return err
	}
	set := make([]string, 0, len(cols))
	for _, c := range cols[1:] {
		set = append(set, c+" = ?")
	}
	args = append(args[1:], o.TransactionID, o.Version)
	now := time.Now().UTC().Format(timeFormat)
	return r.store.Writer.Do(ctx, func(ctx context.Context, tx sqldb.Querier) error {
		res, err := tx.ExecContext(ctx, `UPDATE orders SET `+strings.Join(set, ", ")+` WHERE transaction_id = ? AND version = ?`, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = app.ErrConflict
			}
			return err
		}
		for _, m := range msgs {
			e := m.Event
			if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (id, topic, event_key, event_id, event_type, source, event_time, data, created_at, trace_parent, trace_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				outboxID(m), m.Topic, e.Key, e.ID, string(e.Type), e.Source, e.Time.UTC().Format(timeFormat), string(e.Data), now, m.TraceParent, m.TraceState); err != nil {
				return err
			}
		}
		return nil
	})
}

// outboxID keys an outbox record: one event may go to several topics (ORDER_EXPIRED goes to
// inventory and payment), each its own record.
func outboxID(m kafka.Message) string { return m.Event.ID + "@" + m.Topic }
