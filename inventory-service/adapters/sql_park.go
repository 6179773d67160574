package adapters

import (
	"context"
	"strconv"

	"github.com/edmshop/edm-shop/platform/outbox"
)

var _ outbox.Parker = (*SQLRepository)(nil)

// ParkOutbox implements outbox.Parker: it moves the record to outbox_parked with the reason.
func (r *SQLRepository) ParkOutbox(ctx context.Context, id, reason string) error {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return err
	}
	tx, err := r.db.BeginTx(ctx, r.dialect.txOptions)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, r.dialect.insertIgnore+` INTO outbox_parked (id, topic, message_key, event_id, event_type, source, event_time, payload, reason)
		SELECT id, topic, message_key, event_id, event_type, source, event_time, payload, ? FROM outbox WHERE id = ?`, reason, n); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE id = ?`, n); err != nil {
		return err
	}
	return tx.Commit()
}

// ParkedOutbox returns the parked records' ids and reasons, for operators and tests.
func (r *SQLRepository) ParkedOutbox(ctx context.Context) (map[string]string, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT id, reason FROM outbox_parked`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id int64
		var reason string
		if err := rows.Scan(&id, &reason); err != nil {
			return nil, err
		}
		out[strconv.FormatInt(id, 10)] = reason
	}
	return out, rows.Err()
}
