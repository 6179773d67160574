package adapters

import (
	"context"
	"time"

	"github.com/edmshop/edm-shop/platform/outbox"
	"github.com/edmshop/edm-shop/platform/sqldb"
)

var _ outbox.Parker = (*SQLiteRepository)(nil)

// ParkOutbox implements outbox.Parker: it moves the record to outbox_parked with the reason.
func (r *SQLiteRepository) ParkOutbox(ctx context.Context, id, reason string) error {
	return r.store.Writer.Do(ctx, func(ctx context.Context, tx sqldb.Querier) error {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO outbox_parked (id, topic, event_key, event_id, event_type, source, event_time, data, created_at, trace_parent, trace_state, reason, parked_at)
		SELECT id, topic, event_key, event_id, event_type, source, event_time, data, created_at, trace_parent, trace_state, ?, ? FROM outbox WHERE id = ?`,
			reason, time.Now().UTC().Format(timeFormat), id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE id = ?`, id)
		return err
	})
}

// ParkedOutbox returns the parked records' ids and reasons, for operators and tests.
func (r *SQLiteRepository) ParkedOutbox(ctx context.Context) (map[string]string, error) {
	rows, err := r.store.DB.QueryContext(ctx, `SELECT id, reason FROM outbox_parked`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, reason string
		if err := rows.Scan(&id, &reason); err != nil {
			return nil, err
		}
		out[id] = reason
	}
	return out, rows.Err()
}
